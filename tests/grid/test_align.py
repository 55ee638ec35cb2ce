"""Inputs on other grids are aligned as expected, on fields with known answers."""

import numpy as np
import pytest
import rioxarray  # noqa: F401  (the .rio accessor used to write NetCDF inputs)
import xarray as xr
from pyproj import Transformer
from rasterio.transform import from_origin

from carbon_balance.grid.readers import study_year_dataset as year_dataset
from carbon_balance.grid.study_grid import study_grid
from carbon_balance.study import load_study

from .synthetic import ORIGIN, RES, SHAPE, STUDY, write_raster, write_study


def _centres(grid):
    t = grid.transform
    x = t.c + t.a * (np.arange(grid.width) + 0.5)
    y = t.f + t.e * (np.arange(grid.height) + 0.5)
    return np.meshgrid(x, y)


def test_coarser_linear_field_resampled_bilinearly(tmp_path):
    path, _ = write_study(tmp_path / "s")
    # temperature on a grid twice as coarse, one coarse cell wider on every side
    coarse = 2 * RES
    h, w = SHAPE[0] // 2 + 2, SHAPE[1] // 2 + 2
    x0, y0 = ORIGIN[0] - coarse, ORIGIN[1] + coarse
    xc = x0 + coarse * (np.arange(w) + 0.5)
    yc = y0 - coarse * (np.arange(h) + 0.5)
    X, Y = np.meshgrid(xc, yc)

    def linear(x, y):
        return 10 + 100 * (x - 110) + 50 * (y - 29.6)

    field = np.repeat(linear(X, Y)[None] + 0 * np.arange(12)[:, None, None], 1, axis=0)
    field = field + np.arange(12)[:, None, None]      # month m adds m degrees
    write_raster(tmp_path / "s/climate/tmp_2005.tif", field.astype(np.float64),
                 transform=from_origin(x0, y0, coarse, coarse))
    study = load_study(path)
    ds = year_dataset(study, 2005, chunks=(7, 5))
    Xf, Yf = _centres(study_grid(study))
    got = ds.temperature.values
    for m in (0, 6):
        np.testing.assert_allclose(got[m], linear(Xf, Yf) + m, atol=1e-4)


def test_utm_input_reprojected(tmp_path):
    """A field linear in UTM easting/northing, read on the geographic study grid."""
    path, _ = write_study(tmp_path / "s")
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
    e0, n0 = to_utm.transform(ORIGIN[0] - 0.05, ORIGIN[1] + 0.05)
    cell = 500.0
    h, w = 110, 150                     # 55 x 75 km: covers the 0.6 x 0.4 degree grid
    e = e0 + cell * (np.arange(w) + 0.5)
    n = n0 - cell * (np.arange(h) + 0.5)
    E, N = np.meshgrid(e, n)

    def linear(E, N):   # 1 mm per km eastwards, 0.5 mm per km southwards
        return 100 + (E - e0) / 1000 - 0.5 * (N - n0) / 1000

    write_raster(tmp_path / "s/climate/pre_2005.tif", np.repeat(linear(E, N)[None], 12, 0),
                 transform=from_origin(e0, n0, cell, cell), crs="EPSG:32649")
    study = load_study(path)
    ds = year_dataset(study, 2005, chunks=(16, 16))
    lon, lat = _centres(study_grid(study))
    want = linear(*to_utm.transform(lon, lat))
    # GDAL's warper approximates the transform to 1/8 source cell (62.5 m -> 0.0625 mm)
    np.testing.assert_allclose(ds.precipitation.values[3], want, atol=0.07)
    assert np.abs(ds.precipitation.values[3] - want).mean() < 0.02


def test_classes_by_mode_from_a_finer_raster(tmp_path):
    text = STUDY.format(years=[2005]) + "resolution = 0.03\nbounds = [110.0, 29.61, 110.6, 30.0]\n"
    path, _ = write_study(tmp_path / "s", text=text)
    # land cover at 0.01 degrees: each 3 x 3 block holds 5 cells of one class, 4 of another
    rng = np.random.default_rng(4)
    major = rng.choice([21, 11], size=(13, 20))
    minor = np.where(major == 21, 31, 21)
    block = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], bool)
    fine = np.where(np.kron(np.ones((13, 20)), block).astype(bool),
                    np.kron(major, np.ones((3, 3))), np.kron(minor, np.ones((3, 3))))
    full = np.full(SHAPE, 51, np.uint8)
    full[:39, :60] = fine
    write_raster(tmp_path / "s/lc/lc_2005.tif", full)
    study = load_study(path)
    grid = study_grid(study)
    assert (grid.height, grid.width) == (13, 20)
    ds = year_dataset(study, 2005, chunks=(4, 6))
    want = np.where(major == 21, 6, 10)              # CAS-LUCC 21 -> CASA 6, 11 -> 10
    np.testing.assert_array_equal(ds.vegetation.values, want)


