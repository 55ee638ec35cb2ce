"""Warped reads of a very large sparse GeoTIFF with and without a GDAL block cache size.

Issue 15 (a very large sparse raster as an input): a 200,000 x 200,000 x 12 float32
GeoTIFF, tiled 512, deflate, sparse (one window of data around the study area), read
onto the 60 x 40 cells of 0.01° of the generated test study in 16 x 16 chunks through a
WarpedVRT, as ``grid.readers`` reads an input that needs warping. Each read set runs in
a fresh process: (a) GDAL's default block cache (5 % of RAM), (b)
``rasterio.Env(GDAL_CACHEMAX=128)`` as every grid command set it until 3 Dec 2026
(rasterio passes an integer to GDALSetCacheMax64 as **bytes**: a 128-byte cache), (c)
``GDAL_CACHEMAX=128 * 2**20`` (the 128 MB meant, ``grid.runner.gdal_block_cache`` now).
A 2,000 x 2,000 file of the same cells and layout is the control. Runs are interleaved
(a, b, c per round); the median ratios to (a) and their ranges are printed. Generated
data.

    python benchmarks/sparse_warp_cache.py --pairs 5 --workdir /tmp/sparse_bench
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

READ = r"""
import json, resource, sys, time
import numpy as np, rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
path, cache = sys.argv[1], int(sys.argv[2])
env = rasterio.Env(GDAL_CACHEMAX=cache) if cache else rasterio.Env()   # bytes
t = time.perf_counter()
with env:
    for r in range(0, 40, 16):
        for c in range(0, 60, 16):
            with rasterio.open(path) as src, WarpedVRT(
                    src, crs="EPSG:4326", transform=from_origin(110, 30, 0.01, 0.01), width=60,
                    height=40, resampling=Resampling.bilinear, src_nodata=-9999, nodata=np.nan,
                    dtype="float32") as vrt:
                vrt.read(list(range(1, 13)), window=Window(c, r, min(16, 60 - c), min(16, 40 - r)))
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - t, "cpu": ru.ru_utime + ru.ru_stime}))
"""


def make(path: Path, size: int, res: float, west: float, north: float) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import from_bounds

    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=12,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(west, north, res, res),
                       nodata=-9999, tiled=True, blockxsize=512, blockysize=512,
                       compress="deflate", SPARSE_OK=True, BIGTIFF="YES") as dst:
        win = from_bounds(109.9, 29.5, 110.7, 30.1, dst.transform).round_offsets().round_lengths()
        dst.write(np.full((12, win.height, win.width), 17.0, np.float32), window=win)


def run(path: Path, cache: int) -> dict:
    out = subprocess.run([sys.executable, "-c", READ, str(path), str(cache)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/sparse_bench"))
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    files = {"200000² sparse": (args.workdir / "huge.tif", 200_000, 0.0009, -45.0, 90.0),
             "2000² control": (args.workdir / "control.tif", 2_000, 0.0009, 109.5, 30.5)}
    for path, size, res, west, north in files.values():
        if not path.exists():
            make(path, size, res, west, north)
    for label, (path, *_) in files.items():
        rb, rc = [], []
        print(f"{label} ({path.stat().st_size / 1e6:.1f} MB): round, wall / CPU of (a) "
              "default, (b) GDAL_CACHEMAX=128 (bytes), (c) 128 MiB; (b)/(a), (c)/(a) wall")
        for i in range(args.pairs):
            a, b, c = run(path, 0), run(path, 128), run(path, 128 * 2**20)
            rb.append(b["wall"] / a["wall"])
            rc.append(c["wall"] / a["wall"])
            print(f"  {i + 1}: {a['wall']:.2f} / {a['cpu']:.2f} s, {b['wall']:.2f} / "
                  f"{b['cpu']:.2f} s, {c['wall']:.2f} / {c['cpu']:.2f} s; {rb[-1]:.2f}, "
                  f"{rc[-1]:.2f}")
        for name, r in (("(b)/(a)", rb), ("(c)/(a)", rc)):
            print(f"  median {name} wall {statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})")


if __name__ == "__main__":
    main()
