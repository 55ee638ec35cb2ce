"""Benchmark of a long annual series (issue 16): one N-year study against N one-year runs.

Opt-in (not part of the test suite)::

    python benchmarks/series.py                          # 20 years, 1024 x 1024, 5 pairs
    python benchmarks/series.py --years 20 --size 1024 --repeat 5 --results benchmarks/RESULTS.md

In one run it

1. generates one synthetic study (GENERATED data, the generator of
   ``benchmarks/grid_pipeline.py``: smooth seasonal fields plus noise, NDVI int16 x 1e-4,
   temperature int16 in 0.1 degC, precipitation and radiation float32, CAS-LUCC land cover)
   of ``--size`` x ``--size`` cells and ``--years`` years (2001, 2002, ...), and beside its
   ``study.toml`` (``years = "2001-2020"``) one study file per year on the same files;
2. measures ``--repeat`` interleaved pairs: (s) ``carbon-balance nep`` of the N-year study
   in a subprocess, then (o) ``carbon-balance nep`` of each one-year study, one subprocess
   after the other (the order of (s) and (o) alternates between pairs, so a load trend of
   the shared machine does not favour either);
3. reports per pair the wall and CPU times of (s) and of the N runs of (o) together, the
   ratios (s)/(o), and the peak memory of each: the summed RSS of the process tree,
   sampled every 0.1 s with psutil (for (o) the largest of its N runs); then the medians
   and the range over the pairs (the noise band);
4. for context, the start-up cost that (o) pays N times: ``carbon-balance --version`` in a
   subprocess, and the NPP pass of the last year alone;
5. :func:`attribution_cost`: the cost of the attribution (issue 16 part D) against one
   run, once that module exists (a hook for its engineer).

The NDVI bounds are pooled over all N years in (s) and over one year in each run of (o):
the same work per year (one histogram pass, one NPP pass), different bounds; the cost is
compared, not the numbers. With ``--results FILE`` the section "Issue 16: long series"
of FILE (benchmarks/RESULTS.md) is written (replaced if there) with the figures.

The generated files and outputs are deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import grid_pipeline as gp  # noqa: E402  (the generator and the timed subprocess run)

SECTION = "## Issue 16: long series"


def study_text(size: int, years: list[int], chunk: int) -> str:
    """The generated study's file for ``years`` (a range text for several)."""
    text = gp.STUDY.format(size=size, years=years, chunk=chunk)
    if len(years) > 1:
        text = text.replace(f"years = {years}", f'years = "{years[0]}-{years[-1]}"')
    return text


def run(study: Path, out: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS of the process tree [GiB]) of ``nep study --out out``."""
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu, peak, _ = gp.run_nep(study, out, [])
    shutil.rmtree(out, ignore_errors=True)
    return wall, cpu, peak


def series_run(root: Path) -> tuple[float, float, float]:
    return run(root / "study.toml", root.parent / "out-series")


def one_year_runs(root: Path, years: list[int]) -> tuple[float, float, float]:
    """The N one-year runs: summed wall and CPU, the largest peak."""
    parts = [run(root / f"study_{y}.toml", root.parent / f"out-{y}") for y in years]
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), max(p[2] for p in parts))


def startup() -> float:
    """Wall seconds of ``carbon-balance --version`` in a subprocess (interpreter start and
    the command-line import, which every one-year run pays once)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "carbon_balance.cli", "--version"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def attribution_cost(root: Path, years: list[int]) -> str:
    """The attribution's cost against one run (issue 16 part D): a hook for the engineer
    of ``carbon_balance.analysis.attribution``. Returns a line for the report."""
    if importlib.util.find_spec("carbon_balance.analysis.attribution") is None:
        return "attribution: not yet (carbon_balance.analysis.attribution is absent)"
    raise NotImplementedError("attribution_cost: to be filled by the attribution's engineer "
                              "(time `carbon-balance attribute` of the first and last year "
                              "against one `nep` run of the same grid, interleaved)")


