"""Exact coverage, ellipsoidal cell areas and zonal sums (METHOD.md section 3), by hand."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box

from carbon_balance.accounting import zonal
from carbon_balance.accounting.boundaries import geodesic_area_km2, load_units

DATA = Path(__file__).parents[3] / "shared" / "data"
BOUNDARIES = DATA / "boundaries" / "mryrua_31_cities_wgs84_simplified.geojson"


def _units(geoms, crs="EPSG:4326"):
    return gpd.GeoDataFrame({"unit_id": [str(i) for i in range(len(geoms))]}, geometry=geoms, crs=crs)


def test_coverage_of_polygon_cutting_cells():
    # 4 x 4 grid of 1-degree cells, origin (0, 4); box 0.5..2 x 0.5..2 cuts cells
    cov = zonal.coverage_fractions(_units([box(0.5, 0.5, 2, 2)]), (4, 4), from_origin(0, 4, 1, 1),
                                   "EPSG:4326")
    got = dict(zip(cov.cells.tolist(), cov.fractions.tolist()))
    # row 2 (y 1..2): col 0 half (x 0.5..1), col 1 whole; row 3 (y 0..1): quarter, half
    assert got == pytest.approx({8: 0.5, 9: 1.0, 12: 0.25, 13: 0.5})


def test_coverage_of_triangle():
    # triangle x + y <= 2 on a 2 x 2 grid of unit cells: lower-left cell whole, the two
    # cells on the diagonal half each, the upper-right cell not at all
    tri = Polygon([(0, 0), (2, 0), (0, 2)])
    cov = zonal.coverage_fractions(_units([tri]), (2, 2), from_origin(0, 2, 1, 1), "EPSG:4326")
    got = dict(zip(cov.cells.tolist(), cov.fractions.tolist()))
    assert got == pytest.approx({0: 0.5, 2: 1.0, 3: 0.5})


def test_geographic_cell_areas_sum_to_ellipsoid_surface():
    # WGS84 surface area 510,065,621.724 km2 (NIMA TR8350.2, 3rd ed., table 3.3)
    areas = zonal.cell_areas_m2((180, 360), from_origin(-180, 90, 1, 1), "EPSG:4326")
    assert areas.sum() / 1e6 == pytest.approx(510_065_621.724, rel=1e-9)
    assert np.allclose(areas[0], areas[0, 0])          # depends only on latitude
    assert areas[89, 0] > areas[0, 0] and np.allclose(areas[89], areas[90])  # symmetric


def test_projected_cell_areas_use_areal_scale():
    # equal-area (Albers) grid: areal scale 1, so every 1 km cell is 1 km2
    aea = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=WGS84 +units=m"
    a = zonal.cell_areas_m2((3, 3), from_origin(0, 3_000_000, 1000, 1000), aea)
    assert np.allclose(a, 1e6, rtol=1e-9)
    # ellipsoidal Mercator at 60 N: k = sqrt(1 - e2 sin2 phi) / cos phi, area = res2 / k2
    e2 = 0.0066943799901413165
    phi = np.radians(60.0)
    k = np.sqrt(1 - e2 * np.sin(phi) ** 2) / np.cos(phi)
    from pyproj import Transformer
    x, y = Transformer.from_crs(4326, 3395, always_xy=True).transform(0.0, 60.0)
    m = zonal.cell_areas_m2((1, 1), from_origin(x - 5, y + 5, 10, 10), "EPSG:3395")
    assert m[0, 0] == pytest.approx(100 / k ** 2, rel=1e-6)


@pytest.mark.skipif(not BOUNDARIES.exists(), reason="../shared/data is absent")
def test_sum_of_ones_is_geodesic_area():
    units = load_units(BOUNDARIES, id="adcode", name="name_en")
    units = units[units.unit_id.isin(["420100", "360100"])]  # Wuhan, Nanchang
    tr = from_origin(113.0, 31.5, 0.01, 0.01)
    shape = (500, 300 + 400)
    cov = zonal.coverage_fractions(units, shape, tr, "EPSG:4326")
    area = zonal.zonal_sums(np.ones(shape), cov, zonal.cell_areas_m2(shape, tr, "EPSG:4326")) / 1e6
    assert area == pytest.approx(units.area_km2.to_numpy(), rel=1e-4)


def test_nep_to_cs_and_nodata():
    # one whole 1-degree cell at the equator, NEP 100 g C m-2: CS = 100 x area x 1e-6 t C
    tr = from_origin(0, 1, 1, 1)
    cov = zonal.coverage_fractions(_units([box(0, 0, 1, 1)]), (1, 2), tr, "EPSG:4326")
    area = zonal.cell_areas_m2((1, 2), tr, "EPSG:4326")
    cs = zonal.zonal_sums(np.array([[100.0, np.nan]]), cov, area) * 1e-6
    assert cs[0] == pytest.approx(100 * area[0, 0] * 1e-6)
    assert area[0, 0] / 1e6 == pytest.approx(12_308.7, rel=1e-4)  # 1 x 1 deg at the equator


def test_dask_path_equals_rasterised_numpy_with_tiny_chunks():
    units = _units([Polygon([(0.123, 0.137), (2.713, 0.419), (1.331, 2.917)]), box(2.013, 2.017, 3.911, 3.907)])
    shape, tr = (40, 40), from_origin(0, 4, 0.1, 0.1)
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 10, shape)
    z = zonal.rasterize_zones(units, shape, tr, "EPSG:4326")
    area = zonal.cell_areas_m2(shape, tr, "EPSG:4326")
    expect = np.bincount(z.ravel(), weights=(values * area).ravel(), minlength=3)[1:]
    got = zonal.zonal_sums_dask(da.from_array(values, chunks=7), units, tr, "EPSG:4326")
    assert got == pytest.approx(expect, rel=1e-12)
    exact = zonal.zonal_sums(values, zonal.coverage_fractions(units, shape, tr, "EPSG:4326"), area)
    assert got == pytest.approx(exact, rel=0.05)  # only boundary cells differ


def test_geodesic_area_of_degree_square():
    # a 1 x 1 degree square at the equator with geodesic edges: close to the parallel-
    # bounded cell (12,308.7 km2); the two differ only by the bulge of the top edge
    a = geodesic_area_km2(gpd.GeoSeries([box(0, 0, 1, 1)], crs=4326))[0]
    assert a == pytest.approx(12_308.7, rel=1e-3)


def _write_grid(path, values, transform):
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                       count=1, dtype="float32", crs="EPSG:4326", transform=transform,
                       nodata=-9999) as dst:
        dst.write(np.where(np.isnan(values), -9999, values).astype("float32")[None])
    return path


@pytest.mark.parametrize("method", ["exact", "centres"])
def test_valid_fraction_of_vegetated_area_flags_units_below_95_percent(tmp_path, caplog, method):
    """One row per unit, so every cell of a unit has the same area: the valid share is a
    count of cells. Row 0: vegetated cells 0-2, NEP missing on cell 1 -> 2/3, flagged;
    row 1: all valid -> 1; row 2: nothing vegetated -> NaN, not flagged."""
    from carbon_balance.accounting.unit_tables import units_table

    t = from_origin(110.0, 30.0, 0.1, 0.1)
    nep = np.array([[5.0, np.nan, 3.0, np.nan], [1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    veg = np.array([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    grids = {2005: {"nep": _write_grid(tmp_path / "nep.tif", nep, t),
                    "npp": _write_grid(tmp_path / "npp.tif", nep + 10, t)}}
    units = _units([box(110.0, 30.0 - 0.1 * (r + 1), 110.4, 30.0 - 0.1 * r) for r in range(3)])
    with caplog.at_level("WARNING"):
        carbon = zonal.zonal_carbon(units, grids, {2005: veg}, method=method)
    assert carbon.valid_fraction.iloc[0] == pytest.approx(2 / 3, rel=1e-9)
    assert carbon.valid_fraction.iloc[1] == pytest.approx(1.0, rel=1e-9)
    assert np.isnan(carbon.valid_fraction.iloc[2])
    assert "66.7 %" in caplog.text and caplog.text.count("vegetated area has a valid NEP") == 1
    ids = list(units.unit_id)
    table = units_table(units.assign(name=ids, group=None, area_km2=1.0), carbon,
                        pd.DataFrame({"unit_id": ids, "year": 2005, "ce_t_co2": 1.0,
                                      "ce_estimated": False, "ce_method": "reported",
                                      "ce_low_t_co2": 1.0, "ce_high_t_co2": 1.0}),
                        pd.DataFrame({"unit_id": ids, "year": 2005, "gdp_yuan": 1.0,
                                      "gdp_estimated": False}))
    assert table.low_valid_fraction.tolist() == [True, False, False]
