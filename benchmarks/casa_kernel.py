"""Benchmark: the fused CASA kernel (`casa.annual_nep`) against straightforward numpy.

Both evaluate METHOD.md sections 1-2 (percentile NDVI bounds, FPAR, Tε1, Tε2, Wε, NPP,
Rh, NEP) on the same generated inputs, in one run, and must agree. The numpy baseline
below is the formulas written array-at-a-time, as one would without a kernel.

    python benchmarks/casa_kernel.py [--pixels 1000000] [--repeat 5] [--dtype float32]

Prints pixel-months per second of each and the ratio. Inputs are generated (synthetic),
plausible for subtropical China; the figures are recorded in docs/performance.md.

    python benchmarks/casa_kernel.py --libm [--pairs 3]

compares the kernel with the hand-written branch-free exp/log (``casa/_fastmath.py``)
against the same kernel calling numba's own ``np.exp``/``np.log`` (with ``fastmath``,
which uses SVML where numba finds it): each variant in its own process with an empty
numba cache (so neither reuses the other's compiled kernel), the processes interleaved
in pairs, each reporting the median of ``--repeat`` calls after compiling.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np

from carbon_balance import casa

# Parameters of METHOD.md, written out here so the baseline is independent of the package.
EPS_MAX = np.array([0.0, 0.485, 0.389, 0.692, 0.985, 0.475, 0.768, 0.429, 0.429, 0.542,
                    0.542, 0.542])


def numpy_baseline(ndvi, t, p, sol, veg):
    """Straightforward numpy evaluation of METHOD.md sections 1-2 (casa codes 0..11)."""
    valid = np.isfinite(ndvi)
    lo = np.full(12, np.nan)
    hi = np.full(12, np.nan)
    for c in range(1, 12):
        v = ndvi[:, veg == c]
        v = v[np.isfinite(v)].astype(np.float64)
        if v.size:
            lo[c], hi[c] = np.percentile(v, [5, 95])
    del valid
    nlo, nhi = lo[veg], hi[veg]
    x = np.clip(ndvi, nlo, nhi)
    sr = (1 + x) / (1 - x)
    srlo, srhi = (1 + nlo) / (1 - nlo), (1 + nhi) / (1 - nhi)
    f = 0.5 * ((x - nlo) / (nhi - nlo) * 0.949 + 0.001) + 0.5 * ((sr - srlo) / (srhi - srlo) * 0.949 + 0.001)
    # Topt
    month = np.argmax(ndvi, axis=0)
    topt = np.take_along_axis(t, month[None], axis=0)[0]
    te1 = np.maximum(0.8 + 0.02 * topt - 0.0005 * topt**2, 0)
    te1 = np.where(t <= -10, 0.0, te1)
    te2 = 1.1814 / (1 + np.exp(0.2 * (topt - 10 - t))) / (1 + np.exp(0.3 * (-topt - 10 + t)))
    half = 0.5 * 1.1814 / (1 + np.exp(-2.0)) / (1 + np.exp(-3.0))
    te2 = np.where((t - topt > 10) | (topt - t > 13), half, te2)
    # Thornthwaite and Zhou-Zhang
    tpos = np.maximum(t, 0)
    heat = ((tpos / 5) ** 1.514).sum(axis=0)
    a = (0.6751 * heat**3 - 77.1 * heat**2 + 17920 * heat + 492390) * 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        ep0 = np.where(t > 0, 16 * (10 * tpos / heat) ** a, 0.0)
        rn = np.sqrt(ep0 * p) * (0.369 + 0.598 * np.sqrt(ep0 / p))
        eet = p * rn * (p**2 + rn**2 + p * rn) / ((p + rn) * (p**2 + rn**2))
        eet = np.where(p == 0, 0.0, eet)
        w = np.clip(0.5 + 0.5 * eet / ((eet + ep0) / 2), 0.5, 1)
    w = np.where(ep0 == 0, 1.0, w)
    npp = sol * f * 0.5 * te1 * te2 * w * EPS_MAX[veg]
    rh = 0.22 * (np.exp(0.0913 * t) + np.log(0.3145 * p + 1)) * 30 * 0.465
    nep = (npp - rh).sum(axis=0)
    return np.where(veg == 0, 0.0, nep)


def generate(n, dtype, seed=2024):
    """Generated (synthetic) monthly inputs for n pixels: a seasonal cycle plus noise."""
    rng = np.random.default_rng(seed)
    month = np.arange(12)[:, None]
    season = -np.cos(2 * np.pi * (month + 0.5) / 12)
    t = 17 + rng.normal(0, 6, n) + 11 * season + rng.normal(0, 1.5, (12, n))
    p = rng.gamma(2.0, 1.0, (12, n)) * (60 + 50 * (season + 1))
    p[rng.random((12, n)) < 0.02] = 0.0
    sol = 380 + 170 * season + rng.normal(0, 30, (12, n))
    ndvi = np.clip(0.45 + 0.2 * season + rng.normal(0, 0.12, (12, n)), -0.2, 0.92)
    veg = rng.choice(12, n, p=[0.1] + [0.9 / 11] * 11)
    return [a.astype(dtype) for a in (ndvi, t, p, sol)] + [veg]


def interleaved_best(fns, repeat):
    """(best, median) of N wall times of each function, runs interleaved so that load
    from other processes on a shared machine hits both alike."""
    times = [[] for _ in fns]
    outs = [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - start)
    return [(min(t), float(np.median(t))) for t in times], outs


def _variant(math: str, pixels: int, dtype: str, repeat: int) -> float:
    """Median seconds of ``casa.annual_nep`` in a child process, with ``math`` "hand"
    (casa/_fastmath.py) or "libm" (numba's np.exp/np.log)."""
    import json
    import subprocess
    import sys
    import tempfile

    code = f"""
import json, time, numba, numpy as np
from carbon_balance import casa
from carbon_balance.casa import model
if {math!r} == "libm":
    @numba.njit(inline="always", fastmath=True)
    def _exp(x):
        return np.exp(x)
    @numba.njit(inline="always", fastmath=True)
    def _log(x):
        return np.log(x)
    model.fast_exp, model.fast_log = _exp, _log   # bound before the kernels compile
import casa_kernel as b
ndvi, t, p, sol, veg = b.generate({pixels}, {dtype!r})
casa.annual_nep(ndvi[:, :1000], t[:, :1000], p[:, :1000], sol[:, :1000], veg[:1000])
times = []
for _ in range({repeat}):
    s = time.perf_counter(); casa.annual_nep(ndvi, t, p, sol, veg)
    times.append(time.perf_counter() - s)
print(json.dumps(float(np.median(times))))
"""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache,
                   PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.abspath(__file__)),
                                               os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare_libm(pixels: int, dtype: str, repeat: int, pairs: int) -> None:
    rows = []
    for _ in range(pairs):
        hand, libm = _variant("hand", pixels, dtype, repeat), _variant("libm", pixels, dtype, repeat)
        rows.append((hand, libm))
        print(f"  hand-written exp/log {hand:.3f} s   numba np.exp/np.log {libm:.3f} s   "
              f"libm / hand {libm / hand:.2f}")
    ratios = [b / a for a, b in rows]
    print(f"median libm / hand over {pairs} pairs: {float(np.median(ratios)):.2f} "
          f"({min(ratios):.2f}-{max(ratios):.2f}); {dtype}, {pixels:,} pixel-years")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixels", type=int, default=1_000_000, help="pixel-years (default 1e6)")
    ap.add_argument("--repeat", type=int, default=5, help="best of N interleaved timings")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--libm", action="store_true", help="compare the hand-written exp/log "
                    "with numba's own np.exp/np.log instead")
    ap.add_argument("--pairs", type=int, default=3, help="interleaved pairs of --libm")
    args = ap.parse_args(argv)
    if args.libm:
        compare_libm(args.pixels, args.dtype, args.repeat, args.pairs)
        return 0
    ndvi, t, p, sol, veg = generate(args.pixels, args.dtype)
    months = 12 * args.pixels
    casa.annual_nep(ndvi[:, :1000], t[:, :1000], p[:, :1000], sol[:, :1000], veg[:1000])  # JIT
    (t_kernel, t_numpy), (nep, ref) = interleaved_best(
        [lambda: casa.annual_nep(ndvi, t, p, sol, veg),
         lambda: numpy_baseline(ndvi, t, p, sol, veg)], args.repeat)
    diff = np.abs(nep.astype(np.float64) - ref)
    agree = np.array_equal(np.isnan(nep), np.isnan(ref)) and np.nanmax(diff) <= 1e-2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"inputs: GENERATED, {args.pixels:,} pixel-years x 12 months, {args.dtype}; "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"numba threads {numba.get_num_threads()}, load average {load:.1f}")
    (t_kernel, m_kernel), (t_numpy, m_numpy) = t_kernel, t_numpy
    cpu = f"{numba.get_num_threads()} numba threads"
    print(f"numpy baseline : {t_numpy:8.3f} s  {months / t_numpy:14,.0f} pixel-months/s"
          f"   (median {m_numpy:.3f} s)")
    print(f"casa.annual_nep: {t_kernel:8.3f} s  {months / t_kernel:14,.0f} pixel-months/s"
          f"   (median {m_kernel:.3f} s, {cpu})")
    print(f"ratio          : {t_numpy / t_kernel:8.1f} x best, {m_numpy / m_kernel:.1f} x median")
    print(f"agreement      : max |NEP difference| = {np.nanmax(diff):.2e} g C m-2 yr-1 "
          f"({'OK' if agree else 'DISAGREE'}, tolerance 1e-2)")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
