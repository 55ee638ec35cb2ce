"""Exact per-class percentiles of NDVI, in one streaming pass (plus a rare refinement).

The one implementation of the per-class NDVI bounds of the ``percentile`` mode
(METHOD.md section 1): :func:`class_percentile_bounds` for arrays in memory
(:func:`carbon_balance.casa.percentile_bounds`), and the block functions below for the
grid engine, which scans a study chunk by chunk and merges the scans.

numpy's default ("linear") percentile of n sorted values x is
``x[i] + (x[i+1] - x[i]) * g`` with ``i = floor(h)``, ``g = h - i``, ``h = (n - 1) q/100``.
It needs only two order statistics, which a histogram locates without holding the
values: every block contributes, per CASA type, the count, smallest and largest value in
each of 20,001 NDVI bins of width 1e-4 (:func:`scan_block`). Quantised NDVI (MODIS:
int16 x 1e-4) puts one distinct value in a bin, so the bin's min (= max) *is* the order
statistic: one pass, exact. When a needed bin holds several distinct values (resampled,
unquantised NDVI), a second pass gathers the distinct values of just that bin
(:func:`gather_block`), which is exact again. The result equals
``numpy.percentile(values.astype(float64), q)`` bit for bit, for float32 and float64
values alike (tests/casa/test_percentiles.py).

NDVI stored as small integers (int16, uint8, ...) and read without resampling takes a
faster road to the same :class:`Scan` (:func:`scan_integer_block`): it counts the stored
integers per type (at most 65,536 of them) and converts the distinct ones to values and
bins once, instead of binning every pixel-month as a float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .tables import N_TYPES

#: Bin width of the NDVI histogram [-]; 1e-4 is the quantum of MODIS NDVI (int16 x 1e-4).
BIN_WIDTH = 1e-4
#: Bins spanning -1..1 at BIN_WIDTH, centred on the quantised values.
N_BINS = 20001


def bins_of(values: np.ndarray) -> np.ndarray:
    """The histogram bin of each value (float64 array of bin indices; NaN stays NaN), as
    :func:`_bin` computes it for one value inside the scans."""
    return np.clip(np.floor((np.asarray(values, np.float64) + 1.0) / BIN_WIDTH + 0.5),
                   0, N_BINS - 1)


@numba.njit(nogil=True, cache=True)
def _bin(v):
    b = int(np.floor((v + 1.0) / 1e-4 + 0.5))
    return min(max(b, 0), 20000)


@numba.njit(nogil=True, cache=True)
def _scan(ndvi, codes, counts, mins, maxs, cells):
    lo, hi, unknown = np.inf, -np.inf, 0
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            code = codes[r, c]
            if np.isnan(code):
                continue
            k = int(code)
            if k < 0 or k >= counts.shape[0]:
                unknown += 1
                continue
            cells[k] += 1
            for m in range(ndvi.shape[0]):
                v = ndvi[m, r, c]
                if np.isnan(v):
                    continue
                lo = min(lo, v)
                hi = max(hi, v)
                if not np.isfinite(v):    # +-inf: seen by the range checks, not binned
                    continue
                b = _bin(v)
                counts[k, b] += 1
                if v < mins[k, b]:
                    mins[k, b] = v
                if v > maxs[k, b]:
                    maxs[k, b] = v
    return lo, hi, unknown


@dataclass
class Scan:
    """Histogram of valid NDVI per CASA type, and what the checks need to know."""

    counts: np.ndarray     # (types, bins) int64
    mins: np.ndarray       # (types, bins) float64, +inf where empty
    maxs: np.ndarray       # (types, bins) float64, -inf where empty
    cells: np.ndarray      # (types,) grid cells of each type
    ndvi_min: float = np.inf
    ndvi_max: float = -np.inf
    unknown_cells: int = 0  # cells whose code is missing from the class table
    unknown_codes: frozenset = frozenset()
    #: cells scanned inside the units, any vegetation (the grid engine's valid-share
    #: check, grid/valid_share.py); 0 when the caller does not count them
    inside_cells: int = 0

    @classmethod
    def empty(cls, n_types: int = N_TYPES) -> "Scan":
        return cls(np.zeros((n_types, N_BINS), np.int64), np.full((n_types, N_BINS), np.inf),
                   np.full((n_types, N_BINS), -np.inf), np.zeros(n_types, np.int64))

    def merge(self, other: "Scan") -> "Scan":
        return Scan(self.counts + other.counts, np.minimum(self.mins, other.mins),
                    np.maximum(self.maxs, other.maxs), self.cells + other.cells,
                    min(self.ndvi_min, other.ndvi_min), max(self.ndvi_max, other.ndvi_max),
                    self.unknown_cells + other.unknown_cells,
                    self.unknown_codes | other.unknown_codes,
                    self.inside_cells + other.inside_cells)


def _values(ndvi) -> np.ndarray:
    """NDVI as float32 or float64 (kept as given: float64 values are binned unrounded)."""
    ndvi = np.asarray(ndvi)
    return ndvi if ndvi.dtype in (np.float32, np.float64) else ndvi.astype(np.float64)


def scan_block(ndvi: np.ndarray, codes: np.ndarray, raw_codes: np.ndarray | None = None,
               n_types: int = N_TYPES) -> Scan:
    """Histogram one block: ``ndvi`` (12, y, x) [-], ``codes`` (y, x) CASA codes (NaN
    nodata, -1 for codes missing from the class table, whose raw values ``raw_codes``
    are then reported)."""
    s = Scan.empty(n_types)
    lo, hi, unknown = _scan(_values(ndvi), np.asarray(codes, np.float32),
                            s.counts, s.mins, s.maxs, s.cells)
    s.ndvi_min, s.ndvi_max, s.unknown_cells = float(lo), float(hi), int(unknown)
    if unknown and raw_codes is not None:
        s.unknown_codes = frozenset(np.unique(raw_codes[codes == -1]).tolist()[:100])
    return s


@numba.njit(nogil=True, cache=True)
def _count_integers(raw, codes, base, counts, cells):
    n_types = counts.shape[0]
    h, w = codes.shape
    unknown = 0
    kinds = np.full((h, w), -1, np.int64)     # the cell's type, -1 when not counted
    for r in range(h):
        for c in range(w):
            code = codes[r, c]
            if np.isnan(code):
                continue
            k = int(code)
            if k < 0 or k >= n_types:
                unknown += 1
            else:
                cells[k] += 1
                kinds[r, c] = k
    # month outermost: each month's plane is read contiguously
    for m in range(raw.shape[0]):
        for r in range(h):
            for c in range(w):
                k = kinds[r, c]
                if k >= 0:
                    counts[k, np.int64(raw[m, r, c]) - base] += 1
    return unknown


def scan_integer_block(raw: np.ndarray, codes: np.ndarray, value_of,
                       raw_codes: np.ndarray | None = None, n_types: int = N_TYPES) -> Scan:
    """:func:`scan_block` of NDVI given as its stored integers ``raw`` (12, y, x) (8 or 16
    bits): the same Scan, exactly. ``value_of`` maps stored integers to their float32
    NDVI values (NaN for nodata), e.g. ``functools.partial(values_from_integers, spec)``.
    """
    info = np.iinfo(raw.dtype)
    if info.bits > 16:
        raise ValueError(f"stored NDVI of {raw.dtype} is not a small integer type")
    base = int(info.min)
    counts = np.zeros((n_types, int(info.max) - base + 1), np.int64)
    s = Scan.empty(n_types)
    codes = np.asarray(codes, np.float32)
    unknown = _count_integers(raw, codes, base, counts, s.cells)
    s.unknown_cells = int(unknown)
    if unknown and raw_codes is not None:
        s.unknown_codes = frozenset(np.unique(raw_codes[codes == -1]).tolist()[:100])
    present = np.flatnonzero(counts.any(axis=0))
    values = np.asarray(value_of((present + base).astype(raw.dtype)), np.float32)
    valid = ~np.isnan(values)
    present, values = present[valid], values[valid]
    if present.size == 0:
        return s
    # the bin of each distinct value, as _bin computes it for a float32 value
    bins = bins_of(values).astype(np.int64)
    for k in range(n_types):
        n = counts[k, present]
        has = n > 0
        if not has.any():
            continue
        np.add.at(s.counts[k], bins[has], n[has])
        np.minimum.at(s.mins[k], bins[has], values[has])
        np.maximum.at(s.maxs[k], bins[has], values[has])
    s.ndvi_min, s.ndvi_max = float(values.min()), float(values.max())
    return s


def merge_scans(*scans: Scan) -> Scan:
    out = scans[0]
    for s in scans[1:]:
        out = out.merge(s)
    return out


def _positions(n: int, q: float) -> tuple[int, int, float]:
    """numpy's linear method: indices of the two order statistics and the weight."""
    h = (n - 1) * np.true_divide(q, 100)
    i = int(np.floor(h))
    return i, min(i + 1, n - 1), float(h - i)


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's ``_lerp`` (numpy/lib/_function_base_impl.py), for equal results."""
    a, b, t = np.float64(a), np.float64(b), np.float64(t)
    d = b - a
    return float(b - d * (1 - t)) if t >= 0.5 else float(a + d * t)


