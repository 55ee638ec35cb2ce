"""The fused CASA kernel: NPP, Rh and NEP of every pixel in one pass (numba, parallel).

It evaluates the readable functions of :mod:`.fpar`, :mod:`.temperature`, :mod:`.water`
and :mod:`.respiration` (composed in :func:`carbon_balance.casa.reference.reference_carbon`)
without month-sized temporaries, in the inputs' precision (float32 runs twice the SIMD
lanes). tests/casa/test_kernel.py holds it to the reference on random and edge-case
inputs. The constants arrive as two named tuples built from a
:class:`~carbon_balance.casa.parameters.CasaParameters` (:func:`kernel_constants`):
:class:`PixelConstants` (float64, used once per pixel) and :class:`MonthConstants` (the
working precision, used in the month loops: a float64 constant would widen float32
arithmetic).

Pixel rules: a pixel with NaN in any month of any input, or a nodata vegetation code
(< 0), is NaN in every output. Non-vegetated pixels (CASA type 0, and any type the class
table marks so) have NPP = Rh = NEP = 0. Negative precipitation counts as 0.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ._fastmath import fast_exp, fast_log
from .parameters import CasaParameters

# fastmath without the "no NaN / no inf" assumptions, so NaN pixels stay NaN; the tests
# hold the kernel to the reference within 1e-4 relative.
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
#: Pixels per block: the scratch rows of a block stay in L1/L2 cache, and the inner loops
#: over a block's pixels are branch-free so LLVM vectorises them (with fexp/flog).
BLOCK = 256
#: Blocks per batch of the parallel loop (dynamic scheduling).
CHUNK_BLOCKS = 16
# Rows of the kernel's per-pixel scratch (state: -1 nodata, 0 not vegetated, 1 compute).
(_STATE, _LO, _HI, _F_NDVI, _F_SR, _TE1, _E2_LOW, _E2_HIGH, _TOPT, _SCALE, _A,
 _A_SHIFT, _HEAT_OK) = range(13)
_N_SCRATCH = 13


class PixelConstants(NamedTuple):
    """Constants of the per-pixel terms (float64; fields of CasaParameters)."""

    alpha: float
    fpar_min: float
    fpar_max: float
    par_fraction: float
    te1_a: float
    te1_b: float
    te1_c: float
    te2_low_slope: float
    te2_high_slope: float
    te2_offset: float
    c3: float
    c2: float
    c1: float
    c0: float


class MonthConstants(NamedTuple):
    """Constants of the month loops, in the working precision, with derived ones:
    ``te2_half`` (Tε2 at T = Topt is te2_scale / (1 + e^(-low·offset)) / (1 + e^(-high·offset)),
    and half of it is used outside the window), ``log_divisor`` = ln(heat_index_divisor),
    ``rh_factor`` = rh_scale × days_per_month × carbon_fraction, and 0, 1 and the
    smallest normal number of the precision."""

    te1_cold_limit: float
    te2_low_slope: float
    te2_high_slope: float
    te2_scale: float
    te2_above: float
    te2_below: float
    te2_half: float
    pet_scale: float
    heat_index_exponent: float
    log_divisor: float
    rn_intercept: float
    rn_coefficient: float
    we_floor: float
    rh_coefficient: float
    rh_precipitation_coefficient: float
    rh_factor: float
    fpar_min: float
    zero: float
    one: float
    tiny: float


def kernel_constants(p: CasaParameters, dtype) -> tuple[PixelConstants, MonthConstants]:
    """The kernel's two constant tuples for parameters ``p`` and working ``dtype``."""
    c3, c2, c1, c0 = p.exponent_coefficients
    pixel = PixelConstants(p.alpha, p.fpar_min, p.fpar_max, p.par_fraction, p.te1_a, p.te1_b,
                           p.te1_c, p.te2_low_slope, p.te2_high_slope, p.te2_offset,
                           c3, c2, c1, c0)
    te2_half = (0.5 * p.te2_scale / (1 + math.exp(-p.te2_low_slope * p.te2_offset))
                / (1 + math.exp(-p.te2_high_slope * p.te2_offset)))
    scalar = np.dtype(dtype).type
    month = {
        "te1_cold_limit": p.te1_cold_limit, "te2_low_slope": p.te2_low_slope,
        "te2_high_slope": p.te2_high_slope, "te2_scale": p.te2_scale,
        "te2_above": p.te2_above, "te2_below": p.te2_below, "te2_half": te2_half,
        "pet_scale": p.pet_scale, "heat_index_exponent": p.heat_index_exponent,
        "log_divisor": math.log(p.heat_index_divisor), "rn_intercept": p.rn_intercept,
        "rn_coefficient": p.rn_coefficient, "we_floor": p.we_floor,
        "rh_coefficient": p.rh_coefficient,
        "rh_precipitation_coefficient": p.rh_precipitation_coefficient,
        "rh_factor": p.rh_scale * p.days_per_month * p.carbon_fraction,
        "fpar_min": p.fpar_min, "zero": 0.0, "one": 1.0, "tiny": float(np.finfo(dtype).tiny)}
    return pixel, MonthConstants(**{name: scalar(v) for name, v in month.items()})


