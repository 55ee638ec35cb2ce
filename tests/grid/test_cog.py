"""Result COGs: overviews averaged chunk by chunk equal GDAL's own average overviews."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from carbon_balance.grid.writers import (NODATA, GridTarget, block_means, create_tiled,
                                     overview_factors, to_cog)
from carbon_balance.grid.study_grid import StudyGrid


def test_overview_factors_follow_the_cog_driver():
    # halving until the overview fits one 512-pixel tile, as GDAL's COG driver does
    assert overview_factors(4096, 4096) == [2, 4, 8]
    assert overview_factors(512, 300) == []
    assert overview_factors(513, 10) == [2]
    assert overview_factors(1100, 700, (256, 256)) == [2, 4]
    # a factor that does not divide the chunk: GDAL computes the overviews instead
    assert overview_factors(4096, 4096, (1020, 1020)) == []


def test_block_means_by_hand():
    v = np.array([[1, 2, 5, np.nan, 7],
                  [3, np.nan, np.nan, np.nan, 9],
                  [4, 4, 0, 2, 1]], np.float32)
    half, quarter = block_means(v, [2, 4])
    # 2 x 2 blocks: (1+2+3)/3, (5)/1, (7+9)/2; edge row: (4+4)/2, (0+2)/2, 1
    np.testing.assert_array_equal(half, np.array([[2, 5, 8], [4, 1, 1]], np.float32))
    # 4 x 4: (1+2+5+3+4+4+0+2)/8 = 2.625; (7+9+1)/3
    np.testing.assert_allclose(quarter, [[2.625, 17 / 3]], rtol=1e-7)
    all_nan = block_means(np.full((1, 4, 4), np.nan, np.float32), [2])[0]
    assert all_nan.shape == (1, 2, 2) and np.isnan(all_nan).all()
    with pytest.raises(ValueError, match="powers of 2"):
        block_means(v, [3])


def _grid(width=1100, height=700):
    return StudyGrid(rasterio.crs.CRS.from_epsg(4326), from_origin(100, 30, 0.01, 0.01),
                     width, height)


def test_chunk_overviews_equal_gdal_average_overviews(tmp_path):
    grid = _grid()
    rng = np.random.default_rng(3)
    field = rng.normal(300, 80, (1, grid.height, grid.width)).astype(np.float32)
    field[:, rng.random(field.shape[1:]) < 0.2] = np.nan
    field[:, :40, :40] = np.nan                             # a block with no valid cell
    chunk = 256
    factors = overview_factors(grid.width, grid.height, (chunk, chunk))
    assert factors == [2, 4]
    made = {}
    for name, fs in (("chunked", factors), ("gdal", [])):
        tmp = create_tiled(tmp_path / f".{name}.tmp.tif", grid, 1, fs)
        target = GridTarget([(str(tmp), 1)], None, fs)
        for r in range(0, grid.height, chunk):
            for c in range(0, grid.width, chunk):
                rows, cols = slice(r, min(r + chunk, grid.height)), slice(c, min(c + chunk, grid.width))
                target[(slice(0, 1), rows, cols)] = field[:, rows, cols]
        made[name] = to_cog(tmp, tmp_path / f"{name}.tif", tags={"units": "g C m-2 yr-1"},
                            descriptions=["nep"], factors=fs, threads=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.tif", "gdal.tif"]
    for level, f in enumerate(factors):
        ours = rasterio.open(made["chunked"], OVERVIEW_LEVEL=level).read(1, masked=True)
        gdal = rasterio.open(made["gdal"], OVERVIEW_LEVEL=level).read(1, masked=True)
        expected = block_means(field, [f])[0][0]
        np.testing.assert_array_equal(ours.mask, np.isnan(expected))
        np.testing.assert_array_equal(ours.filled(np.nan), expected)
        np.testing.assert_array_equal(gdal.mask, ours.mask)
        # GDAL averages each level from the one above it, unweighted; ours are the means
        # of the valid full-resolution cells. They agree wherever no cell is missing (and
        # everywhere at the first level).
        complete = block_means(np.isnan(field).astype(np.float32), [f])[0][0] == 0
        if level == 0:
            complete = ~ours.mask
        assert complete.sum() > 1000
        np.testing.assert_allclose(gdal.filled(np.nan)[complete], ours.filled(np.nan)[complete],
                                   rtol=1e-5)
    for path in made.values():
        with rasterio.open(path) as ds:
            assert ds.overviews(1) == factors and ds.nodata == NODATA
            assert ds.tags()["units"] == "g C m-2 yr-1" and ds.descriptions == ("nep",)
            assert ds.crs.to_epsg() == 4326 and ds.transform == grid.transform
            np.testing.assert_array_equal(ds.read(1, masked=True).filled(np.nan), field[0])
