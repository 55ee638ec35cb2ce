"""The table half of ``run`` (account_study) on real boundaries, CEADs and GDP, with
generated (synthetic) NEP grids; and every units.csv number recomputed from its columns."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from carbon_balance.pipeline import account_study
from carbon_balance.study import load_study
from units_table_checks import assert_units_table_recomputable

DATA = Path(__file__).parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="../shared/data is absent")
CITIES = ["420100", "420200", "420700"]  # Wuhan, Huangshi, Ezhou


def _write(path, array, transform):
    prof = dict(driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
                dtype="float32", crs="EPSG:4326", transform=transform, nodata=-9999)
    with rasterio.open(path, "w", **prof) as ds:
        ds.write(array.astype("float32"), 1)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")  # compute every fit; leave ~/.cache alone
    tmp = tmp_path_factory.mktemp("acct")
    g = gpd.read_file(DATA / "boundaries" / "mryrua_31_cities_wgs84_simplified.geojson")
    g = g[g.adcode.astype(str).isin(CITIES)].copy()
    g["agglomeration"] = ["Wuhan", "Wuhan", "Other"]
    g.to_file(tmp / "cities.gpkg", driver="GPKG")
    (tmp / "study.toml").write_text(f"""
[study]
name = "test"
years = [2005, 2015, 2020]
generated_inputs = true
[units]
path = "cities.gpkg"
id = "adcode"
name = "name_en"
group = "agglomeration"
[emissions]
path = "{DATA / 'ceads' / 'ceads_county_co2_1997_2017.xlsx'}"
format = "ceads-county"
units = "Mt CO2"
fill = "arima"
[gdp]
path = "{DATA / 'gdp' / 'mryrua_city_gdp_1e8yuan_2000_2021.csv'}"
format = "wide"
id = "Ctnm_id"
units = "1e8 yuan"
""")
    study = load_study(tmp / "study.toml")
    tr = from_origin(113.0, 31.5, 0.05, 0.05)
    shape = (50, 60)
    rng = np.random.default_rng(1)  # generated NEP/NPP, not observations
    grids = {}
    for year in study.study.years:
        d = tmp / "grids" / str(year)
        d.mkdir(parents=True)
        npp = rng.uniform(400, 900, shape)
        npp[:, 28:32] = 0.0  # a non-vegetated strip, 114.4-114.6 E, through Wuhan
        nep = np.where(npp > 0, npp - 350.0, 0.0)
        _write(d / "npp.tif", npp, tr)
        _write(d / "nep.tif", nep, tr)
        grids[year] = {"npp": d / "npp.tif", "nep": d / "nep.tif"}
    out = tmp / "out"
    # the backtest of every method is covered in tests/accounting; naive keeps this fast
    account_study(study, out, grids, workers=1, backtest_methods=("naive",))
    mp.undo()
    return out


def test_tables_written(run_folder):
    for name in ("units", "groups", "region", "changes", "zone_shares", "zone_transitions",
                 "emissions", "emissions_backtest"):
        assert (run_folder / "tables" / f"{name}.csv").exists(), name
    layers = gpd.list_layers(run_folder / "units.gpkg")["name"].tolist()
    # a layer per year, one of all years (QGIS temporal controller), the QGIS styles
    assert sorted(layers) == ["layer_styles", "units", "units_2005", "units_2015", "units_2020"]
    styles = gpd.read_file(run_folder / "units.gpkg", layer="layer_styles")
    assert sorted(styles["f_table_name"]) == ["units", "units_2005", "units_2015", "units_2020"]


def test_2020_emissions_estimated_and_flagged(run_folder):
    u = pd.read_csv(run_folder / "tables" / "units.csv", dtype={"unit_id": str})
    est = u[u.year == 2020]
    assert est.ce_estimated.all() and not u[u.year < 2020].ce_estimated.any()
    assert est.ce_method.str.startswith("arima(").all()
    assert (est.ce_low_t_co2 < est.ce_t_co2).all() and (est.ce_t_co2 < est.ce_high_t_co2).all()
    # observed years are the CEADs city totals (README: Wuhan 54.10 Mt in 2005, 83.24 in 2015)
    wuhan = u[u.unit_id == "420100"].set_index("year")
    assert wuhan.at[2005, "ce_t_co2"] == pytest.approx(54.10e6, rel=1e-3)
    assert wuhan.at[2015, "ce_t_co2"] == pytest.approx(83.24e6, rel=1e-3)


def test_units_csv_recomputable_from_its_own_columns(run_folder):
    """Every number of units.csv follows from its columns by METHOD.md sections 3-5."""
    from carbon_balance.accounting.boundaries import load_units

    u = pd.read_csv(run_folder / "tables" / "units.csv", dtype={"unit_id": str})
    assert_units_table_recomputable(u)
    # areas are the polygons' geodesic areas; the generated grid covers these cities whole
    units = load_units(run_folder.parent / "cities.gpkg", id="adcode", name="name_en")
    assert np.allclose(u[u.year == 2005].area_km2.to_numpy(), units.area_km2.to_numpy())
    assert (u.vegetated_area_km2 <= u.area_km2 * (1 + 1e-5)).all()
    wuhan = u[u.unit_id == "420100"].iloc[0]
    assert wuhan.vegetated_area_km2 < 0.99 * wuhan.area_km2


def test_region_and_changes(run_folder):
    u = pd.read_csv(run_folder / "tables" / "units.csv", dtype={"unit_id": str})
    r = pd.read_csv(run_folder / "tables" / "region.csv").set_index("year")
    s = u.groupby("year")[["ce_t_co2", "cs_t_co2"]].sum()
    assert np.allclose(r.cbi, s.ce_t_co2 / s.cs_t_co2)
    ch = pd.read_csv(run_folder / "tables" / "changes.csv")
    row = ch[(ch.level == "region") & (ch.quantity == "ce_t_co2") & (ch.year_from == 2005)
             & (ch.year_to == 2015)].iloc[0]
    assert row.change_percent == pytest.approx((s.ce_t_co2[2015] / s.ce_t_co2[2005] - 1) * 100)
    sh = pd.read_csv(run_folder / "tables" / "zone_shares.csv")
    assert np.allclose(sh.groupby("year").share_percent.sum(), 100)


def test_centres_method_agrees_with_exact(run_folder, tmp_path):
    """The cell-centre dask path (``[accounting] method = "centres"``) matches the exact
    path within the boundary cells' share (generated grids, 0.05 deg)."""
    from carbon_balance.accounting.boundaries import load_units
    from carbon_balance.accounting.zonal import zonal_carbon

    units = load_units(run_folder.parent / "cities.gpkg", id="adcode", name="name_en")
    grids = {2005: {"npp": run_folder.parent / "grids" / "2005" / "npp.tif",
                    "nep": run_folder.parent / "grids" / "2005" / "nep.tif"}}
    exact = zonal_carbon(units, grids)
    chunked = zonal_carbon(units, grids, method="centres")
    assert chunked.cs_t_c.to_numpy() == pytest.approx(exact.cs_t_c.to_numpy(), rel=0.1)
    assert chunked.vegetated_area_km2.sum() == pytest.approx(exact.vegetated_area_km2.sum(), rel=0.05)