def order_statistic_bin(counts: np.ndarray, k: int) -> tuple[int, int]:
    """Bin holding the k-th (0-based) smallest value, and k's rank inside that bin."""
    cum = np.cumsum(counts)
    b = int(np.searchsorted(cum, k, side="right"))
    before = int(cum[b - 1]) if b else 0
    return b, k - before


def needed_bins(scan: Scan, lower: float, upper: float) -> dict[int, list[tuple[int, int]]]:
    """Per type: the (bin, rank in bin) of the order statistics the two percentiles need."""
    out = {}
    for k in range(scan.counts.shape[0]):
        n = int(scan.counts[k].sum())
        if n == 0:
            continue
        pos = []
        for q in (lower, upper):
            i, j, _ = _positions(n, q)
            pos += [order_statistic_bin(scan.counts[k], i), order_statistic_bin(scan.counts[k], j)]
        out[k] = pos
    return out


def unresolved(scan: Scan, lower: float, upper: float) -> set[tuple[int, int]]:
    """(type, bin) pairs whose values are not all equal: the refinement pass needs them."""
    todo = set()
    for k, pos in needed_bins(scan, lower, upper).items():
        for b, _ in pos:
            if scan.mins[k, b] != scan.maxs[k, b]:
                todo.add((k, b))
    return todo


