"""Peak memory of ``carbon-balance uncertainty`` on a large generated study (issue 12).

Opt-in (not part of the test suite)::

    python benchmarks/uncertainty_memory.py --size 4096 --draws 200   # target: < 1.5 GiB

Generates the rasters of ``benchmarks/grid_pipeline.py`` (GENERATED data: smooth
seasonal fields plus noise, ``--size`` x ``--size`` cells, one year), four unit polygons
(the quadrants of the grid) and generated emission and GDP tables (labelled as such),
then runs ``carbon-balance uncertainty STUDY --draws N`` in a subprocess and records the
peak of the summed RSS of its process tree (sampled every 0.1 s with psutil) and its
wall and CPU time. ``--repeat`` runs it several times (the machine is shared).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from grid_pipeline import generate  # noqa: E402  (the benchmark's generated rasters)

TABLES = """
[units]
path = "units.gpkg"
id = "code"
name = "label"

[emissions]
path = "emissions.csv"
id = "code"
units = "Mt CO2"
fill = "naive"

[gdp]
path = "gdp.csv"
id = "code"
units = "1e8 yuan"
"""
#: Inventory years of the generated tables (complete: no gap filling needed).
TABLE_YEARS = list(range(1994, 2002))


def add_units_and_tables(root: Path) -> None:
    """Four quadrant units over the generated grid (108-112 E, 29-33 N) and GENERATED
    emissions (Mt CO2) and GDP (1e8 yuan) growing 5 % a year."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    ids = ["NW", "NE", "SW", "SE"]
    boxes = [box(108.0, 31.0, 110.0, 33.0), box(110.0, 31.0, 112.0, 33.0),
             box(108.0, 29.0, 110.0, 31.0), box(110.0, 29.0, 112.0, 31.0)]
    gpd.GeoDataFrame({"code": ids, "label": [f"generated unit {i}" for i in ids]},
                     geometry=boxes, crs="EPSG:4326").to_file(root / "units.gpkg", driver="GPKG")
    for name, base in (("emissions", 20.0), ("gdp", 3000.0)):
        pd.DataFrame({"code": ids} | {str(y): [base * (k + 1) * 1.05 ** (y - TABLE_YEARS[0])
                                               for k in range(4)] for y in TABLE_YEARS}
                     ).to_csv(root / f"{name}.csv", index=False)
    study = root / "study.toml"
    study.write_text(study.read_text() + TABLES)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_uncertainty(study: Path, out: Path, draws: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak summed RSS of the process tree [GiB])."""
    cmd = [sys.executable, "-m", "carbon_balance", "-q", "uncertainty", str(study), "--draws",
           str(draws), "--out", str(out), "--overwrite"]
    peak = [0]
    t, c = time.perf_counter(), _cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)

    def sample():
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], sum(p.memory_info().rss
                                           for p in [ps] + ps.children(recursive=True)))
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"carbon-balance uncertainty failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, _cpu() - c, peak[0] / 2**30


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=4096, help="grid edge [cells]")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=1024, help="[grid] chunk_size")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated study (and reuse "
                    "it on the next run with the same --workdir and --size)")
    args = ap.parse_args(argv)
    if args.keep:
        root = (args.workdir or Path(tempfile.gettempdir())) / f"cb-unc-mem-{args.size}"
    else:
        root = Path(tempfile.mkdtemp(prefix="cb-unc-mem-", dir=args.workdir))
    try:
        t = time.perf_counter()
        if not (root / "study" / "units.gpkg").exists():
            shutil.rmtree(root / "study", ignore_errors=True)
            generate(root / "study", args.size, [2001], args.chunk)
            add_units_and_tables(root / "study")
        print(f"grid {args.size} x {args.size}, 1 year, 4 units, {args.draws} draws, chunk "
              f"{args.chunk}; generated in {time.perf_counter() - t:.1f} s")
        peaks = []
        for i in range(max(1, args.repeat)):
            wall, cpu, peak = run_uncertainty(root / "study" / "study.toml", root / "out",
                                              args.draws)
            peaks.append(peak)
            print(f"  {i + 1}: {wall:6.1f} s wall {cpu:6.1f} s CPU   peak {peak:.2f} GiB")
        print(f"peak memory: {min(peaks):.2f}-{max(peaks):.2f} GiB (median "
              f"{float(np.median(peaks)):.2f}) over {len(peaks)} run(s)")
    finally:
        shutil.rmtree(root / "out", ignore_errors=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
