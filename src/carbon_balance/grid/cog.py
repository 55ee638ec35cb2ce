"""Write result grids chunk by chunk, then as float32 Cloud Optimized GeoTIFFs.

Chunks are written into an uncompressed tiled GeoTIFF (any order, from any thread or
worker, serialised by a lock), which GDAL's ``COG`` driver then copies into the final
file (DEFLATE with the floating-point predictor, 512-pixel tiles, average overviews).
Neither step holds a whole grid in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil

from .template import StudyGrid

#: Nodata of every output grid.
NODATA = -9999.0
#: Tile edge of the outputs [pixels].
BLOCK = 512
#: Creation options of the final COGs.
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "LEVEL": "1", "BLOCKSIZE": str(BLOCK),
               "OVERVIEW_RESAMPLING": "AVERAGE", "BIGTIFF": "IF_SAFER", "NUM_THREADS": "ALL_CPUS"}


def create_tiled(path: Path, grid: StudyGrid, count: int) -> Path:
    """An empty tiled, band-interleaved float32 GeoTIFF on ``grid`` (nodata -9999).

    Tiles are 512 pixels (smaller for small grids: a chunk write rewrites whole tiles).
    """
    block = min(BLOCK, 16 * -(-max(grid.width, grid.height) // 16))
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=count,
                   dtype="float32", crs=grid.crs, transform=grid.transform, nodata=NODATA,
                   tiled=True, blockxsize=block, blockysize=block, interleave="band",
                   BIGTIFF="IF_SAFER", SPARSE_OK="TRUE")
    with rasterio.open(path, "w", **profile):
        pass
    return path


class GridTarget:
    """A :func:`dask.array.store` target for a (quantity, y, x) array.

    ``layout[i]`` is the (file, band) of quantity ``i``. Each write opens the files,
    writes the window and closes them under ``lock`` (a ``threading.Lock`` for the
    threaded scheduler, a ``distributed.Lock`` on a cluster), so the target is picklable.
    """

    def __init__(self, layout: list[tuple[str, int]], lock=None):
        self.layout = layout
        self.lock = lock

    def __setitem__(self, key, value):
        qs, rows, cols = key
        value = np.where(np.isnan(value), np.float32(NODATA), value).astype(np.float32)
        window = rasterio.windows.Window(cols.start, rows.start, cols.stop - cols.start,
                                         rows.stop - rows.start)
        targets: dict[str, list[tuple[int, int]]] = {}
        for i, q in enumerate(range(*qs.indices(len(self.layout)))):
            path, band = self.layout[q]
            targets.setdefault(path, []).append((band, i))
        if self.lock is not None:
            self.lock.acquire()
        try:
            for path, pairs in targets.items():
                with rasterio.open(path, "r+") as dst:
                    dst.write(value[[i for _, i in pairs]], [b for b, _ in pairs], window=window)
        finally:
            if self.lock is not None:
                self.lock.release()


def to_cog(src: Path, dst: Path, *, tags: dict[str, str], band_tags: list[dict] | None = None,
           descriptions: list[str] | None = None) -> Path:
    """Copy the tiled GeoTIFF ``src`` into the COG ``dst`` with ``tags``; remove ``src``."""
    with rasterio.open(src, "r+") as ds:
        ds.update_tags(**tags)
        for b in range(1, ds.count + 1):
            if band_tags:
                ds.update_tags(b, **band_tags[b - 1])
            if descriptions:
                ds.set_band_description(b, descriptions[b - 1])
    rasterio.shutil.copy(src, dst, driver="COG", **COG_OPTIONS)
    os.remove(src)
    return dst
