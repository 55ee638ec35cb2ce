"""One-pass numba loops for the per-chunk chores of the grid passes.

Each replaces a chain of whole-array numpy steps (every one a pass over ~50 MB per
chunk input) with one pass, giving the same float32 results bit for bit: the arithmetic
is the same IEEE float32 operations in the same order, without fastmath.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def _decode(raw, out, nodata, has_nodata, scale, offset):
    flat_in = raw.reshape(-1)
    flat_out = out.reshape(-1)
    has_offset = offset != 0     # adding 0 would turn -0.0 into +0.0: skipped, as in numpy
    for i in range(flat_in.size):
        v = np.float32(flat_in[i])
        if has_nodata and v == nodata:
            flat_out[i] = np.nan
        else:
            v = v * scale
            flat_out[i] = v + offset if has_offset else v


def decode_integers(raw: np.ndarray, nodata: float | None, scale: float,
                    offset: float) -> np.ndarray:
    """float32 ``raw * scale + offset`` with ``raw == nodata`` as NaN (the comparison made
    in float32, as after GDAL's conversion); the same as the numpy steps of
    :func:`carbon_balance.grid.readers.read_raw`."""
    out = np.empty(raw.shape, np.float32)
    has = nodata is not None and not np.isnan(nodata)
    _decode(np.ascontiguousarray(raw), out, np.float32(nodata if has else 0), has,
            np.float32(scale), np.float32(offset))
    return out


@numba.njit(nogil=True, cache=True)
def _finite_range(values):
    lo, hi = np.inf, -np.inf
    flat = values.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


def value_range(values: np.ndarray) -> tuple[float, float]:
    """(smallest, largest) value ignoring NaN; (inf, -inf) when all are NaN."""
    lo, hi = _finite_range(np.ascontiguousarray(values))
    return float(lo), float(hi)