@numba.njit(inline="always", fastmath=FASTMATH, error_model="numpy", cache=True)
def _month(v, t, log_t, pr, s, lo, hi, f_ndvi, f_sr, te1, e2_low, e2_high,
           topt, scale, a_coef, a_shift, heat_ok, k):  # pragma: no cover - compiled
    """NPP and Rh [g C m-2 month-1] of one pixel-month (branch-free, so loops vectorise).

    Per-pixel constants come in precomputed: FPAR = fpar_min + (x - lo) (f_ndvi + f_sr / (1 - x)),
    as SR - SR_lo = 2 (x - lo) / ((1 - x)(1 - lo)) (no cancellation when the bounds are close);
    Tε2 = te2_scale / ((1 + e2_low e^(-b_low T)) (1 + e2_high e^(b_high T)));
    Ep0 = pet_scale (10 T / I)^a = pet_scale exp(a ln T + a_shift).
    """
    zero, one = k.zero, k.one
    x = min(max(v, lo), hi)
    f = k.fpar_min + (x - lo) * (f_ndvi + f_sr / (one - x))
    e1 = zero if t <= k.te1_cold_limit else te1
    e2 = k.te2_scale / ((one + e2_low * fast_exp(-k.te2_low_slope * t))
                        * (one + e2_high * fast_exp(k.te2_high_slope * t)))
    e2 = k.te2_half if ((t - topt > k.te2_above) | (topt - t > k.te2_below)) else e2
    tp = (t > zero) & heat_ok
    ep0 = k.pet_scale * fast_exp(a_coef * log_t + a_shift) if tp else zero
    rn = k.rn_intercept * np.sqrt(ep0 * pr) + k.rn_coefficient * ep0
    # Zhou-Zhang EET/Ep0 ratio with EET = P Rn (P² + Rn² + P Rn) / ((P + Rn)(P² + Rn²)):
    # EET / ((EET + Ep0) / 2) = 2 N / (N + Ep0 D), one division and no 0/0 for tiny P.
    pp = pr * pr
    rr = rn * rn
    num = pr * rn * (pp + rr + pr * rn)
    den = (pr + rn) * (pp + rr)
    floor = k.we_floor
    w = floor + (one - floor) * (num + num) / max(num + ep0 * den, k.tiny)
    w = min(max(w, floor), one)
    w = one if ep0 == zero else (floor if pr == zero else w)
    g = s * f * scale * e1 * e2 * w
    r = k.rh_factor * (fast_exp(k.rh_coefficient * t)
                       + fast_log(k.rh_precipitation_coefficient * pr + one))
    return g, r


