"""A very large sparse raster as an input (issue 15, "Why": it used to end in a traceback):
a 200,000 x 200,000 GeoTIFF, tiled, deflate-compressed and sparse (SPARSE_OK: blocks
never written take no space), a few MB on disk. Commands exit 0 or 2 without a
traceback and read only the windows they need; the 160 GB of one float32 band are never
allocated (that would fail with MemoryError on this machine). Generated data."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import from_bounds

from .studies import cli, flat, full_study

#: 0.0009° cells from 45° W, 90° N: 180° x 180° in 200,000 x 200,000 cells.
SIZE = 200_000
TRANSFORM = from_origin(-45.0, 90.0, 0.0009, 0.0009)


def _sparse(path, dtype, nodata):
    with rasterio.open(path, "w", driver="GTiff", width=SIZE, height=SIZE, count=12,
                       dtype=dtype, crs="EPSG:4326", transform=TRANSFORM, nodata=nodata,
                       tiled=True, blockxsize=512, blockysize=512, compress="deflate",
                       SPARSE_OK=True, BIGTIFF="YES"):
        pass
    return path


@pytest.mark.long   # ~60 s on the shared machine: warped reads of the huge file
def test_sparse_temperature_with_data_over_the_study_area_runs(tmp_path):
    study = full_study(tmp_path / "s")
    path = _sparse(study.parent / "climate/tmp_2005.tif", "float32", -9999)
    season = 17 + 12 * np.sin((np.arange(12) - 3) / 12 * 2 * np.pi)
    with rasterio.open(path, "r+") as dst:     # one window around the study area
        win = from_bounds(109.9, 29.5, 110.7, 30.1, dst.transform).round_offsets().round_lengths()
        dst.write((season[:, None, None] * np.ones((12, win.height, win.width))).astype(
            np.float32), window=win)
    assert path.stat().st_size < 20e6
    # one chunk: one warped read of the huge file per pass
    study.write_text(study.read_text().replace("chunk_size = 16", "chunk_size = 64"))
    res = cli("nep", study, "--out", tmp_path / "out", timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    with rasterio.open(tmp_path / "out/grids/2005/nep.tif") as src:
        assert src.shape == (40, 60)
        assert np.isfinite(src.read(1, masked=True).filled(np.nan)).mean() > 0.9


def test_sparse_ndvi_with_nothing_written_is_the_valid_share_error(tmp_path):
    """The study grid set by [grid] bounds; the NDVI holds no value there."""
    study = full_study(tmp_path / "s")
    _sparse(study.parent / "ndvi/ndvi_2005.tif", "int16", -3000)
    study.write_text(study.read_text().replace(
        "chunk_size = 16", "chunk_size = 16\nresolution = 0.01\n"
        "bounds = [110.0, 29.6, 110.6, 30.0]"))
    res = cli("nep", study, "--out", tmp_path / "out", timeout=300)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "ndvi_2005.tif [inputs.ndvi.path]: none of the NDVI values" in err
    assert not (tmp_path / "out").exists()


def test_sparse_ndvi_defining_the_grid_validates_without_a_traceback(tmp_path):
    """The NDVI's 180° x 180° grid: the other inputs cover almost none of it (exit 2)."""
    study = full_study(tmp_path / "s")
    _sparse(study.parent / "ndvi/ndvi_2005.tif", "int16", -3000)
    res = cli("validate", study, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "[inputs.temperature.path]: the raster does not cover the study grid" in flat(res.stderr)
