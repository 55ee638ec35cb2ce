"""The reference comparison on a hand-made 2 x 2 grid (equal-area cells)."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from carbon_balance.accounting.reference import pixel_statistics, reference_comparison

CRS = "EPSG:3857"   # projected: the four 1 km cells have equal areas


def _tif(path, a, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
                       crs=CRS, transform=from_origin(0, 2000, 1000, 1000), nodata=nodata) as d:
        d.write(np.asarray(a, "float32"), 1)


@pytest.fixture
def grids(tmp_path):
    _tif(tmp_path / "npp.tif", [[400, 600], [500, 0]])
    # MOD17-like: kg C m-2 yr-1 x 0.0001, fill 32767
    _tif(tmp_path / "ref.tif", [[5000, 5000], [32767, 3000]], nodata=None)
    units = gpd.GeoDataFrame({"unit_id": ["A"]}, geometry=[box(0, 0, 2000, 2000)], crs=CRS)
    return tmp_path, units


def test_unit_means_use_the_vegetated_cells_valid_in_both(grids):
    d, units = grids
    veg = {2005: np.array([[1, 1], [1, 0]])}
    res = reference_comparison({2005: d / "npp.tif"}, {2005: d / "ref.tif"}, units, veg,
                               scale=0.0001, nodata=32767, reference_units="kg C m-2 yr-1")
    row = res.table.iloc[0]
    # cells compared: (0,0) and (0,1): the fill cell and the non-vegetated cell drop out
    assert row.npp_mean_g_c_m2 == pytest.approx(500.0)        # (400 + 600) / 2
    assert row.reference_npp_mean_g_c_m2 == pytest.approx(500.0)   # 0.5 kg = 500 g
    assert row.difference_percent == pytest.approx(0.0)
    assert row.compared_area_km2 == pytest.approx(2.0, rel=1e-6)
    s = res.stats.iloc[0]
    assert s.n == 2 and s.bias_g_c_m2 == pytest.approx(0.0)
    assert s.rmse_g_c_m2 == pytest.approx(100.0)               # differences -100, +100


def test_pixel_statistics_by_hand():
    s = pixel_statistics(np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 2.0, 5.0, 1.0]))
    assert s["n"] == 3
    assert s["bias_g_c_m2"] == pytest.approx((-1 + 0 - 2) / 3)
    assert s["rmse_g_c_m2"] == pytest.approx(np.sqrt((1 + 0 + 4) / 3))
    # r = cov/(sd sd): x = 1,2,3; y = 2,2,5 -> r = 3/(sqrt(2)*sqrt(6)) -> r^2 = 0.75
    assert s["r2"] == pytest.approx(0.75)


def test_all_years_statistics_pool_the_pairs_of_every_year(tmp_path):
    """Year 1: pairs (400, 500), (600, 500); year 2: (300, 100), (500, 300).
    Pooled by hand: d = -100, 100, 200, 200: bias 100, RMSE sqrt(100000/4) = 158.11;
    a = 400 600 300 500 (mean 450, var 12500), b = 500 500 100 300 (mean 350, var 27500),
    cov 12500: r^2 = 12500^2 / (12500 * 27500) = 5/11."""
    units = gpd.GeoDataFrame({"unit_id": ["A"]}, geometry=[box(0, 0, 2000, 2000)], crs=CRS)
    npp, ref = {}, {}
    for year, a, b in ((2005, [[400, 600], [0, 0]], [[500, 500], [0, 0]]),
                       (2010, [[300, 500], [0, 0]], [[100, 300], [0, 0]])):
        _tif(tmp_path / f"n{year}.tif", a)
        _tif(tmp_path / f"r{year}.tif", b)
        npp[year], ref[year] = tmp_path / f"n{year}.tif", tmp_path / f"r{year}.tif"
    res = reference_comparison(npp, ref, units)      # vegetated: NPP > 0
    pooled = res.stats.set_index("year").loc["all"]
    assert pooled.n == 4
    assert pooled.bias_g_c_m2 == pytest.approx(100.0)
    assert pooled.rmse_g_c_m2 == pytest.approx(np.sqrt(100000 / 4))
    assert pooled.r2 == pytest.approx(5 / 11)
    assert len(res.pixels) == 4
