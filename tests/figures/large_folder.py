"""A GENERATED output folder at the scale of a county study: 229 units, 20 years.

The units are Voronoi cells of random points inside an ellipse (shaped like counties,
not squares), in three groups; NEP, emissions and GDP are random but consistent with
each other (CB = CE - CS, CBI = CE / CS, ECC and ESC from the shares, zones by METHOD.md
section 5). Nothing here is real data: it exists to check that every figure and the
report stay legible with many units and many years. The last three years' emissions are
marked estimated (arima), as a gap-filled inventory would be.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

N_UNITS = 229
YEARS = tuple(range(2001, 2021))
GROUPS = ("North basin", "Central plain", "Southern hills")
C_TO_CO2 = 44.0 / 12.0


def polygons(n: int = N_UNITS, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    area = shapely.affinity.scale(Point(113.0, 28.5).buffer(1.0, quad_segs=32), 5.0, 3.4)
    pts = []
    while len(pts) < n:
        p = Point(rng.uniform(108, 118), rng.uniform(25, 32))
        if area.contains(p):
            pts.append(p)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=area.envelope)
    geoms = [c.intersection(area) for c in cells.geoms]
    # Voronoi cells come in arbitrary order: match each to its seed point
    order = [next(i for i, g in enumerate(geoms) if g.contains(p)) for p in pts]
    geoms = [geoms[i] for i in order]
    return gpd.GeoDataFrame({"unit_id": [f"{430000 + i}" for i in range(n)]},
                            geometry=geoms, crs="EPSG:4326")


def _zone(cs, ce, esc, ecc):
    if cs > ce:
        return "carbon sink functional zone" if esc > 1 else "unclassified"
    if esc > 1:
        return "low-carbon economic zone" if ecc > 1 else "low-carbon optimization zone"
    return "carbon intensity control zone" if ecc > 1 else "high-carbon optimization zone"


def units_table(geo: gpd.GeoDataFrame, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(geo)
    area = geo.to_crs("EPSG:6933").area.to_numpy() / 1e6
    cx = geo.geometry.centroid.x.to_numpy()
    group = np.where(cx < 111, GROUPS[0], np.where(cx < 115, GROUPS[1], GROUPS[2]))
    base_nep = rng.uniform(40, 320, n)
    base_ce = rng.lognormal(np.log(3e6), 0.9, n)
    base_gdp = base_ce * rng.lognormal(np.log(8000), 0.5, n)
    rows = []
    for k, year in enumerate(YEARS):
        nep = base_nep + rng.normal(0, 25, n) - 2 * k
        veg = area * 0.6
        cs_c = nep * veg
        ce = base_ce * (1 + 0.04 * k) * rng.lognormal(0, 0.05, n)
        gdp = base_gdp * (1 + 0.08 * k)
        t = pd.DataFrame({"unit_id": geo["unit_id"], "name": [f"County {i:03d}" for i in range(n)],
                          "group": group, "year": year, "area_km2": area.round(2),
                          "npp_mean_g_c_m2": (nep + 420).round(3),
                          "nep_mean_g_c_m2": nep.round(3), "cs_t_c": cs_c.round(3),
                          "cs_t_co2": (cs_c * C_TO_CO2).round(3), "ce_t_co2": ce.round(3),
                          "ce_estimated": year >= YEARS[-3], "gdp_yuan": gdp.round(0),
                          "vegetated_area_km2": veg.round(2)})
        t["cb_t"] = (t["ce_t_co2"] - t["cs_t_co2"]).round(3)
        t["cbi"] = np.where(t["cs_t_co2"] > 0, t["ce_t_co2"] / t["cs_t_co2"], np.nan).round(4)
        t["ecc"] = ((t["gdp_yuan"] / t["gdp_yuan"].sum())
                    / (t["ce_t_co2"] / t["ce_t_co2"].sum())).round(4)
        t["esc"] = ((t["cs_t_co2"] / t["cs_t_co2"].sum())
                    / (t["ce_t_co2"] / t["ce_t_co2"].sum())).round(4)
        t["budget_state"] = np.where(t["cb_t"] > 0, "deficit", "surplus")
        t["zone"] = [_zone(*v) for v in zip(t["cs_t_co2"], t["ce_t_co2"], t["esc"], t["ecc"])]
        rows.append(t)
    t = pd.concat(rows, ignore_index=True)
    t["basis"] = "CO2"
    t["ce_method"] = np.where(t["ce_estimated"], "arima", "inventory")
    t["ce_low_t_co2"] = (t["ce_t_co2"] * np.where(t["ce_estimated"], 0.9, 1.0)).round(3)
    t["ce_high_t_co2"] = (t["ce_t_co2"] * np.where(t["ce_estimated"], 1.1, 1.0)).round(3)
    t["gdp_estimated"] = False
    t["zone_reason"] = ""
    return t


def _sums(t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    s = t.groupby(keys, as_index=False)[["area_km2", "cs_t_c", "cs_t_co2", "ce_t_co2",
                                          "gdp_yuan"]].sum()
    s["cb_t"] = (s["ce_t_co2"] - s["cs_t_co2"]).round(3)
    s["cbi"] = (s["ce_t_co2"] / s["cs_t_co2"]).round(4)
    return s


def _write_nep(folder: Path, year: int, k: int) -> None:
    import rasterio
    from rasterio.transform import from_origin

    y, x = np.mgrid[0:140, 0:200]
    nep = (150 + 120 * np.sin(x / 17) * np.cos(y / 23) - 3 * k).astype("float32")
    nep[60:70, 90:110] = -120  # a source area (a city)
    path = folder / "grids" / str(year) / "nep.tif"
    path.parent.mkdir(parents=True)
    with rasterio.open(path, "w", driver="GTiff", width=200, height=140, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999,
                       transform=from_origin(108, 32, 0.05, 0.05)) as dst:
        dst.write(nep, 1)


def write_large_folder(folder: Path, *, permutations: int = 99) -> Path:
    """Write the generated 229-unit, 20-year output folder into ``folder``."""
    from carbon_balance.analysis.spatial import autocorrelation_tables
    from carbon_balance.outputs import write_manifest

    folder.mkdir(parents=True, exist_ok=True)
    tables = folder / "tables"
    tables.mkdir()
    geo = polygons()
    units = units_table(geo)
    units.to_csv(tables / "units.csv", index=False)
    for year in YEARS:
        geo.merge(units[units["year"] == year], on="unit_id").to_file(
            folder / "units.gpkg", layer=f"units_{year}", driver="GPKG")
    _sums(units, ["year"]).to_csv(tables / "region.csv", index=False)
    _sums(units, ["group", "year"]).to_csv(tables / "groups.csv", index=False)
    a = units[units["year"] == YEARS[0]].set_index("unit_id")
    b = units[units["year"] == YEARS[-1]].set_index("unit_id")
    rows = []
    for q in ("ce_t_co2", "cs_t_co2", "cb_t", "cbi"):
        for u in a.index:
            v1, v2 = a.at[u, q], b.at[u, q]
            rows.append({"level": "unit", "unit_id": u, "name": a.at[u, "name"], "quantity": q,
                         "year_from": YEARS[0], "year_to": YEARS[-1], "value_from": v1,
                         "value_to": v2, "change_percent": (v2 - v1) / abs(v1) * 100})
    pd.DataFrame(rows).to_csv(tables / "changes.csv", index=False)
    shares = (units.groupby(["year", "zone"], as_index=False)
              .agg(n_units=("unit_id", "size"), area_km2=("area_km2", "sum")))
    shares["share_percent"] = shares["area_km2"] / shares.groupby("year")[
        "area_km2"].transform("sum") * 100
    shares.to_csv(tables / "zone_shares.csv", index=False)
    trs = []
    for y0, y1 in zip(YEARS, YEARS[1:]):
        p = units[units["year"] == y0].set_index("unit_id")
        n = units[units["year"] == y1].set_index("unit_id")
        tr = (pd.DataFrame({"zone_from": p["zone"], "zone_to": n["zone"],
                            "area_km2": p["area_km2"]})
              .groupby(["zone_from", "zone_to"], as_index=False)
              .agg(n_units=("area_km2", "size"), area_km2=("area_km2", "sum")))
        tr.insert(0, "year_to", y1)
        tr.insert(0, "year_from", y0)
        trs.append(tr)
    pd.concat(trs).to_csv(tables / "zone_transitions.csv", index=False)
    pd.DataFrame({"method": ["arima", "naive"], "mape_percent": [9.4, 12.0], "n_units": N_UNITS,
                  "holdout_years": "2015-2017"}).to_csv(tables / "emissions_backtest.csv",
                                                        index=False)
    sg, sl = autocorrelation_tables(geo, units, permutations=permutations, seed=1)
    sg.to_csv(tables / "spatial_global.csv", index=False)
    sl.to_csv(tables / "spatial_local.csv", index=False)
    for k, year in enumerate(YEARS):
        _write_nep(folder, year, k)
    note = "every input of this folder is generated for a scale test"
    (folder / "study.toml").write_text(
        f'[study]\nname = "Generated county study"\nyears = {list(YEARS)}\n'
        f'generated_inputs = true\ngenerated_note = "{note}"\n', encoding="utf-8")
    params = {"study": {"name": "Generated county study", "years": list(YEARS),
                        "generated_inputs": True, "generated_note": note}}
    write_manifest(folder, command="generated", parameters=params, inputs=[])
    (folder / "manifest.json").write_text(
        json.dumps(json.loads((folder / "manifest.json").read_text()), indent=2) + "\n")
    return folder
