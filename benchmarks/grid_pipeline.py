"""Benchmark of ``carbon-balance nep`` against the I/O floor, on a generated study.

Opt-in (not part of the test suite)::

    python benchmarks/grid_pipeline.py --size 4096            # targets: (b)/(a) <= 2.8, < 1.5 GiB
    python benchmarks/grid_pipeline.py --size 4096 --repeat 5 # ... as 5 interleaved pairs
    python benchmarks/grid_pipeline.py --size 6000            # memory target: < 1.5 GiB

In one run it

1. generates a synthetic study (GENERATED data: smooth seasonal fields plus noise) of
   ``--size`` x ``--size`` cells and ``--years`` years: NDVI int16 x 1e-4 (12 bands),
   temperature int16 in 0.1 °C, precipitation float32 mm/month, radiation float32 W/m2
   (monthly mean flux), and CAS-LUCC land cover (uint8), as tiled DEFLATE GeoTIFFs;
2. (a) reads and decodes every input raster once, with as many threads as cores
   (the I/O floor: no computation at all);
3. (b) runs ``carbon-balance nep STUDY --out DIR`` in a subprocess, timed;
4. (c) records the peak memory of (b): the peak of the summed RSS of the process tree
   (sampled every 0.1 s with psutil) and the kernel's max RSS of any child
   (``resource.getrusage(RUSAGE_CHILDREN)``);
5. for context, (a) again after (b) (the machine is shared: the spread says how noisy
   the figures are), and (k) the CASA kernel alone (``casa.annual_carbon``, one thread)
   on decoded 1024 x 1024 inputs, scaled to the grid and the cores: the compute floor.

The generated files and outputs are deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

STRIP = 512
CODES = np.array([11, 12, 21, 22, 23, 31, 41, 51], np.uint8)   # CAS-LUCC codes

STUDY = """\
# GENERATED benchmark study (benchmarks/grid_pipeline.py): synthetic inputs
[study]
name = "generated benchmark {size}x{size}"
years = {years}
generated_inputs = true
generated_note = "synthetic fields written by benchmarks/grid_pipeline.py"

[inputs.ndvi]
path = "ndvi_{{year}}.tif"
scale = 0.0001
[inputs.temperature]
path = "tmp_{{year}}.tif"
units = "0.1 degC"
[inputs.precipitation]
path = "pre_{{year}}.tif"
units = "mm/month"
[inputs.radiation]
path = "sol_{{year}}.tif"
units = "W/m2"
[inputs.vegetation]
path = "lc_{{year}}.tif"
classes = "cas-lucc"

