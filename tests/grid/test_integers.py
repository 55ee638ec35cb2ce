"""Inputs stored as small integers take shorter roads (integer NDVI histograms, a class
look-up table, an NDVI scratch copy between the passes) to the very same numbers."""

import numpy as np
import pytest
import rasterio

from carbon_balance.grid import bounds, nep
from carbon_balance.grid.nep import write_grids
from carbon_balance.grid.readers import (InputSpec, class_table, crosswalk, read_integers,
                                         read_raw, read_window, values_from_integers)
from carbon_balance.grid.study_grid import StudyGrid
from carbon_balance.study import load_study

from .synthetic import ORIGIN, RES, write_raster


def _spec(path, name, dtype, nodata, scale=1.0, offset=0.0, lut=((), ()), shape=(9, 11)):
    grid = StudyGrid(rasterio.crs.CRS.from_epsg(4326),
                     rasterio.transform.from_origin(*ORIGIN, RES, RES), shape[1], shape[0])
    bands = ((0, 1),) if name == "vegetation" else tuple((0, b) for b in range(1, 13))
    return InputSpec(name=name, year=2005, files=(str(path),), bands=bands, nodata=nodata,
                     scale=scale, offset=offset, units=None, resampling="nearest", grid=grid,
                     src_shape=shape, direct_offset=(0, 0), lut_codes=lut[0],
                     lut_casa=lut[1], raw_dtype=dtype)


@pytest.mark.parametrize("dtype, nodata, scale, offset", [
    ("int16", -3000, 1e-4, 0.0), ("uint8", 255, 0.004, -0.08), ("uint16", None, 1.0, 0.0)])
def test_values_from_integers_equal_read_raw(tmp_path, dtype, nodata, scale, offset):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype)
    raw = rng.integers(max(info.min, -2000), min(info.max, 9000), (12, 9, 11)).astype(dtype)
    if nodata is not None:
        raw[rng.random(raw.shape) < 0.2] = nodata
    path = write_raster(tmp_path / "ndvi.tif", raw, nodata=nodata)
    spec = _spec(path, "ndvi", dtype, nodata, scale, offset)
    rows, cols = slice(2, 9), slice(3, 10)
    ints = read_integers(spec, rows, cols)
    assert ints.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ints, raw[:, rows, cols])
    plain = read_raw(spec, rows, cols)        # GDAL's float32 conversion, numpy steps
    np.testing.assert_array_equal(values_from_integers(spec, ints), plain)
    np.testing.assert_array_equal(read_window(spec, rows, cols, integers=ints), plain)
    np.testing.assert_array_equal(read_window(spec, rows, cols), plain)


@pytest.mark.parametrize("dtype, nodata", [("uint8", 255), ("int16", -1), ("uint16", None)])
def test_class_table_equals_crosswalk(tmp_path, dtype, nodata):
    # raw codes 11, 12, 21 known; 99 missing (-> -1); 0 mapped to NaN by the table
    lut = ((0.0, 11.0, 12.0, 21.0), (np.nan, 6.0, 6.0, 10.0))
    codes = np.array([[11, 12, 21, 99, 0], [21, 21, 11, 12, 99]], dtype)
    if nodata is not None:
        codes[1, 4] = nodata
    path = write_raster(tmp_path / "lc.tif", codes, nodata=nodata)
    spec = _spec(path, "vegetation", dtype, nodata, lut=lut, shape=codes.shape)
    rows, cols = slice(0, 2), slice(0, 5)
    expected = crosswalk(read_raw(spec, rows, cols), *lut)
    base, table = class_table(spec)
    np.testing.assert_array_equal(read_window(spec, rows, cols), expected)
    assert expected[0, 3] == -1 and np.isnan(expected[0, 4])
    assert table.size == np.iinfo(dtype).max - base + 1


def test_scratch_changes_nothing_and_leaves_nothing(study_2005, tmp_path, monkeypatch):
    path, _ = study_2005
    study = load_study(path)
    kinds = []
    real = bounds.ndvi_scratch

    def spy(*args, **kwargs):
        scratch = real(*args, **kwargs)
        kinds.append(type(scratch).__name__)
        return scratch

    monkeypatch.setattr(nep, "ndvi_scratch", spy)
    kept = write_grids(study, tmp_path / "kept", progress=False, chunks=(16, 16))
    monkeypatch.setattr(bounds, "SCRATCH_DISK_SHARE", 0.0)   # "the disk is full"
    decoded_twice = write_grids(study, tmp_path / "twice", progress=False, chunks=(16, 16))
    assert kinds == ["DiskScratch", "NoneType"]
    assert not list(tmp_path.rglob(".ndvi-scratch*"))
    for q in ("npp", "rh", "nep"):
        with rasterio.open(kept[2005][q]) as a, rasterio.open(decoded_twice[2005][q]) as b:
            np.testing.assert_array_equal(a.read(), b.read())


def test_scratch_is_used_for_integer_ndvi(study_2005, tmp_path, monkeypatch):
    path, _ = study_2005
    study = load_study(path)
    used = []
    real = bounds.ndvi_scratch
    monkeypatch.setattr(nep, "ndvi_scratch",
                        lambda *a, **k: used.append(real(*a, **k)) or used[-1])
    write_grids(study, tmp_path / "out", progress=False)
    # every chunk was taken back out (none left), and the folder removed
    assert used and isinstance(used[0], bounds.DiskScratch) and not used[0].folder.exists()


def test_disk_scratch_hands_each_chunk_back_once(tmp_path):
    scratch = bounds.DiskScratch(tmp_path / "scratch")
    a, b = np.zeros((12, 2, 2), np.int16), np.ones((12, 2, 3), np.int16)
    scratch.put(slice(0, 2), slice(0, 2), a)
    scratch.put(slice(0, 2), slice(2, 5), b)
    np.testing.assert_array_equal(scratch.take(slice(0, 2), slice(2, 5)), b)
    np.testing.assert_array_equal(scratch.take(slice(0, 2), slice(0, 2)), a)
    assert not list((tmp_path / "scratch").iterdir())
    with pytest.raises(FileNotFoundError):
        scratch.take(slice(0, 2), slice(0, 2))
    scratch.close()
    assert not (tmp_path / "scratch").exists()


def test_fused_helpers_equal_the_numpy_steps():
    from carbon_balance.grid.raster_checks import value_range
    from carbon_balance.grid.readers import decode_integers

    raw = np.array([[-3000, 0, 1, -1, 32767, -32768]], np.int16)
    got = decode_integers(raw, -3000, 1e-4, 0.0)
    want = raw.astype(np.float32)
    want[want == -3000] = np.nan
    want *= np.float32(1e-4)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0, 0]) and got[0, 4] == np.float32(32767) * np.float32(1e-4)
    shifted = decode_integers(raw, None, 0.004, -0.08)
    assert shifted[0, 2] == np.float32(1) * np.float32(0.004) + np.float32(-0.08)
    values = np.array([[np.nan, 3.5], [-2.0, np.nan]], np.float32)
    assert value_range(values) == (-2.0, 3.5)
    assert value_range(np.full(4, np.nan, np.float32)) == (np.inf, -np.inf)
