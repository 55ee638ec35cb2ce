"""The per-pixel trend kernel: sorted rows of pairwise slopes versus np.nanmedian.

Run: python benchmarks/trend_kernel.py [--pixels 100000] [--years 20] [--pairs 5]

Measures, in one process and as interleaved pairs, carbon_balance.analysis.trends.trend
(each pixel's pairwise slopes one contiguous row, sorted, the middle taken) against the
same kernel with the median of the pairs taken by np.median / np.nanmedian over axis 0
(the first version of the kernel, kept below as ``_block_nanmedian``), on series of
``--years`` normal values, without and with missing years (one pixel in 7 missing its
first year). Wall and CPU time of each, their ratio, the throughput in pixels per second,
and the largest difference of the results (both must agree to rounding).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy.stats import norm

from carbon_balance.analysis import trends


def _block_nanmedian(x, t, min_years):
    """The kernel with the median of axis 0 (np.median, np.nanmedian with a missing year)."""
    n = x.shape[0]
    i, j = np.triu_indices(n, 1)
    valid = ~np.isnan(x)
    nv = valid.sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore"):
        d = x[j] - x[i]
        s = np.nansum(np.sign(d), axis=0)
        d /= (t[j] - t[i])[:, None]
    if np.isnan(d).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            slope = np.nanmedian(d, axis=0)
    else:
        slope = np.median(d, axis=0)
    ties = np.zeros(x.shape[1])
    for k in range(n):
        g = (x == x[k]).sum(axis=0)
        ties += np.where(valid[k], (g - 1.0) * (2.0 * g + 5.0), 0.0)
    var = (nv * (nv - 1) * (2 * nv + 5) - ties) / 18.0
    root = np.sqrt(np.where(var > 0, var, 1.0))
    z = np.where(s > 0, (s - 1) / root, np.where(s < 0, (s + 1) / root, 0.0))
    p = 2.0 * norm.sf(np.abs(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = s / (nv * (nv - 1) / 2.0)
    out = np.stack([slope, p, s, var, z, tau, nv])
    out[:6, nv < min_years] = np.nan
    return out


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    r = fn()
    return r, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pixels", type=int, default=100_000)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    years = np.arange(2001, 2001 + a.years)
    full = rng.normal(size=(a.years, a.pixels)).astype(np.float32)
    gaps = full.copy()
    gaps[0, ::7] = np.nan
    sorted_block = trends._block
    print(f"{a.pixels:,} pixels x {a.years} years, {a.pairs} interleaved pairs; "
          "wall / CPU [s] of (a) np.median/np.nanmedian, (b) sorted rows (the kernel)")
    for label, x in (("no missing year", full), ("1 pixel in 7 missing a year", gaps)):
        ratios, cpu_ratios, rate = [], [], []
        for k in range(a.pairs):
            trends._block = _block_nanmedian
            ra, wa, ca = _timed(lambda: trends.trend(x, years))
            trends._block = sorted_block
            rb, wb, cb = _timed(lambda: trends.trend(x, years))
            diff = max(float(np.nanmax(np.abs(getattr(ra, f) - getattr(rb, f))))
                       for f in trends.FIELDS)
            ratios.append(wa / wb)
            cpu_ratios.append(ca / cb)
            rate.append(a.pixels / wb)
            print(f"  {label}, pair {k + 1}: (a) {wa:.2f} / {ca:.2f}, (b) {wb:.2f} / {cb:.2f}, "
                  f"(a)/(b) wall {wa / wb:.2f}, CPU {ca / cb:.2f}; largest difference "
                  f"{diff:.1e}")
        print(f"{label}: (a)/(b) wall median {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f}), CPU median "
              f"{statistics.median(cpu_ratios):.2f} ({min(cpu_ratios):.2f}-"
              f"{max(cpu_ratios):.2f}); (b) {statistics.median(rate):,.0f} pixels/s")


if __name__ == "__main__":
    main()