@numba.njit(nogil=True, cache=True)
def _gather(ndvi, codes, slot):
    """Values of the (type, bin) pairs with ``slot[type, bin] >= 0``, and their slots."""
    n = 0
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            code = codes[r, c]
            if np.isnan(code) or code < 0 or code >= slot.shape[0]:
                continue
            for m in range(ndvi.shape[0]):
                v = ndvi[m, r, c]
                if np.isfinite(v) and slot[int(code), _bin(v)] >= 0:
                    n += 1
    values = np.empty(n, np.float64)
    slots = np.empty(n, np.int64)
    i = 0
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            code = codes[r, c]
            if np.isnan(code) or code < 0 or code >= slot.shape[0]:
                continue
            for m in range(ndvi.shape[0]):
                v = ndvi[m, r, c]
                if np.isfinite(v):
                    s = slot[int(code), _bin(v)]
                    if s >= 0:
                        values[i] = v
                        slots[i] = s
                        i += 1
    return values, slots


def gather_block(ndvi: np.ndarray, codes: np.ndarray, bins: set[tuple[int, int]],
                 n_types: int = N_TYPES) -> dict:
    """Distinct values and their counts of the (type, bin) pairs ``bins`` in one block:
    ``ndvi`` (12, y, x) [-], ``codes`` (y, x) CASA codes (NaN nodata)."""
    out = {}
    if not bins:
        return out
    keys = sorted(bins)
    slot = np.full((n_types, N_BINS), -1, np.int64)
    for s, (k, b) in enumerate(keys):
        slot[k, b] = s
    values, slots = _gather(_values(ndvi), np.asarray(codes, np.float32), slot)
    order = np.argsort(slots, kind="stable")
    bounds = np.searchsorted(slots[order], np.arange(len(keys) + 1))
    for s, key in enumerate(keys):
        vals, cnt = np.unique(values[order[bounds[s]:bounds[s + 1]]], return_counts=True)
        out[key] = (vals, cnt)
    return out


