"""The command's GDAL block cache is megabytes, not bytes (rasterio passes an integer
GDAL_CACHEMAX to GDAL in bytes; 128 was a 128-byte cache and made warped reads about
10 times slower: benchmarks/sparse_warp_cache.py)."""

import rasterio
from rasterio._env import get_gdal_config

from carbon_balance.grid.runner import gdal_block_cache

#: One 512 x 512 float32 tile of an input [bytes]: the cache must hold a few.
TILE = 512 * 512 * 4


def test_block_cache_holds_whole_tiles_and_is_undone():
    with rasterio.Env():
        before = get_gdal_config("GDAL_CACHEMAX")
    with gdal_block_cache():
        cache = int(get_gdal_config("GDAL_CACHEMAX"))
        assert 16 * TILE <= cache <= 2**30
    with rasterio.Env():
        assert get_gdal_config("GDAL_CACHEMAX") == before
