"""The demo's derived data (boundaries, emissions, GDP) against the shared real data, and
the generated inputs against plausible ranges for subtropical central China."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from carbon_balance.demo import demo_inputs
from carbon_balance.demo.generate import DATA_FILES, data_path, demo_grid, make_demo_inputs
from carbon_balance.study import load_study

REPO = Path(__file__).parents[2]
SHARED = REPO.parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(),
                                  reason=f"shared real data not found at {SHARED}")
YEARS = (2005, 2010, 2015, 2020)
HUBEI_DIRECT = {429004: "Xiantao", 429005: "Qianjiang", 429006: "Tianmen"}


def _script():
    spec = importlib.util.spec_from_file_location("derive_demo_data",
                                                  REPO / "scripts" / "derive_demo_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- GCJ-02: published test vectors of googollee/eviltransform (go/transform_test.go) --
EVIL_VECTORS = [  # wgs lat, wgs lon, gcj lat, gcj lon
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),     # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),     # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),     # Beijing
]


def test_gcj02_forward_and_inverse_match_published_vectors():
    mod = _script()
    v = np.array(EVIL_VECTORS)
    dlon, dlat = mod._gcj_delta(v[:, 1], v[:, 0])
    np.testing.assert_allclose(v[:, 1] + dlon, v[:, 3], atol=1e-9)
    np.testing.assert_allclose(v[:, 0] + dlat, v[:, 2], atol=1e-9)
    wgs = mod.gcj02_to_wgs84(v[:, [3, 2]])
    np.testing.assert_allclose(wgs, v[:, [1, 0]], atol=1e-8)  # about 1 mm


# --- boundaries ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cities():
    import geopandas as gpd
    return gpd.read_file(data_path("boundaries"), layer="cities")


def test_cities_have_the_columns_and_three_agglomerations(cities):
    assert len(cities) == 31 and cities.adcode.is_unique
    assert {"adcode", "name_en", "name_zh", "province_en", "agglomeration"} <= set(cities.columns)
    assert cities.crs.to_epsg() == 4326
    sizes = cities.groupby("agglomeration").size().sort_values().tolist()
    assert sizes == [8, 10, 13]  # Chang-Zhu-Tan, Poyang Lake, Wuhan circle (data README)
    assert cities.is_valid.all()


@needs_shared
def test_cities_match_the_shared_boundaries(cities):
    import geopandas as gpd
    import libpysal
    shared = gpd.read_file(SHARED / "boundaries" / "mryrua_31_cities_wgs84_simplified.geojson")
    shared["adcode"] = shared["adcode"].astype(int)
    assert sorted(cities.adcode) == sorted(shared.adcode)
    merged = cities.merge(shared[["adcode", "name_en", "area_km2"]], on="adcode",
                          suffixes=("", "_shared"))
    assert (merged.name_en == merged.name_en_shared).all()
    # areas recomputed here (geodesic, WGS84 ellipsoid), not read from our own column
    geod = cities.crs.get_geod()
    ours = np.array([abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in merged.geometry])
    np.testing.assert_allclose(ours, merged.area_km2_shared, rtol=0.02)
    assert ours.sum() == pytest.approx(349_874, rel=0.005)  # whole cities, data README
    # coverage simplification kept every shared edge: the same queen neighbours
    w_ours = libpysal.weights.Queen.from_dataframe(cities.sort_values("adcode"), use_index=False)
    w_shared = libpysal.weights.Queen.from_dataframe(shared.sort_values("adcode"), use_index=False)
    as_sets = lambda w: {k: set(v) for k, v in w.neighbors.items()}  # noqa: E731
    assert as_sets(w_ours) == as_sets(w_shared) and not w_ours.islands


# --- emissions -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ceads():
    return pd.read_csv(data_path("emissions"))


def test_ceads_city_totals_equal_the_published_figures(ceads):
    # MRYRUA totals and Wuhan, Mt CO2 (../shared/data/README.md, METHOD.md section 7)
    totals = {"2005": 371.7, "2010": 558.1, "2015": 635.6, "2017": 689.7}
    for year, value in totals.items():
        assert ceads[year].sum() == pytest.approx(value, abs=0.05)
    wuhan = ceads.set_index("name_en").loc["Wuhan"]
    for year, value in {"2005": 54.10, "2010": 80.40, "2015": 83.24, "2017": 89.07}.items():
        assert wuhan[year] == pytest.approx(value, abs=0.005)
    assert len(ceads) == 31 and [str(y) for y in range(1997, 2018)] == list(ceads.columns[2:])


@needs_shared
def test_ceads_cities_equal_the_shared_city_table(ceads):
    shared = pd.read_csv(SHARED / "ceads" / "mryrua_city_co2_Mt_1997_2017.csv")
    shared["name_en"] = (shared.city_en.str.removesuffix(" City")
                         .str.replace("E'zhou", "Ezhou"))
    years = [str(y) for y in range(1997, 2018)]
    merged = ceads.merge(shared, on="name_en", suffixes=("", "_shared"), validate="1:1")
    assert len(merged) == 31
    for y in years:
        np.testing.assert_allclose(merged[y], merged[f"{y}_shared"], atol=1e-4)


# --- GDP -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gdp():
    return pd.read_csv(data_path("gdp"))


#: The city-years the GDP source leaves empty: the ten Jiangxi cities (adcode 36xxxx) in
#: 2017 and 2018 (checked in the source by hand); left out of the demo table.
SOURCE_GAPS = {(a, y) for a in (360100, 360200, 360300, 360400, 360500, 360600, 360800,
                                360900, 361000, 361100) for y in (2017, 2018)}


def test_gdp_has_2000_to_2021_for_31_cities_with_exactly_three_estimated(gdp):
    # 31 cities x 22 years, less the 20 empty city-years of the source
    assert len(gdp) == 31 * 22 - 20
    have = set(zip(gdp.adcode, gdp.year))
    assert not have & SOURCE_GAPS
    assert all(set(years) | {y for a, y in SOURCE_GAPS if a == adcode} == set(range(2000, 2022))
               for adcode, years in gdp.groupby("adcode").year.apply(tuple).items())
    flagged = gdp[gdp.gdp_estimated]
    assert set(flagged.adcode) == set(HUBEI_DIRECT) and len(flagged) == 3 * 22
    assert (gdp.gdp_1e8_yuan > 0).all()
    # the study's four years are complete: the default demo estimates only the three cities
    four = gdp[gdp.year.isin(YEARS)]
    assert len(four) == 31 * 4 and four.gdp_estimated.sum() == 12


@needs_shared
def test_gdp_reported_values_and_the_estimation_rule(gdp):
    src = pd.read_csv(SHARED / "gdp" / "mryrua_city_gdp_1e8yuan_2000_2021.csv").set_index("Ctnm_id")
    reported = gdp[~gdp.gdp_estimated]
    for row in reported.itertuples():
        assert row.gdp_1e8_yuan == pytest.approx(src.loc[row.adcode, str(row.year)], abs=1e-3)
    # the rule of SOURCES.md, recomputed by hand for Xiantao 2015 from the source files:
    # CE_Xiantao,2015 x sum(GDP_ref,2015) / sum(CE_ref,2015)
    ref = [420200, 420700, 421100, 420900, 421200, 420600, 420500, 421000, 420800]
    ce = pd.read_csv(data_path("emissions")).set_index("adcode")
    expected = 4.883843 * src.loc[ref, "2015"].sum() / ce.loc[ref, "2015"].sum()
    got = gdp.set_index(["adcode", "year"]).loc[(429004, 2015), "gdp_1e8_yuan"]
    assert got == pytest.approx(expected, rel=1e-4)
    assert 300 < got < 700  # same order as the Hubei plain cities around it
    # after the CEADs years: the 2017 estimate grown like the reference cities' GDP
    ce2017 = ce.loc[429004, "2017"]
    e2017 = ce2017 * src.loc[ref, "2017"].sum() / ce.loc[ref, "2017"].sum()
    e2021 = e2017 * src.loc[ref, "2021"].sum() / src.loc[ref, "2017"].sum()
    assert gdp.set_index(["adcode", "year"]).loc[(429004, 2021), "gdp_1e8_yuan"] == \
        pytest.approx(e2021, rel=1e-4)


# --- land cover ----------------------------------------------------------------------
@needs_shared
def test_landcover_equals_the_shared_clip():
    from rasterio.windows import from_bounds
    shared = SHARED / "landcover" / "MCD12C1_2019_IGBP_0p05deg_108-121E_24-35N.tif"
    with rasterio.open(data_path("landcover")) as ours, rasterio.open(shared) as ref:
        assert ours.crs.to_epsg() == 4326 and ours.dtypes[0] == "uint8" and ours.nodata == 255
        assert ours.res == pytest.approx((0.05, 0.05))
        window = from_bounds(*ours.bounds, transform=ref.transform)
        np.testing.assert_array_equal(ours.read(1), ref.read(1, window=window))


def test_package_data_is_small():
    folder = data_path("sources").parent
    assert sum(f.stat().st_size for f in folder.iterdir()) < 3e6
    assert all(data_path(k).exists() for k in DATA_FILES)


# --- generated inputs ----------------------------------------------------------------
@pytest.fixture(scope="module")
def coarse_study(tmp_path_factory):
    return make_demo_inputs(tmp_path_factory.mktemp("demo"), resolution=0.1)


def _read(study, name, year):
    with rasterio.open(study.parent / name.format(year=year)) as src:
        assert src.count == 12 and src.crs.to_epsg() == 4326
        assert src.res == pytest.approx((0.1, 0.1))
        assert src.tags().get("generated") == "true"
        return src.read().astype("float64"), src


def test_the_study_file_validates_and_says_generated(coarse_study):
    study = load_study(coarse_study)
    assert study.study.years == list(YEARS)
    assert study.study.generated_inputs and "GENERATED" in study.study.generated_note
    assert study.inputs.temperature.units == "0.1 degC"
    assert study.inputs.radiation.units == "W/m2"
    assert study.inputs.ndvi.scale == 0.0001
    assert study.inputs.vegetation.classes == "modis-igbp"
    assert study.emissions.fill == "arima" and study.gdp.units == "1e8 yuan"
    for name in ("ndvi", "temperature", "precipitation", "radiation", "vegetation"):
        for year in YEARS:
            assert all(p.exists() for p in study.input_paths(name, year))
    assert study.resolve(study.units.path).exists()


def test_generated_grid_covers_the_cities_and_lies_inside_the_land_cover(coarse_study, cities):
    _, src = _read(coarse_study, "ndvi/ndvi_{year}.tif", 2005)
    xmin, ymin, xmax, ymax = cities.total_bounds
    b = src.bounds
    assert b.left <= xmin and b.bottom <= ymin and b.right >= xmax and b.top >= ymax
    with rasterio.open(data_path("landcover")) as lc:
        assert lc.bounds.left <= b.left and lc.bounds.bottom <= b.bottom
        assert lc.bounds.right >= b.right and lc.bounds.top >= b.top


def test_generated_temperature_is_plausible(coarse_study):
    raw, src = _read(coarse_study, "climate/tmp_{year}.tif", 2015)
    assert src.dtypes[0] == "int16"
    t = raw / 10  # 0.1 degC -> degC
    region = t.mean(axis=(1, 2))
    assert 0 < region[0] < 8 and 25 < region[6] < 31  # January ~4, July ~29 degC
    assert np.argmax(region) in (6, 7) and np.argmin(region) in (0, 1, 11)
    assert -15 < t.min() and t.max() < 36
    # the north is colder than the south in January
    assert t[0, : t.shape[1] // 4].mean() < t[0, -t.shape[1] // 4:].mean()


def test_generated_precipitation_is_plausible(coarse_study):
    for year in YEARS:
        p, _ = _read(coarse_study, "climate/pre_{year}.tif", year)
        assert (p >= 0).all()
        annual = p.sum(axis=0)
        assert 1200 < np.median(annual) < 1900
        assert np.percentile(annual, 1) > 900 and np.percentile(annual, 99) < 2600
        monthly = p.mean(axis=(1, 2))
        assert monthly[4:7].mean() > 2 * monthly[[0, 1, 11]].mean()  # summer peak


def test_generated_radiation_is_plausible(coarse_study):
    w, _ = _read(coarse_study, "climate/sol_{year}.tif", 2010)
    assert 50 < w.min() and w.max() < 260  # W m-2, monthly mean flux
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[:, None, None]
    annual = (w * days * 0.0864).sum(axis=0)  # MJ m-2 yr-1
    assert 3500 < annual.mean() < 5200  # station values of central China ~4,000-4,700
    assert w[6].mean() > 1.4 * w[0].mean()


def test_generated_ndvi_is_plausible(coarse_study):
    raw, src = _read(coarse_study, "ndvi/ndvi_{year}.tif", 2005)
    assert src.dtypes[0] == "int16"
    ndvi = raw * 1e-4
    assert -0.3 <= ndvi.min() and ndvi.max() <= 0.95
    assert 0.3 < ndvi.mean() < 0.8
    assert ndvi[6].mean() > ndvi[0].mean() + 0.1  # green summer
    later, _ = _read(coarse_study, "ndvi/ndvi_{year}.tif", 2020)
    assert later.mean() * 1e-4 > ndvi.mean()  # slight greening


def test_generation_is_deterministic(coarse_study, tmp_path):
    again = make_demo_inputs(tmp_path, resolution=0.1)
    a, _ = _read(coarse_study, "climate/pre_{year}.tif", 2020)
    b, _ = _read(again, "climate/pre_{year}.tif", 2020)
    np.testing.assert_array_equal(a, b)
    other = make_demo_inputs(tmp_path / "other", resolution=0.1, seed=1)
    c, _ = _read(other, "climate/pre_{year}.tif", 2020)
    assert not np.array_equal(a, c)


def test_demo_inputs_are_generated_once_and_reused(tmp_path):
    study = demo_inputs(tmp_path / "cache", resolution=0.1)
    stamp = (study.parent / "ndvi" / "ndvi_2005.tif").stat().st_mtime_ns
    assert demo_inputs(tmp_path / "cache", resolution=0.1) == study
    assert (study.parent / "ndvi" / "ndvi_2005.tif").stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob(".cache.partial-*"))


def test_casa_on_the_demo_gives_plausible_city_npp(coarse_study, cities):
    """METHOD.md section 7: vegetated NPP 400-1,100 and Rh 300-450 g C m-2 yr-1 per city."""
    casa = pytest.importorskip("carbon_balance.casa")
    from rasterio.features import rasterize
    from carbon_balance.demo.generate import _sample_raster

    transform, shape, lon, lat = demo_grid(0.1)
    lc = _sample_raster(data_path("landcover"), lon, lat, bilinear=False).astype(int)
    zones = rasterize([(g, i + 1) for i, g in enumerate(cities.geometry)], out_shape=shape,
                      transform=transform)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[:, None, None]
    for year in (2005, 2020):
        ndvi = _read(coarse_study, "ndvi/ndvi_{year}.tif", year)[0] * 1e-4
        t = _read(coarse_study, "climate/tmp_{year}.tif", year)[0] / 10
        p = _read(coarse_study, "climate/pre_{year}.tif", year)[0]
        sol = _read(coarse_study, "climate/sol_{year}.tif", year)[0] * days * 0.0864
        out = casa.annual_carbon(ndvi, t, p, sol, lc, classes="modis-igbp")
        vegetated = out["npp"] > 0
        for i in range(len(cities)):
            m = (zones == i + 1) & vegetated
            assert 400 <= out["npp"][m].mean() <= 1100, (year, cities.name_en[i])
            assert 300 <= out["rh"][m].mean() <= 450, (year, cities.name_en[i])


def test_run_demo_runs_the_pipeline_on_the_cached_study(tmp_path, monkeypatch):
    """The wiring only: the pipeline itself is tested elsewhere, so a stand-in records
    the call (and the cache folder follows XDG_CACHE_HOME)."""
    import sys
    import types

    from carbon_balance import demo

    calls = []
    fake = types.ModuleType("carbon_balance.pipeline")
    fake.run_study = lambda study, out, **kw: calls.append((Path(study), Path(out), kw))
    monkeypatch.setitem(sys.modules, "carbon_balance.pipeline", fake)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert demo.demo_cache_dir().parent == tmp_path / "xdg" / "carbon-balance"
    asked = []

    def fake_inputs(inputs=None, *, years):
        asked.append(years)
        return tmp_path / "in" / "study.toml"

    monkeypatch.setattr(demo, "demo_inputs", fake_inputs)
    out = demo.run_demo(tmp_path / "results", overwrite=False)
    assert asked == [(2005, 2010, 2015, 2020)]      # the study's four years by default
    assert out == tmp_path / "results"
    assert calls == [(tmp_path / "in" / "study.toml", tmp_path / "results",
                      {"report": True, "overwrite": False,
                       "uncertainty_draws": demo.DEMO_DRAWS})]
