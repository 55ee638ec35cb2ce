"""Cost of the attribution (issue 16 item 3) against one ``nep`` run of the same study.

Generates the demo study (31 MRYRUA cities, 2005, 2010, 2015, 2020, generated inputs),
then times, in interleaved pairs so that the machine's load hits both alike:

- (a) ``carbon-balance nep STUDY --out A`` (the histogram pass of the 4 years, then the
  NPP pass of each year: 4 CASA evaluations per cell);
- (b) ``carbon-balance attribute STUDY --from 2005 --to 2020 --out B`` (the same 4
  histogram passes for the pooled bounds, then one pass that reads both years and
  evaluates CASA 12 times per cell, the zonal sums and the emissions).

Each side is a fresh process (``python -m carbon_balance --quiet``); wall time and the
CPU time of the process and its children are recorded. The emission forecasts are
fitted once before timing, into a cache under the temporary folder (``XDG_CACHE_HOME``
of the child processes only). Prints every pair, the medians and the range of the
ratios (the noise band).

    python benchmarks/attribution_cost.py [--pairs 5] [--resolution 0.01]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU of the child) [s] of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "carbon_balance", "--quiet", *args], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--resolution", type=float, default=0.01)
    a = ap.parse_args()
    from carbon_balance.demo.generate import make_demo_inputs

    work = Path(tempfile.mkdtemp(prefix="cb-attr-bench-"))
    env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"))
    try:
        study = make_demo_inputs(work / "inputs", resolution=a.resolution)
        nep = ["nep", str(study), "--out", str(work / "nep"), "--overwrite"]
        attr = ["attribute", str(study), "--from", "2005", "--to", "2020", "--out",
                str(work / "attr"), "--overwrite"]
        timed(attr, env)   # warm: emission fits cached, numba kernels compiled
        rows = []
        for i in range(a.pairs):
            # alternate which side goes first
            if i % 2 == 0:
                n, t = timed(nep, env), timed(attr, env)
            else:
                t, n = timed(attr, env), timed(nep, env)
            rows.append((n, t))
            print(f"pair {i + 1}: nep {n[0]:6.1f} s wall / {n[1]:6.1f} s CPU   "
                  f"attribute {t[0]:6.1f} s wall / {t[1]:6.1f} s CPU   "
                  f"ratio wall {t[0] / n[0]:.2f}  CPU {t[1] / n[1]:.2f}", flush=True)
        med = statistics.median
        wall = [t[0] / n[0] for n, t in rows]
        cpu = [t[1] / n[1] for n, t in rows]
        print(f"grid {a.resolution}°, 31 units, 4 years, {a.pairs} interleaved pairs")
        print(f"nep        median {med(n[0] for n, _ in rows):6.1f} s wall, "
              f"{med(n[1] for n, _ in rows):6.1f} s CPU")
        print(f"attribute  median {med(t[0] for _, t in rows):6.1f} s wall, "
              f"{med(t[1] for _, t in rows):6.1f} s CPU")
        print(f"ratio attribute / nep: wall {med(wall):.2f} ({min(wall):.2f}-{max(wall):.2f}), "
              f"CPU {med(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
