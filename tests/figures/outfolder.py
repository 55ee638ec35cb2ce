"""A small fabricated output folder (docs/developing.md layout) for figure and report tests.

Nine 1-degree squares in a 3 x 3 grid, two groups, two years. The numbers are plausible
(NEP 100-300 g C m-2 yr-1, CE 5-40 Mt CO2) and consistent with each other (CB = CE - CS,
CBI = CE / CS, ECC and ESC from the shares, zones by METHOD.md section 5), written by
this module with plain numpy, not by the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

YEARS = (2005, 2010)
#: A unit name that must be escaped in HTML.
TRICKY_NAME = "<b>A&B</b>"
NAMES = ["Alpha", TRICKY_NAME, "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota"]
C_TO_CO2 = 44.0 / 12.0


def _zone(cs, ce, esc, ecc):
    if not (np.isfinite(cs) and np.isfinite(ce)):
        return "unclassified"
    if cs > ce:
        return "carbon sink functional zone" if esc > 1 else "unclassified"
    if esc > 1:
        return "low-carbon economic zone" if ecc > 1 else "low-carbon optimization zone"
    return "carbon intensity control zone" if ecc > 1 else "high-carbon optimization zone"


def units_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for year in YEARS:
        grow = 1.0 if year == YEARS[0] else 1.35
        for i in range(9):
            r, c = divmod(i, 3)
            area = round(10700.0 - 60 * r, 1)
            veg = round(area * (0.55 + 0.04 * c), 1)
            nep = 100.0 + 60 * r + 20 * c + rng.normal(0, 5)
            if i == 8 and year == YEARS[1]:
                nep = -20.0  # a net source: CS < 0, CBI undefined
            cs_c = nep * veg  # g m-2 x km2 -> t (1e6 m2 x 1e-6 t/g)
            ce = (5e6 + 4e6 * (2 - r) + 3e6 * (2 - c)) * grow
            if i == 6:
                ce = 0.9 * cs_c * C_TO_CO2  # a sink: CS > CE
            gdp = 1e11 * (1 + (2 - r) + 0.5 * c) * grow
            rows.append({"unit_id": f"42{i:02d}00", "name": NAMES[i],
                         "group": "North" if r < 2 else "South", "year": year,
                         "area_km2": area, "npp_mean_g_c_m2": round(nep + 420.0, 3),
                         "nep_mean_g_c_m2": round(nep, 3), "cs_t_c": round(cs_c, 3),
                         "cs_t_co2": round(cs_c * C_TO_CO2, 3), "ce_t_co2": round(ce, 3),
                         "ce_estimated": year == YEARS[1] and i < 3, "gdp_yuan": gdp,
                         "vegetated_area_km2": veg})
    t = pd.DataFrame(rows)
    out = []
    for year, g in t.groupby("year"):
        g = g.copy()
        g["cb_t"] = (g["ce_t_co2"] - g["cs_t_co2"]).round(3)
        g["cbi"] = np.where(g["cs_t_co2"] > 0, g["ce_t_co2"] / g["cs_t_co2"], np.nan).round(4)
        g["ecc"] = ((g["gdp_yuan"] / g["gdp_yuan"].sum())
                    / (g["ce_t_co2"] / g["ce_t_co2"].sum())).round(4)
        g["esc"] = ((g["cs_t_co2"] / g["cs_t_co2"].sum())
                    / (g["ce_t_co2"] / g["ce_t_co2"].sum())).round(4)
        g["budget_state"] = np.where(g["cb_t"] > 0, "deficit", "surplus")
        g["zone"] = [_zone(a, b, c, d) for a, b, c, d in
                     zip(g["cs_t_co2"], g["ce_t_co2"], g["esc"], g["ecc"])]
        out.append(g)
    t = pd.concat(out, ignore_index=True)
    t["basis"] = "CO2"
    t["ce_method"] = np.where(t["ce_estimated"], "arima", "inventory")
    t["ce_low_t_co2"] = (t["ce_t_co2"] * np.where(t["ce_estimated"], 0.9, 1.0)).round(3)
    t["ce_high_t_co2"] = (t["ce_t_co2"] * np.where(t["ce_estimated"], 1.1, 1.0)).round(3)
    t["gdp_estimated"] = t["unit_id"] == "420800"
    t["zone_reason"] = ""
    cols = ["unit_id", "name", "group", "year", "area_km2", "npp_mean_g_c_m2",
            "nep_mean_g_c_m2", "cs_t_c", "cs_t_co2", "ce_t_co2", "ce_estimated", "gdp_yuan",
            "cb_t", "cbi", "ecc", "esc", "budget_state", "zone", "basis", "ce_method",
            "ce_low_t_co2", "ce_high_t_co2", "gdp_estimated", "vegetated_area_km2",
            "zone_reason"]
    return t[cols]


def polygons() -> gpd.GeoDataFrame:
    geoms = [box(112 + c, 31 - r - 1, 113 + c, 31 - r) for r in range(3) for c in range(3)]
    return gpd.GeoDataFrame({"unit_id": [f"42{i:02d}00" for i in range(9)]},
                            geometry=geoms, crs="EPSG:4326")


def _sums(t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    s = t.groupby(keys, as_index=False)[["area_km2", "cs_t_c", "cs_t_co2", "ce_t_co2",
                                          "gdp_yuan"]].sum()
    s["cb_t"] = (s["ce_t_co2"] - s["cs_t_co2"]).round(3)
    s["cbi"] = (s["ce_t_co2"] / s["cs_t_co2"]).round(4)
    return s


def _write_nep(folder: Path, year: int) -> None:
    import rasterio
    from rasterio.transform import from_origin

    y, x = np.mgrid[0:60, 0:60]
    nep = (100 + 3 * y + np.sin(x / 5) * 40 + (year - 2005) * 2).astype("float32")
    nep[:4, :4] = -9999  # nodata corner
    nep[40:45, 10:20] = -50  # a small source area
    path = folder / "grids" / str(year) / "nep.tif"
    path.parent.mkdir(parents=True)
    with rasterio.open(path, "w", driver="GTiff", width=60, height=60, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999,
                       transform=from_origin(112, 31, 0.05, 0.05)) as dst:
        dst.write(nep, 1)


def write_output_folder(folder: Path, *, generated: bool = True, optional: bool = True) -> Path:
    """Write the fabricated folder; ``optional=False`` leaves out every optional table."""
    from carbon_balance.analysis.spatial import autocorrelation_tables
    from carbon_balance.outputs import write_manifest

    folder.mkdir(parents=True, exist_ok=True)
    tables = folder / "tables"
    tables.mkdir()
    units = units_table()
    units.to_csv(tables / "units.csv", index=False)
    geo = polygons()
    for year in YEARS:
        layer = geo.merge(units[units["year"] == year], on="unit_id")
        layer.to_file(folder / "units.gpkg", layer=f"units_{year}", driver="GPKG")
    region = _sums(units, ["year"])
    region.to_csv(tables / "region.csv", index=False)
    if optional:
        _sums(units, ["group", "year"]).to_csv(tables / "groups.csv", index=False)
        rows = []
        for q in ("ce_t_co2", "cs_t_co2", "cb_t", "cbi"):
            a = units[units["year"] == YEARS[0]].set_index("unit_id")
            b = units[units["year"] == YEARS[1]].set_index("unit_id")
            for u in a.index:
                v1, v2 = a.at[u, q], b.at[u, q]
                rows.append({"level": "unit", "unit_id": u, "name": a.at[u, "name"],
                             "quantity": q, "year_from": YEARS[0], "year_to": YEARS[1],
                             "value_from": v1, "value_to": v2,
                             "change_percent": round((v2 - v1) / abs(v1) * 100, 2)})
        pd.DataFrame(rows).to_csv(tables / "changes.csv", index=False)
        shares = (units.groupby(["year", "zone"], as_index=False)
                  .agg(n_units=("unit_id", "size"), area_km2=("area_km2", "sum")))
        shares["share_percent"] = (shares["area_km2"] / shares.groupby("year")["area_km2"]
                                   .transform("sum") * 100).round(2)
        shares.to_csv(tables / "zone_shares.csv", index=False)
        a = units[units["year"] == YEARS[0]].set_index("unit_id")
        b = units[units["year"] == YEARS[1]].set_index("unit_id")
        tr = (pd.DataFrame({"zone_from": a["zone"], "zone_to": b["zone"],
                            "area_km2": a["area_km2"]})
              .groupby(["zone_from", "zone_to"], as_index=False)
              .agg(n_units=("area_km2", "size"), area_km2=("area_km2", "sum")))
        tr.insert(0, "year_to", YEARS[1])
        tr.insert(0, "year_from", YEARS[0])
        tr.to_csv(tables / "zone_transitions.csv", index=False)
        em = units[["unit_id", "year", "ce_t_co2", "ce_low_t_co2", "ce_high_t_co2",
                    "ce_method", "ce_estimated"]]
        em.to_csv(tables / "emissions.csv", index=False)
        pd.DataFrame({"method": ["arima", "naive", "drift", "ets"],
                      "mape_percent": [13.1, 6.2, 8.4, 7.7], "n_units": 9,
                      "holdout_years": "2015-2017"}).to_csv(tables / "emissions_backtest.csv",
                                                            index=False)
        sg, sl = autocorrelation_tables(geo, units, permutations=99, seed=1)
        sg.to_csv(tables / "spatial_global.csv", index=False)
        sl.to_csv(tables / "spatial_local.csv", index=False)
        pd.DataFrame({"year": [2005, 2005], "code": [9, 10], "name": ["grassland", "cropland"],
                      "ndvi_min": [0.0812, 0.1033], "ndvi_max": [0.7912, 0.8301],
                      "n_pixels": [1200, 2400], "mode": "percentile"}).to_csv(
            tables / "ndvi_bounds.csv", index=False)
        for year in YEARS:
            _write_nep(folder, year)
    note = "NDVI and climate are generated (synthetic) for this test"
    study = ("[study]\nname = \"Test & study\"\nyears = [2005, 2010]\n"
             f"generated_inputs = {'true' if generated else 'false'}\n"
             f"generated_note = \"{note}\"\n\n[zoning]\nbasis = \"CO2\"\n")
    (folder / "study.toml").write_text(study, encoding="utf-8")
    fake_input = folder.parent / "inputs_ndvi_2005.tif"
    fake_input.write_bytes(b"not a real raster, only hashed")
    params = {"study": {"name": "Test & study", "years": list(YEARS),
                        "generated_inputs": generated, "generated_note": note},
              "zoning": {"basis": "CO2", "ecc_threshold": 1.0, "esc_threshold": 1.0}}
    write_manifest(folder, command="carbon-balance run study.toml --out x",
                   parameters=params, inputs=[fake_input])
    (folder / "manifest.json").write_text(
        json.dumps(json.loads((folder / "manifest.json").read_text()), indent=2) + "\n")
    return folder
