"""Rasters read strictly (issue 15, item 3): geotransforms that are not north-up are
refused by ``validate`` and ``run`` with the fix (they used to pass validate and then
crash in the zonal sums). Generated data."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from tests.grid.synthetic import ORIGIN, RES, SHAPE, climate, write_raster

from .studies import cli, flat, full_study

SOUTH_UP = Affine(RES, 0, ORIGIN[0], 0, RES, ORIGIN[1] - SHAPE[0] * RES)
ROTATED = Affine(RES, 0.001, ORIGIN[0], 0.001, -RES, ORIGIN[1])


@pytest.mark.parametrize("name, path, transform, needle", [
    ("ndvi", "ndvi/ndvi_2005.tif", SOUTH_UP, "the raster is south-up"),
    ("temperature", "climate/tmp_2005.tif", ROTATED, "the raster is rotated"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_rasters_that_are_not_north_up_are_refused(tmp_path, name, path, transform, needle,
                                                   command):
    study = full_study(tmp_path / "s")
    f = climate(1)
    data = f[name][:, ::-1] if transform is SOUTH_UP else f[name]
    write_raster(study.parent / path, np.ascontiguousarray(data), transform=transform,
                 nodata=-3000 if name == "ndvi" else None)
    args = [command, study] + (["--out", tmp_path / "out"] if command == "run" else [])
    res = cli(*args, timeout=180)
    err = flat(res.stderr)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert needle in err and f"[inputs.{name}.path]" in err and "gdalwarp" in err
    assert not (tmp_path / "out").exists()


def test_radiation_in_w_m2_declared_as_mj_is_warned(tmp_path):
    """Before: passed validate; NEP then ~2.6 times too small. Monthly mean W m-2 of a
    mid-latitude site: 100 in winter to 280 in summer."""
    study = full_study(tmp_path / "s")
    season = np.sin((np.arange(12) - 3) / 12 * 2 * np.pi)[:, None, None]
    flux = (190 + 90 * season) * np.ones((1, *SHAPE))
    write_raster(study.parent / "climate/sol_2005.tif", flux.astype(np.float32))
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "warning:" in err and "[inputs.radiation.units]" in err
    assert 'if the values are monthly mean W m-2 set units = "W/m2"' in err


def test_projected_study_grid_by_default_is_the_ndvi_footprint(tmp_path):
    """The issue's case: [grid] crs = UTM, resolution = 1000, no bounds. Before, validate
    said for every raster, the NDVI that defines the grid included, that it "does not
    cover the study grid"."""
    study = full_study(tmp_path / "s")
    study.write_text(study.read_text().replace(
        "chunk_size = 16", 'chunk_size = 16\ncrs = "EPSG:32649"\nresolution = 1000'))
    res = cli("validate", study, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "does not cover" not in res.stderr


def test_input_covering_half_the_study_area_names_the_share_and_extents(tmp_path):
    study = full_study(tmp_path / "s")
    f = climate(1)
    half = f["temperature"][:, :, : SHAPE[1] // 2]      # the western half only
    write_raster(study.parent / "climate/tmp_2005.tif", np.ascontiguousarray(half))
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    # 0.3 of 0.6 degrees outside, less the half cell (0.005) of tolerance: 0.295 / 0.6
    assert "does not cover the study grid: 49.2% of the study area lies outside it" in err
    assert "raster extent (110, 29.6, 110.3, 30) in EPSG:4326" in err
    assert "study grid (110, 29.6, 110.6, 30) in EPSG:4326" in err


def _netcdf(path, values, units: str, name: str):
    import rioxarray  # noqa: F401  (the .rio accessor)
    import xarray as xr

    lat = ORIGIN[1] - RES * (np.arange(SHAPE[0]) + 0.5)
    lon = ORIGIN[0] + RES * (np.arange(SHAPE[1]) + 0.5)
    da = xr.DataArray(values, dims=("time", "lat", "lon"), name=name,
                      coords={"time": np.arange(12), "lat": lat, "lon": lon},
                      attrs={"units": units})
    da.lat.attrs.update(units="degrees_north", standard_name="latitude")
    da.lon.attrs.update(units="degrees_east", standard_name="longitude")
    da.to_dataset().rio.write_crs("EPSG:4326").to_netcdf(path)


def test_netcdf_units_attribute_contradicting_the_declared_units(tmp_path):
    """Before: a NetCDF's own `units` was ignored. W m-2 in the file, MJ/m2/month declared."""
    study = full_study(tmp_path / "s")
    season = np.sin((np.arange(12) - 3) / 12 * 2 * np.pi)[:, None, None]
    flux = ((190 + 90 * season) * np.ones((1, *SHAPE))).astype(np.float32)
    _netcdf(study.parent / "ssrd_2005.nc", flux, "W m-2", "ssrd")
    study.write_text(study.read_text().replace('"climate/sol_{year}.tif"', '"ssrd_{year}.nc"'))
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "the file's own units are 'W m-2', but units = \"MJ/m2/month\" is declared" in err
    assert 'set units = "W/m2"' in err
    # declared as the file says: accepted
    study.write_text(study.read_text().replace('units = "MJ/m2/month"', 'units = "W/m2"'))
    res = cli("validate", study, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]


def test_geotiff_band_units_contradicting_the_declared_units(tmp_path):
    import rasterio

    study = full_study(tmp_path / "s")
    path = study.parent / "climate/tmp_2005.tif"
    with rasterio.open(path, "r+") as ds:
        ds.units = ["K"] * ds.count          # a file that says kelvin; values are degC
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "the file's own units are 'K', but units = \"degC\" is declared" in err


def test_nodata_that_is_a_plausible_value_is_warned(tmp_path):
    """Before: nodata = 4 on a temperature file hid every 4 °C cell without a word."""
    study = full_study(tmp_path / "s")
    t = np.round(climate(1)["temperature"])          # whole degrees: 4 °C occurs
    write_raster(study.parent / "climate/tmp_2005.tif", t, nodata=4)
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "warning:" in err and "[inputs.temperature.nodata]" in err
    assert "nodata = 4 is also a plausible temperature (4 °C)" in err


def test_precipitation_in_tenths_declared_as_mm_is_warned(tmp_path):
    """Before: passed; water stress then computed on ten times the rain. 1,200 mm a year
    stored in tenths of a millimetre is 12,000 "mm"."""
    study = full_study(tmp_path / "s")
    write_raster(study.parent / "climate/pre_2005.tif",
                 np.full((12, *SHAPE), 1000.0, dtype=np.float32))   # 100 mm a month x 10
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "median annual precipitation 12,000 mm" in err
    assert 'set units = "0.1 mm/month"' in err