@numba.njit(fastmath=FASTMATH, error_model="numpy", cache=True)
def _block(ndvi, temp, prec, sol, j0, casa, k0, nb, eps_max, lo, hi, vegetated, pc, k,
           npp, rh, nep, npp_m, rh_m, monthly):  # pragma: no cover - compiled
    """One block of BLOCK pixels: inputs from column ``j0``, codes and outputs from ``k0``
    (only the first ``nb`` pixels are written).

    The month loops run over exactly BLOCK pixels (a compile-time trip count) and keep all
    per-pixel scratch in a few 2-D arrays: both are needed for LLVM to vectorise them (with
    a run-time trip count or a dozen separate scratch arrays it silently did not).
    They compute in the inputs' precision (``k``); the per-pixel constants are derived
    in float64 (``pc``), once per pixel, and stored in it.
    """
    zero, one = k.zero, k.one
    n_months = ndvi.shape[0]
    log10 = np.log(10.0)
    width = pc.fpar_max - pc.fpar_min
    # Unsigned column indices: numba wraps negative signed indices, and that select made
    # the loads non-affine for LLVM (no vectorisation).
    u0 = np.uint64(j0)
    dt = ndvi.dtype
    scan = np.empty((4, BLOCK), dt)       # valid (1/0), best NDVI, Topt, heat index I
    log_t = np.empty((n_months, BLOCK), dt)   # ln T (0 where T <= 0)
    cst = np.zeros((_N_SCRATCH, BLOCK), dt)
    acc = np.zeros((4, BLOCK), dt)        # Σ NPP, Σ Rh, this month's NPP, Rh
    for i in range(BLOCK):
        scan[0, i] = one
        scan[1, i] = -np.inf
        scan[2, i] = zero
        scan[3, i] = zero
    # Validity, Topt (first month of maximum NDVI) and the Thornthwaite heat index
    # I = Σ (T / divisor)^exponent over T > 0, month-major so the inner loops vectorise.
    for m in range(n_months):
        for i in range(BLOCK):
            j = u0 + np.uint64(i)
            v = ndvi[m, j]
            t = temp[m, j]
            # & and |, not `and`/`or`: short-circuits are branches, and this loop then
            # did not vectorise in float32 (the kernel took 173 instead of 135 ms per
            # 10^6 pixels on one thread)
            ok = (np.isfinite(v) & np.isfinite(t) & np.isfinite(prec[m, j])
                  & np.isfinite(sol[m, j]))
            scan[0, i] = scan[0, i] if ok else zero
            higher = v > scan[1, i]
            scan[2, i] = t if higher else scan[2, i]
            scan[1, i] = v if higher else scan[1, i]
            tp = t > zero
            lt = fast_log(t if tp else one)
            log_t[m, i] = lt            # reused by Ep0 in the month loop
            term = fast_exp(k.heat_index_exponent * (lt - k.log_divisor))
            scan[3, i] += term if tp else zero
    for i in range(nb):
        c = casa[k0 + i]
        st = 1 if (scan[0, i] > 0 and c >= 0) else -1
        if st == 1 and not vegetated[c]:
            st = 0
        t_o = float(scan[2, i]) if st == 1 else 0.0
        h = float(scan[3, i]) if st == 1 else 0.0
        if st != 1:
            c = 0
        # The bounds as the month loop sees them (rounded to the working precision), so
        # that x - lo and hi - lo below agree.
        cst[_LO, i] = lo[c] if st == 1 else 0.0
        cst[_HI, i] = hi[c] if st == 1 else 0.5
        lo_c = float(cst[_LO, i])
        hi_c = float(cst[_HI, i])
        a = ((pc.c3 * h + pc.c2) * h + pc.c1) * h + pc.c0
        cst[_STATE, i] = st
        # FPAR_NDVI and FPAR_SR slopes; (SR - SR_lo) / (SR_hi - SR_lo) =
        # (x - lo)(1 - hi) / ((1 - x)(hi - lo)).
        alpha = pc.alpha
        cst[_F_NDVI, i] = alpha * width / (hi_c - lo_c) if hi_c > lo_c else 0.0
        cst[_F_SR, i] = (1 - alpha) * width * (1 - hi_c) / (hi_c - lo_c) if hi_c > lo_c else 0.0
        cst[_TE1, i] = max(pc.te1_a + pc.te1_b * t_o - pc.te1_c * t_o * t_o, 0.0)
        cst[_E2_LOW, i] = np.exp(pc.te2_low_slope * (t_o - pc.te2_offset))
        cst[_E2_HIGH, i] = np.exp(-pc.te2_high_slope * (t_o + pc.te2_offset))
        cst[_TOPT, i] = t_o
        cst[_SCALE, i] = pc.par_fraction * eps_max[c] if st == 1 else 0.0
        cst[_A, i] = a
        cst[_A_SHIFT, i] = a * (log10 - np.log(h)) if h > 0 else 0.0
        cst[_HEAT_OK, i] = 1.0 if h > 0 else 0.0
    # The month loop: FPAR, Tε1, Tε2, Wε, NPP and Rh (see _month).
    for m in range(n_months):
        for i in range(BLOCK):
            j = u0 + np.uint64(i)
            pr = max(prec[m, j], zero) if cst[_STATE, i] == one else zero
            g, r = _month(ndvi[m, j], temp[m, j], log_t[m, i], pr, sol[m, j],
                          cst[_LO, i], cst[_HI, i],
                          cst[_F_NDVI, i], cst[_F_SR, i], cst[_TE1, i], cst[_E2_LOW, i],
                          cst[_E2_HIGH, i], cst[_TOPT, i], cst[_SCALE, i],
                          cst[_A, i], cst[_A_SHIFT, i], cst[_HEAT_OK, i] > zero, k)
            acc[0, i] += g
            acc[1, i] += r
            acc[2, i] = g
            acc[3, i] = r
        if monthly:
            for i in range(nb):
                kk = k0 + i
                st = cst[_STATE, i]
                npp_m[m, kk] = acc[2, i] if st == 1 else (0.0 if st == 0 else np.nan)
                rh_m[m, kk] = acc[3, i] if st == 1 else (0.0 if st == 0 else np.nan)
    for i in range(nb):
        kk = k0 + i
        st = cst[_STATE, i]
        if st == 1:
            npp[kk] = acc[0, i]
            rh[kk] = acc[1, i]
            nep[kk] = acc[0, i] - acc[1, i]
        else:
            fill = 0.0 if st == 0 else np.nan
            npp[kk] = fill
            rh[kk] = fill
            nep[kk] = fill


