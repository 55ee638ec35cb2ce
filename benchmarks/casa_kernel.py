"""Benchmark: the fused CASA kernel against straightforward numpy, and the kernel's
hand-written exp/log (casa/_fastmath.py) against numba's own vectorised maths.

All variants evaluate METHOD.md sections 1-2 (FPAR, Tε1, Tε2, Wε, NPP, Rh, NEP) on the
same generated inputs with the same NDVI bounds, in one run, timed in interleaved rounds
(each round runs every variant once, so load from other processes on a shared machine
hits all alike); each figure is the median over the rounds and the noise band is the
range of the per-round ratios. Variants:

- ``numpy``: the formulas array-at-a-time in the input dtype, written out below;
- ``kernel``: ``casa.kernel.run_kernel`` as shipped (``_fastmath`` exp/log, fastmath
  flags without nnan/ninf so NaN pixels stay NaN);
- ``numba-exp``: the same kernel source with ``np.exp``/``np.log`` (numba's own maths:
  SVML vector calls where numba found SVML, else the C library) and the same flags;
- ``numba-exp-fastmath``: as ``numba-exp`` with ``fastmath=True`` (all flags; NaN
  handling is then not guaranteed: timed, not used);
- ``bounds``: the exact per-class percentiles (casa.percentiles) against
  ``np.percentile`` per class, and ``annual_nep`` end to end.

    python benchmarks/casa_kernel.py [--pixels 1000000] [--repeat 7] [--dtype float32]

Inputs are generated (synthetic), plausible for subtropical China. Results are recorded
in benchmarks/RESULTS.md (section "CASA kernel").
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import sys
import time
import types

import numba
import numpy as np

from carbon_balance import casa
from carbon_balance.casa import kernel as casa_kernel_module
from carbon_balance.casa.fpar import casa_percentile_bounds
from carbon_balance.casa.tables import casa_parameters, to_casa_codes

# Parameters of METHOD.md, written out here so the baseline is independent of the package.
EPS_MAX = np.array([0.0, 0.485, 0.389, 0.692, 0.985, 0.475, 0.768, 0.429, 0.429, 0.542,
                    0.542, 0.542])


def numpy_bounds(ndvi, veg):
    """5th and 95th percentiles of each vegetated class's NDVI (np.percentile)."""
    lo = np.full(12, np.nan)
    hi = np.full(12, np.nan)
    for c in range(1, 12):
        v = ndvi[:, veg == c]
        v = v[np.isfinite(v)].astype(np.float64)
        if v.size:
            lo[c], hi[c] = np.percentile(v, [5, 95])
    return lo, hi