[grid]
chunk_size = {chunk}
"""

VARIABLES = {  # name: (dtype, nodata, predictor)
    "ndvi": ("int16", -3000, 2), "tmp": ("int16", -32768, 2),
    "pre": ("float32", None, 3), "sol": ("float32", None, 3), "lc": ("uint8", 255, 2),
}


def _fields(rows: slice, size: int, rng) -> dict[str, np.ndarray]:
    """Generated monthly fields for the rows ``rows`` of a size x size grid."""
    y = (np.arange(rows.start, rows.stop) / size)[:, None]
    x = (np.arange(size) / size)[None, :]
    base = (np.sin(2 * np.pi * 3 * x) * np.cos(2 * np.pi * 2 * y)).astype(np.float32)
    season = np.sin((np.arange(12) - 3) / 12 * 2 * np.pi).astype(np.float32)[:, None, None]
    shape = (12, rows.stop - rows.start, size)
    noise = rng.standard_normal(shape, dtype=np.float32)
    ndvi = np.clip(0.45 + 0.25 * season + 0.15 * base + 0.03 * noise, -0.2, 0.95)
    out = {
        "ndvi": np.round(ndvi * 10000).astype(np.int16),
        "tmp": np.round((15 + 12 * season + 4 * base + 0.5 * noise) * 10).astype(np.int16),
        "pre": np.maximum(60 + 60 * season + 30 * base + 10 * noise, 0).astype(np.float32),
        "sol": (160 + 70 * season + 15 * base + 3 * noise).astype(np.float32),
    }
    out["ndvi"][:, : max(1, size // 100), : max(1, size // 100)] = -3000   # a nodata corner
    return out


def generate(root: Path, size: int, years: list[int], chunk: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    transform = from_origin(108.0, 33.0, 4.0 / size, 4.0 / size)
    files = []
    for i, year in enumerate(years):
        rng = np.random.default_rng(year)
        coarse = rng.choice(CODES, size=(-(-size // 64), -(-size // 64)))
        dsts = {}
        for name, (dtype, nodata, predictor) in VARIABLES.items():
            path = root / f"{name}_{year}.tif"
            files.append(path)
            dsts[name] = rasterio.open(
                path, "w", driver="GTiff", width=size, height=size,
                count=1 if name == "lc" else 12, dtype=dtype, nodata=nodata, crs="EPSG:4326",
                transform=transform, tiled=True, blockxsize=512, blockysize=512,
                compress="deflate", predictor=predictor, interleave="band",
                NUM_THREADS="ALL_CPUS", BIGTIFF="IF_SAFER")
        for r0 in range(0, size, STRIP):
            rows = slice(r0, min(size, r0 + STRIP))
            win = Window(0, r0, size, rows.stop - r0)
            for name, data in _fields(rows, size, rng).items():
                dsts[name].write(data, window=win)
            lc = np.kron(coarse[r0 // 64: -(-rows.stop // 64)], np.ones((64, 64), np.uint8))
            dsts["lc"].write(lc[: rows.stop - r0, :size], 1, window=win)
        for d in dsts.values():
            d.close()
    (root / "study.toml").write_text(STUDY.format(size=size, years=years, chunk=chunk))
    return files


def _cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def io_floor(files: list[Path], threads: int) -> tuple[float, float]:
    """(wall, CPU) seconds to read and decode every band of every file once
    (1024-cell windows)."""
    def read(job):
        path, win = job
        with rasterio.open(path) as src:
            src.read(window=win)

    jobs = []
    for path in files:
        with rasterio.open(path) as src:
            h, w = src.height, src.width
        jobs += [(path, Window(c, r, min(1024, w - c), min(1024, h - r)))
                 for r in range(0, h, 1024) for c in range(0, w, 1024)]
    t, c = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(read, jobs))
    return time.perf_counter() - t, _cpu(resource.RUSAGE_SELF) - c


def kernel_floor(size: int, years: int, threads: int) -> float:
    """Seconds the CASA kernel alone needs for the grid: one 1024 x 1024 chunk of
    decoded generated inputs, one thread, scaled by cells / (chunk cells x threads)."""
    import numba

    from carbon_balance import casa

    n = min(size, 1024)
    f = _fields(slice(0, n), n, np.random.default_rng(0))
    ndvi = f["ndvi"].astype(np.float32) * np.float32(1e-4)
    args = (ndvi, f["tmp"].astype(np.float32) / 10, f["pre"], f["sol"] * np.float32(2.6),
            np.full((n, n), 6, np.float32))
    bounds = {6: (0.1, 0.8)}
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        casa.annual_carbon(*args, bounds=bounds)          # compile / load the cache
        t = time.perf_counter()
        casa.annual_carbon(*args, bounds=bounds)
        one = time.perf_counter() - t
    finally:
        numba.set_num_threads(old)
    return one * size * size * years / (n * n) / threads


def run_nep(study: Path, out: Path, extra: list[str]) -> tuple[float, float, float, float]:
    """(wall seconds, CPU seconds, peak summed RSS of the process tree [GiB],
    max child RSS [GiB]). CPU time counts the waited-for processes only (with
    --workers, the worker processes are the cluster's, not counted)."""
    peak = [0]
    cmd = [sys.executable, "-m", "carbon_balance.cli", "-q", "nep", str(study), "--out",
           str(out), *extra]
    t, c = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)

    def sample():
        while proc.poll() is None:
            try:
                procs = [ps] + ps.children(recursive=True)
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - t
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"carbon-balance nep failed ({proc.returncode}):\n{err[-3000:]}")
    cpu = _cpu(resource.RUSAGE_CHILDREN) - c
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return elapsed, cpu, peak[0] / 2**30, child_max / 2**30


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=4096, help="grid edge [cells]")
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=1024, help="[grid] chunk_size")
    ap.add_argument("--workers", type=int, default=None, help="pass --workers N to nep")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated study (and reuse "
                    "it on the next run with the same --workdir, --size and --years)")
    ap.add_argument("--repeat", type=int, default=1, help="measure (a) then (b) this many "
                    "times, interleaved, and report each pair and the medians (the machine "
                    "is shared: single runs swing by 10-20 %%)")
    args = ap.parse_args(argv)
    years = [2001 + i for i in range(args.years)]
    if args.keep:
        root = (args.workdir or Path(tempfile.gettempdir())) / f"cb-bench-{args.size}-{args.years}"
    else:
        root = Path(tempfile.mkdtemp(prefix="cb-bench-", dir=args.workdir))
    shutil.rmtree(root / "out", ignore_errors=True)
    try:
        t = time.perf_counter()
        if (root / "study" / "study.toml").exists():
            files = sorted(p for p in (root / "study").glob("*.tif"))
            (root / "study" / "study.toml").write_text(
                STUDY.format(size=args.size, years=years, chunk=args.chunk))
        else:
            files = generate(root / "study", args.size, years, args.chunk)
        gen = time.perf_counter() - t
        disk = sum(f.stat().st_size for f in files) / 2**30
        as_f32 = 4 * 12 * 4 * args.size**2 * args.years / 2**30
        threads = os.cpu_count() or 1
        extra = ["--workers", str(args.workers)] if args.workers else []
        pairs = []
        for _ in range(max(1, args.repeat)):
            floor, floor_cpu = io_floor(files, threads)
            shutil.rmtree(root / "out", ignore_errors=True)
            nep, nep_cpu, peak, child = run_nep(root / "study" / "study.toml", root / "out",
                                                extra)
            pairs.append((floor, floor_cpu, nep, nep_cpu, peak, child))
        floor2, floor2_cpu = io_floor(files, threads)
        kernel = kernel_floor(args.size, args.years, threads)
        print(f"grid {args.size} x {args.size}, {args.years} year(s), chunk {args.chunk}, "
              f"{threads} cores{', workers ' + str(args.workers) if args.workers else ''}")
        print(f"inputs: {len(files)} files, {disk:.2f} GiB on disk, {as_f32:.2f} GiB as float32 "
              f"(4 monthly variables); generated in {gen:.1f} s")
        if len(pairs) > 1:
            print(f"(a), (b) and (c) of the last of {len(pairs)} pairs (all of them below):")
        print(f"(a) read + decode all inputs once: {floor:8.1f} s wall {floor_cpu:8.1f} s CPU"
              f"   (again after (b): {floor2:.1f} s wall, {floor2_cpu:.1f} s CPU)")
        print(f"(b) carbon-balance nep:            {nep:8.1f} s wall {nep_cpu:8.1f} s CPU")
        print(f"    (b)/(a) wall = {nep / floor:.2f} (second (a): {nep / floor2:.2f}); "
              f"CPU = {nep_cpu / floor_cpu:.2f} (second (a): {nep_cpu / floor2_cpu:.2f})")
        print(f"(k) CASA kernel alone, {threads} threads: {kernel:8.1f} s   "
              f"(b)/((a)+(k)) = {nep / (floor + kernel):.2f}")
        print(f"(c) peak memory: process tree {peak:.2f} GiB; largest process {child:.2f} GiB")
        if len(pairs) > 1:
            print(f"{len(pairs)} interleaved pairs, (a) then (b):")
            for i, (a, a_cpu, b, b_cpu, pk, _) in enumerate(pairs, 1):
                print(f"  {i}: (a) {a:5.1f} s / {a_cpu:5.1f} s CPU   (b) {b:5.1f} s / "
                      f"{b_cpu:5.1f} s CPU   (b)/(a) wall {b / a:.2f}, CPU {b_cpu / a_cpu:.2f}"
                      f"   peak {pk:.2f} GiB")
            wall = np.median([b / a for a, _, b, *_ in pairs])
            cpu = np.median([b_cpu / a_cpu for _, a_cpu, _, b_cpu, *_ in pairs])
            print(f"  median (b)/(a): wall {wall:.2f}, CPU {cpu:.2f}; "
                  f"largest peak {max(p[4] for p in pairs):.2f} GiB")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            shutil.rmtree(root / "out", ignore_errors=True)
            print(f"kept {root}/study")


if __name__ == "__main__":
    main()
