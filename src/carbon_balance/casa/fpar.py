"""Fraction of absorbed photosynthetically active radiation (FPAR) from NDVI, and the
per-class NDVI bounds it is scaled by (METHOD.md section 1).

FPAR = alpha * FPAR_NDVI + (1 - alpha) * FPAR_SR, with NDVI and the simple ratio
SR = (1 + NDVI)/(1 - NDVI) each scaled linearly between the class bounds
(Potter et al. 1993, doi:10.1029/93GB02725; Los et al. 1994; Zhu et al. 2007,
J. Plant Ecol. 31:413). NDVI is clipped to the class bounds first, so FPAR stays
in [fpar_min, fpar_max].
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import InputError
from ._fastmath import as_int32 as _as_int32
from .tables import N_TYPES, NODATA, load_class_table, to_casa_codes, vegetation_types

#: Weight of the NDVI-based estimate (Fan et al. 2024, after Los et al. 1994) [-].
ALPHA = 0.5
#: FPAR range (Potter et al. 1993; Fan et al. 2024) [-].
FPAR_MIN = 0.001
FPAR_MAX = 0.95
#: Percentiles of the valid NDVI of a class taken as its bounds (Fan et al. 2024).
LOWER_PERCENTILE = 5.0
UPPER_PERCENTILE = 95.0


def simple_ratio(ndvi):
    """Simple ratio SR = (1 + NDVI) / (1 - NDVI) [-] of NDVI [-] (infinite at NDVI = 1)."""
    ndvi = np.asarray(ndvi)
    return (1 + ndvi) / (1 - ndvi)


def fpar(ndvi, ndvi_min, ndvi_max, alpha=ALPHA, fpar_min=FPAR_MIN, fpar_max=FPAR_MAX):
    """FPAR [-] from NDVI [-] and the class's NDVI bounds.

    Parameters
    ----------
    ndvi : array [-]
    ndvi_min, ndvi_max : scalar or array broadcasting with ``ndvi`` [-]
        Class bounds, -1 < ndvi_min <= ndvi_max < 1. SR bounds are the SR of these.
    alpha : float [-]
        Weight of the NDVI-based term; 1 - alpha weights the SR-based term.
    fpar_min, fpar_max : float [-]

    Returns
    -------
    array [-] in [fpar_min, fpar_max]; NaN where ``ndvi`` is NaN. Where the bounds
    coincide (a class with a single NDVI value) both scaled terms are taken as 0, so
    FPAR = fpar_min: no range to scale within means no evidence of canopy above it.

    References: Potter et al. 1993, doi:10.1029/93GB02725; Fan et al. 2024,
    doi:10.3390/land13030297 (eqs. 3-6).
    """
    ndvi = np.asarray(ndvi)
    dtype = np.result_type(ndvi.dtype, np.float32)
    lo = np.asarray(ndvi_min, dtype=np.float64)
    hi = np.asarray(ndvi_max, dtype=np.float64)
    x = np.clip(ndvi.astype(np.float64), lo, hi)
    sr, sr_lo, sr_hi = simple_ratio(x), simple_ratio(lo), simple_ratio(hi)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        f_ndvi = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1), 0.0)
        sr_span = sr_hi - sr_lo
        f_sr = np.where(sr_span > 0, (sr - sr_lo) / np.where(sr_span > 0, sr_span, 1), 0.0)
    f_ndvi = np.where(np.isnan(x), np.nan, f_ndvi)
    width = fpar_max - fpar_min
    out = alpha * (f_ndvi * width + fpar_min) + (1 - alpha) * (f_sr * width + fpar_min)
    return out.astype(dtype, copy=False)


def check_bounds(bounds: dict) -> dict[int, tuple[float, float]]:
    """Validate a mapping {casa_code: (ndvi_min, ndvi_max)}; return it with plain floats."""
    out = {}
    for code, pair in dict(bounds).items():
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InputError(f"NDVI bounds for type {code} are {pair!r}", key="bounds",
                             fix="give a pair (ndvi_min, ndvi_max) per CASA code") from None
        if not (-1 < lo <= hi < 1):
            raise InputError(f"NDVI bounds for type {code} are ({lo}, {hi})", key="bounds",
                             fix="bounds must satisfy -1 < ndvi_min <= ndvi_max < 1")
        out[int(code)] = (lo, hi)
    return out


def table_bounds(classes="casa") -> dict[int, tuple[float, float]]:
    """Table-mode NDVI bounds (Zhu et al. 2007) per CASA type reachable from ``classes``.

    Returns {casa_code: (ndvi_min, ndvi_max)} for the vegetated types that the class
    table ``classes`` maps to (all 11 for ``"casa"``).
    """
    types = vegetation_types().set_index("code")
    reachable = set(load_class_table(classes)["casa_code"].tolist())
    return {int(c): (float(r.ndvi_min), float(r.ndvi_max))
            for c, r in types.iterrows() if r.vegetated and c in reachable}


def percentile_bounds(ndvi, vegetation, lower=LOWER_PERCENTILE, upper=UPPER_PERCENTILE,
                      *, classes="casa") -> dict[int, tuple[float, float]]:
    """Per-class NDVI bounds as percentiles of the class's valid NDVI (Fan et al. 2024).

    Parameters
    ----------
    ndvi : array (12, ...) [-]
        Monthly NDVI; NaN is nodata. All months and pixels of a class are pooled.
    vegetation : array (...) of class codes of ``classes`` (spatial shape of ``ndvi``).
    lower, upper : float [%]
        Percentiles, numpy's default ("linear") definition, evaluated in float64.
    classes : str, Path or DataFrame
        Class table of ``vegetation``; the pooling is over CASA types after the crosswalk.

    Returns
    -------
    {casa_code: (ndvi_min, ndvi_max)} for every vegetated type with at least one valid
    NDVI value. This is the reference the grid engine's streaming histograms reproduce.
    """
    ndvi = np.asarray(ndvi)
    casa = to_casa_codes(vegetation, classes)
    if ndvi.shape[1:] != casa.shape:
        raise InputError(f"NDVI has spatial shape {ndvi.shape[1:]}, vegetation {casa.shape}",
                         key="vegetation", fix="align the land-cover raster to the NDVI grid")
    return casa_percentile_bounds(ndvi, casa, lower, upper)


def casa_percentile_bounds(ndvi, casa_codes, lower=LOWER_PERCENTILE, upper=UPPER_PERCENTILE):
    """:func:`percentile_bounds` for codes already cross-walked to CASA types (-1 nodata)."""
    ndvi = np.asarray(ndvi)
    casa = np.asarray(casa_codes)
    vegetated = vegetation_types()["vegetated"].to_numpy()
    flat = ndvi.reshape(ndvi.shape[0], -1)
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    codes = casa.reshape(-1).astype(np.int8, copy=False)
    if flat.size <= SMALL:
        return _small_percentile_bounds(flat, codes, vegetated, lower, upper)
    # Exact order statistics without sorting: a histogram over the float32-rounded values
    # (rounding is monotone, so each bin holds a contiguous run of the sorted values),
    # then only the values in the bins holding the wanted ranks are gathered and sorted.
    n_chunks = max(1, min(numba.get_num_threads(), flat.shape[1] // 65536 + 1))
    hist = _histogram(flat, codes, vegetated, n_chunks)
    counts = hist.sum(axis=0, dtype=np.int64)
    totals = counts.sum(axis=1)
    q = np.true_divide(np.asarray([lower, upper], dtype=np.float64), 100)
    slot = np.full((N_TYPES, _BINS), -1, dtype=np.int32)
    wanted = {}
    n_slots = 0
    for code in range(N_TYPES):
        n = int(totals[code])
        if not vegetated[code] or n == 0:
            continue
        # numpy's "linear" method: virtual index (n - 1) q, clamped neighbours.
        virtual = (n - 1) * q
        prev = np.clip(np.floor(virtual).astype(np.intp), 0, n - 1)
        nxt = np.clip(prev + 1, 0, n - 1)
        prev = np.where(virtual >= n - 1, n - 1, prev)
        gamma = virtual - np.floor(virtual)
        cum = np.cumsum(counts[code])
        ranks = []
        for r in (*prev, *nxt):
            b = int(np.searchsorted(cum, r, side="right"))
            if slot[code, b] < 0:
                slot[code, b] = n_slots
                n_slots += 1
            ranks.append((int(r), b, int(cum[b] - counts[code, b])))
        wanted[code] = (ranks, gamma)
    sizes = np.zeros(n_slots, dtype=np.int64)
    for code in range(N_TYPES):
        for b in np.flatnonzero(slot[code] >= 0):
            sizes[slot[code, b]] = counts[code, b]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    # Per chunk and slot, where the chunk's values go (so chunks fill in parallel).
    chunk_counts = np.zeros((n_chunks, max(n_slots, 1)), dtype=np.int64)
    for code in range(N_TYPES):
        for b in np.flatnonzero(slot[code] >= 0):
            chunk_counts[:, slot[code, b]] = hist[:, code, b]
    chunk_start = starts[:-1][None, :max(n_slots, 1)] + np.cumsum(chunk_counts, axis=0) - chunk_counts
    gathered = _gather(flat, codes, slot, chunk_start[:, :n_slots] if n_slots else chunk_start,
                       int(starts[-1]), n_chunks)
    out = {}
    for code, (ranks, gamma) in wanted.items():
        order_stats = []
        for r, b, below in ranks:
            s0 = slot[code, b]
            group = np.sort(gathered[starts[s0]:starts[s0 + 1]])
            order_stats.append(group[r - below])
        lo_hi = []
        for k in range(2):
            a_, b_ = np.float64(order_stats[k]), np.float64(order_stats[k + 2])
            # numpy's _lerp, operation for operation, so the result is bit-identical.
            diff = b_ - a_
            value = b_ - diff * (1 - gamma[k]) if gamma[k] >= 0.5 else a_ + diff * gamma[k]
            lo_hi.append(float(value))
        out[code] = (lo_hi[0], lo_hi[1])
    return out


_BINS = 65536
#: Up to this many values, plain np.percentile per class is quicker than the histograms.
SMALL = 2**17


def _small_percentile_bounds(flat, codes, vegetated, lower, upper):
    out = {}
    for code in range(N_TYPES):
        if not vegetated[code]:
            continue
        values = flat[:, codes == code].astype(np.float64).ravel()
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = np.percentile(values, [lower, upper])
            out[code] = (float(lo), float(hi))
    return out


@numba.njit(inline="always", cache=True)
def _bin(v):
    # Order-preserving 16-bit bin of the float32 rounding of v (sign, exponent, 7 bits).
    bits = np.int64(_as_int32(np.float32(v)))
    key = bits ^ ((bits >> 31) & 0x7FFFFFFF)
    return (key >> 16) + 32768


@numba.njit(parallel=True, cache=True)
def _histogram(values, codes, include, n_chunks):
    n_types = include.shape[0]
    n = values.shape[1]
    hist = np.zeros((n_chunks, n_types, _BINS), dtype=np.int32)
    step = (n + n_chunks - 1) // n_chunks
    for k in numba.prange(n_chunks):
        for j in range(k * step, min(n, (k + 1) * step)):
            c = codes[j]
            if c < 0 or not include[c]:
                continue
            for m in range(values.shape[0]):
                v = values[m, j]
                if np.isfinite(v):
                    hist[k, c, _bin(v)] += 1
    return hist


@numba.njit(parallel=True, cache=True)
def _gather(values, codes, slot, chunk_start, total, n_chunks):
    out = np.empty(total, dtype=np.float64)
    n = values.shape[1]
    step = (n + n_chunks - 1) // n_chunks
    for k in numba.prange(n_chunks):
        fill = chunk_start[k].copy()
        for j in range(k * step, min(n, (k + 1) * step)):
            c = codes[j]
            if c < 0:
                continue
            for m in range(values.shape[0]):
                v = values[m, j]
                if np.isfinite(v):
                    s = slot[c, _bin(v)]
                    if s >= 0:
                        out[fill[s]] = v
                        fill[s] += 1
    return out


def class_bounds(bounds, ndvi, casa_codes, *, classes="casa") -> dict[int, tuple[float, float]]:
    """Resolve ``bounds`` ("percentile", "table" or a mapping) for CASA codes ``casa_codes``.

    Raises InputError when a vegetated type present in the data has no bounds.
    """
    if isinstance(bounds, str):
        if bounds == "percentile":
            return casa_percentile_bounds(ndvi, casa_codes)
        if bounds == "table":
            return table_bounds(classes)
        raise InputError(f"bounds = {bounds!r}", key="bounds",
                         fix='use "percentile", "table" or a mapping {code: (ndvi_min, ndvi_max)}')
    resolved = check_bounds(bounds)
    vegetated = vegetation_types()["vegetated"].to_numpy()
    present = np.unique(casa_codes[casa_codes != NODATA])
    lacking = [int(c) for c in present if vegetated[c] and int(c) not in resolved]
    if lacking:
        raise InputError(f"no NDVI bounds for CASA type(s) {lacking}", key="bounds",
                         fix="add (ndvi_min, ndvi_max) for these CASA codes to the mapping")
    return resolved