def merge_gathered(parts: list[dict]) -> dict:
    acc: dict = {}
    for part in parts:
        for key, (v, c) in part.items():
            acc.setdefault(key, []).append((v, c))
    out = {}
    for key, pieces in acc.items():
        v = np.concatenate([p[0] for p in pieces])
        c = np.concatenate([p[1] for p in pieces])
        uv, inv = np.unique(v, return_inverse=True)
        out[key] = (uv, np.bincount(inv, weights=c).astype(np.int64))
    return out


def class_percentiles(scan: Scan, lower: float, upper: float,
                      gathered: dict | None = None) -> dict[int, tuple[float, float, int]]:
    """{type: (lower percentile, upper percentile, n values)} for every type with data.

    ``gathered`` holds the distinct values of the bins :func:`unresolved` named.
    """
    gathered = gathered or {}
    out = {}
    for k in range(scan.counts.shape[0]):
        n = int(scan.counts[k].sum())
        if n == 0:
            continue
        res = []
        for q in (lower, upper):
            i, j, t = _positions(n, q)
            vals = []
            for idx in (i, j):
                b, r = order_statistic_bin(scan.counts[k], idx)
                if scan.mins[k, b] == scan.maxs[k, b]:
                    vals.append(float(scan.mins[k, b]))
                else:
                    uv, cnt = gathered[(k, b)]
                    vals.append(float(uv[np.searchsorted(np.cumsum(cnt), r, side="right")]))
            res.append(_lerp(vals[0], vals[1], t))
        out[k] = (res[0], res[1], n)
    return out


def class_percentile_bounds(values, codes, lower: float, upper: float,
                            include=None) -> dict[int, tuple[float, float]]:
    """Exact per-type percentiles of ``values`` in memory: numpy's linear method.

    Parameters
    ----------
    values : array (months, ...) [-]
        NDVI, NaN nodata; every month and pixel of a type is pooled.
    codes : array (...) of CASA codes 0..11, negative or NaN for nodata.
    lower, upper : float [%]
    include : bool array (N_TYPES,), optional
        Types to report (e.g. the vegetated ones); default all with values.

    Returns
    -------
    {code: (lower percentile, upper percentile)} for every included type with at least
    one finite value, equal to ``numpy.percentile(v.astype(float64), [lower, upper])``.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.arange(12.0).reshape(12, 1) / 20
    >>> lo, hi = class_percentile_bounds(v, np.array([3]), 5, 95)[3]
    >>> round(lo, 6), round(hi, 6)      # 0.55 and 10.45 of the way along 0, 0.05, ..., 0.55
    (0.0275, 0.5225)
    """
    values = _values(values)
    codes = np.asarray(codes)
    flat = values.reshape(values.shape[0], 1, -1)
    c = codes.reshape(1, -1).astype(np.float32)
    c[c < 0] = np.nan
    scan = scan_block(flat, c)
    gathered = gather_block(flat, c, unresolved(scan, lower, upper))
    out = class_percentiles(scan, lower, upper, gathered)
    return {int(k): (lo, hi) for k, (lo, hi, _) in out.items()
            if include is None or include[k]}