def _band(values) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def write_results(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` in place of an earlier one of the same title."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    else:
        first = text.find("\n## ")
        text = (text + "\n" + section) if first < 0 else (text[:first + 1] + section + "\n"
                                                          + text[first + 1:])
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--size", type=int, default=1024, help="grid edge [cells]")
    ap.add_argument("--chunk", type=int, default=512, help="[grid] chunk_size")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved pairs")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the generated study")
    ap.add_argument("--results", type=Path, default=None,
                    help=f"write the section '{SECTION[3:]}' into this file")
    args = ap.parse_args(argv)
    years = [2001 + i for i in range(args.years)]
    base = args.workdir or Path(tempfile.gettempdir())
    top = (base / f"cb-series-{args.size}-{args.years}") if args.keep else \
        Path(tempfile.mkdtemp(prefix="cb-series-", dir=args.workdir))
    root = top / "study"
    try:
        t = time.perf_counter()
        if not (root / "study.toml").exists():
            gp.generate(root, args.size, years, args.chunk)
        (root / "study.toml").write_text(study_text(args.size, years, args.chunk))
        for y in years:
            (root / f"study_{y}.toml").write_text(study_text(args.size, [y], args.chunk))
        gen = time.perf_counter() - t
        disk = sum(f.stat().st_size for f in root.glob("*.tif")) / 2**30
        print(f"grid {args.size} x {args.size}, {args.years} years, chunk {args.chunk}, "
              f"{os.cpu_count()} cores; inputs {disk:.2f} GiB on disk (generated in {gen:.0f} s)",
              flush=True)
        load0 = os.getloadavg()[0]
        pairs = []
        for i in range(max(1, args.repeat)):
            if i % 2 == 0:
                s, o = series_run(root), one_year_runs(root, years)
            else:
                o, s = one_year_runs(root, years), series_run(root)
            pairs.append((s, o))
            print(f"  pair {i + 1}: (s) {s[0]:6.1f} s / {s[1]:6.1f} s CPU, peak {s[2]:.2f} GiB; "
                  f"(o) {o[0]:6.1f} s / {o[1]:6.1f} s CPU, peak {o[2]:.2f} GiB; "
                  f"(s)/(o) wall {s[0] / o[0]:.2f}, CPU {s[1] / o[1]:.2f}, "
                  f"memory {s[2] / o[2]:.2f}", flush=True)
        start = statistics.median(startup() for _ in range(5))
        one = run(root / f"study_{years[-1]}.toml", top / "out-last")
        load1 = os.getloadavg()[0]
        attribution = attribution_cost(root, years)
        wall = [s[0] / o[0] for s, o in pairs]
        cpu = [s[1] / o[1] for s, o in pairs]
        mem = [s[2] / o[2] for s, o in pairs]
        lines = [
            SECTION + f" ({datetime.date.today():%d %b %Y})", "",
            f"    python benchmarks/series.py --years {args.years} --size {args.size} "
            f"--chunk {args.chunk} --repeat {args.repeat}", "",
            f"One {args.years}-year study, (s), against {args.years} one-year runs of the same "
            f"grid and files, (o): `carbon-balance nep` in a subprocess each, "
            f"{args.size} x {args.size} cells, chunk {args.chunk}, GENERATED inputs "
            f"({disk:.2f} GiB on disk), {len(pairs)} interleaved pairs (the order alternates). "
            f"Peak memory: the summed RSS of the process tree, sampled every 0.1 s "
            f"(for (o) the largest of its runs). Load average {load0:.1f} before, "
            f"{load1:.1f} after, on {os.cpu_count()} cores ({platform.machine()}).", "",
            "| pair | (s) wall / CPU | (o) wall / CPU | (s)/(o) wall | (s)/(o) CPU | "
            "peak (s) | peak (o) |", "|---|---|---|---|---|---|---|"]
        for i, (s, o) in enumerate(pairs, 1):
            lines.append(f"| {i} | {s[0]:.1f} s / {s[1]:.1f} s | {o[0]:.1f} s / {o[1]:.1f} s "
                         f"| {s[0] / o[0]:.2f} | {s[1] / o[1]:.2f} | {s[2]:.2f} GiB | "
                         f"{o[2]:.2f} GiB |")
        lines += [f"| **median** | | | **{_band(wall)}** | **{_band(cpu)}** | "
                  f"memory (s)/(o) {_band(mem)} | |", "",
                  f"Context: each one-year run pays a command's fixed cost once; its smallest "
                  f"part, `carbon-balance --version` (interpreter and CLI import only), "
                  f"takes {start:.1f} s wall (median of 5); one "
                  f"one-year run took {one[0]:.1f} s wall / {one[1]:.1f} s CPU afterwards. "
                  f"{attribution}.", ""]
        section = "\n".join(lines)
        print()
        print(section)
        if args.results is not None:
            write_results(args.results, section)
            print(f"written into {args.results}")
    finally:
        if not args.keep:
            shutil.rmtree(top, ignore_errors=True)
        else:
            for out in top.glob("out-*"):
                shutil.rmtree(out, ignore_errors=True)
            print(f"kept {root}")


if __name__ == "__main__":
    main()
