"""Cost of the Monte Carlo uncertainty analysis relative to one plain run (issue 7).

Generates the demo study (31 MRYRUA cities, 4 years, generated inputs on a 0.01° grid),
then times, alternately and in one process tree so that machine load hits both alike:

- ``carbon-balance run STUDY --out A`` (grids, tables, figures and report),
- ``carbon-balance run STUDY --out A --no-report`` (grids and tables only),
- ``carbon-balance uncertainty STUDY --draws N --out B``.

Emission forecasts are fitted once before timing (the ARIMA cache), so that neither
side pays for them. Prints each time and the ratios uncertainty / run.

    python benchmarks/uncertainty_cost.py [--draws 1000] [--repeat 2] [--resolution 0.01]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "carbon_balance", "--quiet", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--resolution", type=float, default=0.01)
    a = ap.parse_args()
    from carbon_balance.demo.generate import make_demo_inputs

    work = Path(tempfile.mkdtemp(prefix="cb-unc-bench-"))
    try:
        study = make_demo_inputs(work / "inputs", resolution=a.resolution)
        timed(["run", str(study), "--out", str(work / "warm"), "--no-report"])  # ARIMA cache
        runs, bare, unc = [], [], []
        for _ in range(a.repeat):
            runs.append(timed(["run", str(study), "--out", str(work / "run"), "--overwrite"]))
            bare.append(timed(["run", str(study), "--out", str(work / "bare"), "--overwrite",
                               "--no-report"]))
            unc.append(timed(["uncertainty", str(study), "--draws", str(a.draws), "--out",
                              str(work / "unc"), "--overwrite"]))
        med = statistics.median
        print(f"grid {a.resolution}°, 31 units, 4 years, {a.draws} draws, {a.repeat} repeats")
        print(f"run (with report)      median {med(runs):6.1f} s  all {[round(x, 1) for x in runs]}")
        print(f"run --no-report        median {med(bare):6.1f} s  all {[round(x, 1) for x in bare]}")
        print(f"uncertainty            median {med(unc):6.1f} s  all {[round(x, 1) for x in unc]}")
        print(f"ratio uncertainty / run             {med(unc) / med(runs):.2f}")
        print(f"ratio uncertainty / run --no-report {med(unc) / med(bare):.2f}  (target <= 3)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