def numpy_baseline(ndvi, t, p, sol, veg, lo, hi):
    """Straightforward numpy evaluation of METHOD.md sections 1-2 (casa codes 0..11)."""
    dt = ndvi.dtype.type
    nlo, nhi = lo[veg].astype(dt), hi[veg].astype(dt)
    x = np.clip(ndvi, nlo, nhi)
    sr = (1 + x) / (1 - x)
    srlo, srhi = (1 + nlo) / (1 - nlo), (1 + nhi) / (1 - nhi)
    f = 0.5 * ((x - nlo) / (nhi - nlo) * dt(0.949) + dt(0.001)) + 0.5 * (
        (sr - srlo) / (srhi - srlo) * dt(0.949) + dt(0.001))
    month = np.argmax(ndvi, axis=0)
    topt = np.take_along_axis(t, month[None], axis=0)[0]
    te1 = np.maximum(dt(0.8) + dt(0.02) * topt - dt(0.0005) * topt**2, 0)
    te1 = np.where(t <= -10, dt(0), te1)
    te2 = dt(1.1814) / (1 + np.exp(dt(0.2) * (topt - 10 - t))) / (
        1 + np.exp(dt(0.3) * (-topt - 10 + t)))
    half = dt(0.5 * 1.1814 / (1 + np.exp(-2.0)) / (1 + np.exp(-3.0)))
    te2 = np.where((t - topt > 10) | (topt - t > 13), half, te2)
    tpos = np.maximum(t, 0)
    heat = ((tpos / 5) ** dt(1.514)).sum(axis=0)
    a = (dt(0.6751) * heat**3 - dt(77.1) * heat**2 + dt(17920) * heat + dt(492390)) * dt(1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        ep0 = np.where(t > 0, 16 * (10 * tpos / heat) ** a, dt(0))
        rn = np.sqrt(ep0 * p) * (dt(0.369) + dt(0.598) * np.sqrt(ep0 / p))
        eet = p * rn * (p**2 + rn**2 + p * rn) / ((p + rn) * (p**2 + rn**2))
        eet = np.where(p == 0, dt(0), eet)
        w = np.clip(dt(0.5) + dt(0.5) * eet / ((eet + ep0) / 2), dt(0.5), dt(1))
    w = np.where(ep0 == 0, dt(1), w)
    npp = sol * f * dt(0.5) * te1 * te2 * w * EPS_MAX[veg].astype(dt)
    rh = dt(0.22) * (np.exp(dt(0.0913) * t) + np.log(dt(0.3145) * p + 1)) * dt(30 * 0.465)
    nep = (npp - rh).sum(axis=0)
    return np.where(veg == 0, dt(0), nep)


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


def kernel_variant(name: str, fastmath_all: bool) -> types.ModuleType:
    """casa/kernel.py compiled again with numba's np.exp/np.log instead of _fastmath's
    (and optionally fastmath=True): the same source, only those calls swapped."""
    source = inspect.getsource(casa_kernel_module)
    source = (source.replace("fast_exp(", "np.exp(").replace("fast_log(", "np.log(")
              .replace("cache=True", "cache=False")
              .replace("from ._fastmath import fast_exp, fast_log\n", "")
              .replace("from .parameters", "from carbon_balance.casa.parameters"))
    if fastmath_all:
        source = source.replace("fastmath=FASTMATH", "fastmath=True")
    module = types.ModuleType(f"casa_kernel_{name}")
    module.__dict__["__name__"] = module.__name__
    sys.modules[module.__name__] = module
    exec(compile(source, f"<{module.__name__}>", "exec"), module.__dict__)
    return module


def rounds(fns: dict, repeat: int):
    """{name: [wall times]} of ``repeat`` interleaved rounds, and each function's output."""
    times = {k: [] for k in fns}
    outs = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            outs[name] = fn()
            times[name].append(time.perf_counter() - start)
    return times, outs


def ratio(times, slow, fast):
    """(median ratio of the medians, lowest and highest per-round ratio)."""
    per_round = np.array(times[slow]) / np.array(times[fast])
    return (float(np.median(times[slow]) / np.median(times[fast])), float(per_round.min()),
            float(per_round.max()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixels", type=int, default=1_000_000, help="pixel-years (default 1e6)")
    ap.add_argument("--repeat", type=int, default=7, help="interleaved rounds (>= 5)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = ap.parse_args(argv)
    ndvi, t, p, sol, veg = generate(args.pixels, args.dtype)
    codes = to_casa_codes(veg)
    bounds = casa_percentile_bounds(ndvi, codes)
    lo = np.full(12, np.nan)
    hi = np.full(12, np.nan)
    for c, (a, b) in bounds.items():
        lo[c], hi[c] = a, b
    types_ = casa_parameters()
    flat = [np.ascontiguousarray(a) for a in (ndvi, t, p, sol)]
    params = casa.DEFAULT_PARAMETERS
    variants = {"kernel": casa_kernel_module,
                "numba-exp": kernel_variant("numba_exp", False),
                "numba-exp-fastmath": kernel_variant("numba_exp_fastmath", True)}
    small = [a[:, :512].copy() for a in flat]
    for module in variants.values():     # compile (or load) every variant first
        module.run_kernel(small, codes[:512], types_, lo, hi, params, False)
    casa.annual_nep(*small, veg[:512])

    fns = {"numpy": lambda: numpy_baseline(ndvi, t, p, sol, veg, lo, hi)}
    for name, module in variants.items():
        fns[name] = (lambda m: lambda: m.run_kernel(flat, codes, types_, lo, hi, params,
                                                    False)[2])(module)
    fns["np.percentile bounds"] = lambda: numpy_bounds(ndvi, veg)
    fns["exact bounds"] = lambda: casa_percentile_bounds(ndvi, codes)
    fns["annual_nep"] = lambda: casa.annual_nep(ndvi, t, p, sol, veg)
    times, outs = rounds(fns, args.repeat)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"inputs: GENERATED, {args.pixels:,} pixel-years x 12 months, {args.dtype}; "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"numba {numba.__version__}, {numba.get_num_threads()} threads, "
          f"SVML {'yes' if numba.config.USING_SVML else 'no'}, load average {load:.1f}; "
          f"{args.repeat} interleaved rounds")
    months = 12 * args.pixels
    for name, ts in times.items():
        m = float(np.median(ts))
        print(f"{name:22s}: median {m:7.3f} s  (min {min(ts):.3f}, max {max(ts):.3f})"
              f"  {months / m:14,.0f} pixel-months/s")
    for slow, fast in (("numpy", "kernel"), ("numba-exp", "kernel"),
                       ("numba-exp-fastmath", "kernel"), ("np.percentile bounds", "exact bounds")):
        r, a, b = ratio(times, slow, fast)
        print(f"{slow + ' / ' + fast:40s}: {r:6.2f} x  (per-round band {a:.2f}-{b:.2f})")
    ref = outs["numpy"].astype(np.float64)
    agree = True
    for name in ("kernel", "numba-exp", "annual_nep"):
        got = outs[name].astype(np.float64)
        diff = np.nanmax(np.abs(got - ref))
        ok = np.array_equal(np.isnan(got), np.isnan(ref)) and diff <= 1e-2 * (
            1 if args.dtype == "float64" else 10)
        agree &= ok
        print(f"agreement {name:12s}: max |NEP difference| vs numpy = {diff:.2e} g C m-2 yr-1"
              f" ({'OK' if ok else 'DISAGREE'})")
    same = {k: v for k, v in bounds.items()}
    print(f"bounds identical to np.percentile: "
          f"{all(np.array_equal(numpy_bounds(ndvi, veg)[i][c], same[c][i]) for c in same for i in (0, 1))}")
    return 0 if agree else 1


if __name__ == "__main__":
    importlib.invalidate_caches()
    raise SystemExit(main())