# nogil: the grid engine runs one kernel per chunk in each of its threads.
@numba.njit(parallel=True, nogil=True, cache=True)
def casa_kernel(ndvi, temp, prec, sol, casa, eps_max, lo, hi, vegetated, pixel, month,
                npp, rh, nep, npp_m, rh_m, monthly):  # pragma: no cover - compiled
    """Annual (and with ``monthly`` monthly) NPP, Rh and NEP, written into the outputs.

    Parameters
    ----------
    ndvi, temp, prec, sol : C-contiguous arrays (12, n), one float dtype
        NDVI [-], T [°C], P [mm month-1], SOL [MJ m-2 month-1].
    casa : int8 (n,) CASA codes, -1 nodata.
    eps_max, lo, hi : float64 (12,) ε_max [g C MJ-1] and NDVI bounds per CASA code.
    vegetated : bool (12,)
    pixel, month : :func:`kernel_constants` (``month`` in the dtype of the inputs)
    npp, rh, nep : (n,) outputs [g C m-2 yr-1]; npp_m, rh_m : (12, n) or (12, 0).
    """
    n_months, n = ndvi.shape
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        j0 = b * BLOCK
        nb = min(BLOCK, n - j0)
        if nb == BLOCK:
            _block(ndvi, temp, prec, sol, j0, casa, j0, nb, eps_max, lo, hi, vegetated,
                   pixel, month, npp, rh, nep, npp_m, rh_m, monthly)
        else:
            # The last, partial block: its inputs padded to a whole block (NaN, unused).
            tail = [np.full((n_months, BLOCK), np.nan, dtype=a.dtype)
                    for a in (ndvi, temp, prec, sol)]
            tail[0][:, :nb] = ndvi[:, j0:]
            tail[1][:, :nb] = temp[:, j0:]
            tail[2][:, :nb] = prec[:, j0:]
            tail[3][:, :nb] = sol[:, j0:]
            _block(tail[0], tail[1], tail[2], tail[3], 0, casa, j0, nb, eps_max, lo, hi,
                   vegetated, pixel, month, npp, rh, nep, npp_m, rh_m, monthly)


def run_kernel(flat, casa, types, lo, hi, parameters: CasaParameters, monthly: bool):
    """Call :func:`casa_kernel` on flattened inputs ``flat`` (four (12, n) arrays of one
    dtype); returns (npp, rh, nep, npp_monthly, rh_monthly) (monthly ones (12, 0) unless
    ``monthly``). ``types``: ``eps_max`` and ``vegetated`` per CASA code (writable)."""
    dtype = flat[0].dtype
    n = casa.size
    pixel, month = kernel_constants(parameters, dtype)
    npp, rh, nep = (np.empty(n, dtype=dtype) for _ in range(3))
    shape_m = (12, n) if monthly else (12, 0)
    npp_m, rh_m = np.empty(shape_m, dtype=dtype), np.empty(shape_m, dtype=dtype)
    # Blocks are handed to threads in small batches, not one equal share each, so a core
    # taken by another process on a shared machine does not hold up the whole call.
    with numba.parallel_chunksize(CHUNK_BLOCKS):
        casa_kernel(*flat, casa, types["eps_max"], lo, hi, types["vegetated"], pixel, month,
                    npp, rh, nep, npp_m, rh_m, monthly)
    return npp, rh, nep, npp_m, rh_m