def test_netcdf_input_equals_geotiff(tmp_path):
    pytest.importorskip("h5netcdf")
    path, fields = write_study(tmp_path / "s")
    lon = ORIGIN[0] + RES * (np.arange(SHAPE[1]) + 0.5)
    lat = ORIGIN[1] - RES * (np.arange(SHAPE[0]) + 0.5)
    temp_k = fields[2005]["temperature"].astype(np.float64) + 273.15
    da = xr.DataArray(temp_k, dims=("time", "lat", "lon"),
                      coords={"time": np.arange(12), "lat": lat, "lon": lon}, name="t2m")
    da.lat.attrs.update(units="degrees_north", standard_name="latitude")
    da.lon.attrs.update(units="degrees_east", standard_name="longitude")
    da.attrs["units"] = "K"
    da.to_dataset().rio.write_crs("EPSG:4326").to_netcdf(tmp_path / "s/climate/t2m_2005.nc")
    text = path.read_text().replace('path = "climate/tmp_{year}.tif"\nunits = "degC"',
                                    'path = "climate/t2m_{year}.nc"\nunits = "K"')
    path.write_text(text)
    study = load_study(path)
    ds = year_dataset(study, 2005)
    np.testing.assert_allclose(ds.temperature.values, fields[2005]["temperature"], atol=1e-4)


def test_netcdf_on_cf_lonlat_without_grid_mapping_is_read_as_wgs84(tmp_path):
    """Most climate NetCDFs (ERA5, CRU, TerraClimate) carry longitude/latitude coordinates
    in degrees_east/degrees_north and no grid_mapping: they are WGS 84 (CF-1.8 4.1-4.2),
    so they validate and read like the GeoTIFF they were made from."""
    from carbon_balance.grid.raster_checks import raster_problems

    path, fields = write_study(tmp_path / "s")
    lon = ORIGIN[0] + RES * (np.arange(SHAPE[1]) + 0.5)
    lat = ORIGIN[1] - RES * (np.arange(SHAPE[0]) + 0.5)
    da = xr.DataArray(fields[2005]["temperature"].astype(np.float64) + 273.15,
                      dims=("time", "lat", "lon"),
                      coords={"time": np.arange(12), "lat": lat, "lon": lon}, name="t2m",
                      attrs={"units": "K"})
    da.lat.attrs.update(units="degrees_north", standard_name="latitude")
    da.lon.attrs.update(units="degrees_east", standard_name="longitude")
    da.to_dataset().to_netcdf(tmp_path / "s/climate/t2m_2005.nc")   # no CRS written
    text = path.read_text().replace('path = "climate/tmp_{year}.tif"\nunits = "degC"',
                                    'path = "climate/t2m_{year}.nc"\nunits = "K"')
    path.write_text(text)
    study = load_study(path)
    assert not [p for p in raster_problems(study) if p.fatal]
    ds = year_dataset(study, 2005)
    np.testing.assert_allclose(ds.temperature.values, fields[2005]["temperature"], atol=1e-4)


def test_netcdf_without_any_georeferencing_is_still_refused(tmp_path):
    from carbon_balance.grid.raster_checks import raster_problems

    path, fields = write_study(tmp_path / "s")
    da = xr.DataArray(fields[2005]["temperature"].astype(np.float64) + 273.15,
                      dims=("time", "row", "col"), name="t2m", attrs={"units": "K"})
    da.to_dataset().to_netcdf(tmp_path / "s/climate/t2m_2005.nc")
    path.write_text(path.read_text().replace(
        'path = "climate/tmp_{year}.tif"\nunits = "degC"', 'path = "climate/t2m_{year}.nc"\nunits = "K"'))
    messages = [str(p) for p in raster_problems(load_study(path)) if p.fatal]
    assert any("no coordinate reference system" in m for m in messages), messages
