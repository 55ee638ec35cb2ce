"""CASA NPP, heterotrophic respiration and NEP: the composition and its fast kernel.

    NPP = SOL × FPAR × 0.5 × Tε1 × Tε2 × Wε × ε_max            [g C m-2 month-1]
    NEP = Σ_12 months (NPP − Rh)                                 [g C m-2 yr-1]

(METHOD.md sections 1-2; Potter et al. 1993, doi:10.1029/93GB02725; Zhu et al. 2007,
J. Plant Ecol. 31:413; Fan et al. 2024, doi:10.3390/land13030297.)

The formulas live once, as readable numpy, in :mod:`.fpar`, :mod:`.temperature`,
:mod:`.water` and :mod:`.respiration`; the kernel here fuses them into one pass over the
pixels (numba, parallel) so that no month-sized temporaries are made. Tests check the
kernel against an independent numpy implementation of METHOD.md.

Pixel rules: a pixel with NaN in any month of any input, or a nodata vegetation code,
is NaN in every output. Non-vegetated pixels (CASA type 0) have NPP = Rh = NEP = 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numba
import numpy as np

from ..errors import InputError
from . import respiration as _rh
from . import temperature as _te
from . import water as _w
from ._fastmath import fast_exp, fast_log
from .fpar import (
    ALPHA,
    FPAR_MAX,
    FPAR_MIN,
    LOWER_PERCENTILE,
    UPPER_PERCENTILE,
    casa_percentile_bounds,
    class_bounds,
)
from .tables import N_TYPES, casa_parameters, to_casa_codes

#: Share of photosynthetically active radiation in total solar radiation [-] (Fan et al. 2024).
PAR_FRACTION = 0.5
#: Months per year on axis 0 of every monthly input.
MONTHS = 12

# fastmath without the "no NaN / no inf" assumptions, so NaN pixels stay NaN; the tests
# hold the kernel to the numpy formulas within 1e-4 relative.
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
#: Pixels per block: the scratch rows of a block stay in L1/L2 cache, and the inner loops
#: over a block's pixels are branch-free so LLVM vectorises them (with fexp/flog).
BLOCK = 256
#: Blocks per batch of the parallel loop (dynamic scheduling).
CHUNK_BLOCKS = 16
# Rows of the kernel's per-pixel constants (state: -1 nodata, 0 not vegetated, 1 compute).
(_STATE, _LO, _HI, _F_NDVI, _F_SR, _TE1, _E2_LOW, _E2_HIGH, _TOPT, _SCALE, _A,
 _A_SHIFT, _HEAT_OK) = range(13)
_N_CONST = 13
# Entries of the working-precision constants appended to _parameter_vector's (_working_vector).
_P_LOG_DIVISOR, _P_TE2_HALF, _P_RH_FACTOR, _P_ZERO, _P_ONE, _P_TINY = range(29, 35)


@numba.njit(inline="always", fastmath=_FASTMATH, error_model="numpy", cache=True)
def _month(v, t, log_t, pr, s, lo, hi, f_lo, f_ndvi, f_sr, te1, e2_low, e2_high, e2_half,
           topt, scale, a_coef, a_shift, heat_ok, p):  # pragma: no cover - compiled
    """NPP and Rh [g C m-2 month-1] of one pixel-month (branch-free, so loops vectorise).

    Per-pixel constants come in precomputed: FPAR = f_lo + (x - lo) (f_ndvi + f_sr / (1 - x)),
    as SR - SR_lo = 2 (x - lo) / ((1 - x)(1 - lo)) (no cancellation when the bounds are close);
    Tε2 = TE2_SCALE / ((1 + e2_low e^(-b_low T)) (1 + e2_high e^(b_high T)));
    Ep0 = 16 (10 T / I)^a = 16 exp(a ln T + a_shift).
    Every value and constant is in the working precision (``p`` carries 0, 1 and the
    smallest normal number in it): a float64 literal would widen float32 arithmetic.
    """
    (cold_limit, te2_low, te2_high, te2_scale, te2_above, te2_below, pet_scale,
     rn_intercept, rn_coefficient, we_floor, rh_coefficient, rh_pcoef, rh_factor,
     zero, one, tiny) = p
    x = min(max(v, lo), hi)
    f = f_lo + (x - lo) * (f_ndvi + f_sr / (one - x))
    e1 = zero if t <= cold_limit else te1
    e2 = te2_scale / ((one + e2_low * fast_exp(-te2_low * t))
                      * (one + e2_high * fast_exp(te2_high * t)))
    e2 = e2_half if ((t - topt > te2_above) | (topt - t > te2_below)) else e2
    tp = (t > zero) & heat_ok
    ep0 = pet_scale * fast_exp(a_coef * log_t + a_shift) if tp else zero
    rn = rn_intercept * np.sqrt(ep0 * pr) + rn_coefficient * ep0
    # Zhou-Zhang EET/Ep0 ratio with EET = P Rn (P² + Rn² + P Rn) / ((P + Rn)(P² + Rn²)):
    # EET / ((EET + Ep0) / 2) = 2 N / (N + Ep0 D), one division and no 0/0 for tiny P.
    pp = pr * pr
    rr = rn * rn
    num = pr * rn * (pp + rr + pr * rn)
    den = (pr + rn) * (pp + rr)
    w = we_floor + (one - we_floor) * (num + num) / max(num + ep0 * den, tiny)
    w = min(max(w, we_floor), one)
    w = one if ep0 == zero else (we_floor if pr == zero else w)
    g = s * f * scale * e1 * e2 * w
    r = rh_factor * (fast_exp(rh_coefficient * t) + fast_log(rh_pcoef * pr + one))
    return g, r


@numba.njit(fastmath=_FASTMATH, error_model="numpy", cache=True)
def _block(ndvi, temp, prec, sol, j0, casa, k0, nb, eps_max, lo, hi, vegetated, p, pw,
           month_p, npp, rh, nep, npp_m, rh_m, monthly):  # pragma: no cover - compiled
    """One block of BLOCK pixels: inputs from column ``j0``, codes and outputs from ``k0``
    (only the first ``nb`` pixels are written).

    The month loops run over exactly BLOCK pixels (a compile-time trip count) and keep all
    per-pixel scratch in a few 2-D arrays: both are needed for LLVM to vectorise them (with
    a run-time trip count or a dozen separate scratch arrays it silently did not).
    They compute in the inputs' precision (``pw``: the constants in it); the per-pixel
    constants are derived in float64 (``p``), once per pixel, and stored in it.
    """
    # The per-pixel-month parameters travel in month_p; these are the per-pixel ones
    # (order of _parameter_vector).
    alpha, fpar_min, fpar_max, par_fraction = p[0], p[1], p[2], p[3]
    te1_a, te1_b, te1_c = p[4], p[5], p[6]
    te2_low, te2_high, te2_offset = p[9], p[10], p[11]
    c3, c2, c1, c0 = p[17], p[18], p[19], p[20]
    zero, one = pw[_P_ZERO], pw[_P_ONE]
    hi_exponent, log_divisor = pw[16], pw[_P_LOG_DIVISOR]
    n_months = ndvi.shape[0]
    log10 = np.log(10.0)
    width = fpar_max - fpar_min
    # Unsigned column indices: numba wraps negative signed indices, and that select made
    # the loads non-affine for LLVM (no vectorisation).
    u0 = np.uint64(j0)
    dt = ndvi.dtype
    scan = np.empty((4, BLOCK), dt)       # valid (1/0), best NDVI, Topt, heat index I
    log_t = np.empty((n_months, BLOCK), dt)   # ln T (0 where T <= 0)
    cst = np.zeros((_N_CONST, BLOCK), dt)
    acc = np.zeros((4, BLOCK), dt)        # Σ NPP, Σ Rh, this month's NPP, Rh
    for i in range(BLOCK):
        scan[0, i] = one
        scan[1, i] = -np.inf
        scan[2, i] = zero
        scan[3, i] = zero
    # Validity, Topt (first month of maximum NDVI) and the Thornthwaite heat index
    # I = Σ (T/5)^1.514 over T > 0, month-major so the inner loops vectorise.
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
            term = fast_exp(hi_exponent * (lt - log_divisor))
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
        a = ((c3 * h + c2) * h + c1) * h + c0
        cst[_STATE, i] = st
        # FPAR_NDVI and FPAR_SR slopes; (SR - SR_lo) / (SR_hi - SR_lo) =
        # (x - lo)(1 - hi) / ((1 - x)(hi - lo)).
        cst[_F_NDVI, i] = alpha * width / (hi_c - lo_c) if hi_c > lo_c else 0.0
        cst[_F_SR, i] = (1 - alpha) * width * (1 - hi_c) / (hi_c - lo_c) if hi_c > lo_c else 0.0
        cst[_TE1, i] = max(te1_a + te1_b * t_o - te1_c * t_o * t_o, 0.0)
        cst[_E2_LOW, i] = np.exp(te2_low * (t_o - te2_offset))
        cst[_E2_HIGH, i] = np.exp(-te2_high * (t_o + te2_offset))
        cst[_TOPT, i] = t_o
        cst[_SCALE, i] = par_fraction * eps_max[c] if st == 1 else 0.0
        cst[_A, i] = a
        cst[_A_SHIFT, i] = a * (log10 - np.log(h)) if h > 0 else 0.0
        cst[_HEAT_OK, i] = 1.0 if h > 0 else 0.0
    # The month loop: FPAR, Tε1, Tε2, Wε, NPP and Rh (see _month).
    f_lo, e2_half = pw[1], pw[_P_TE2_HALF]
    for m in range(n_months):
        for i in range(BLOCK):
            j = u0 + np.uint64(i)
            pr = max(prec[m, j], zero) if cst[_STATE, i] == one else zero
            g, r = _month(ndvi[m, j], temp[m, j], log_t[m, i], pr, sol[m, j],
                          cst[_LO, i], cst[_HI, i], f_lo,
                          cst[_F_NDVI, i], cst[_F_SR, i], cst[_TE1, i], cst[_E2_LOW, i],
                          cst[_E2_HIGH, i], e2_half, cst[_TOPT, i], cst[_SCALE, i],
                          cst[_A, i], cst[_A_SHIFT, i], cst[_HEAT_OK, i] > zero, month_p)
            acc[0, i] += g
            acc[1, i] += r
            acc[2, i] = g
            acc[3, i] = r
        if monthly:
            for i in range(nb):
                k = k0 + i
                st = cst[_STATE, i]
                npp_m[m, k] = acc[2, i] if st == 1 else (0.0 if st == 0 else np.nan)
                rh_m[m, k] = acc[3, i] if st == 1 else (0.0 if st == 0 else np.nan)
    for i in range(nb):
        k = k0 + i
        st = cst[_STATE, i]
        if st == 1:
            npp[k] = acc[0, i]
            rh[k] = acc[1, i]
            nep[k] = acc[0, i] - acc[1, i]
        else:
            fill = 0.0 if st == 0 else np.nan
            npp[k] = fill
            rh[k] = fill
            nep[k] = fill


# nogil: the grid engine runs one kernel per chunk in each of its threads.
@numba.njit(parallel=True, nogil=True, cache=True)
def _casa_kernel(ndvi, temp, prec, sol, casa, eps_max, lo, hi, vegetated, p, pw,
                 npp, rh, nep, npp_m, rh_m, monthly):  # pragma: no cover - compiled
    month_p = (pw[7], pw[9], pw[10], pw[8], pw[12], pw[13], pw[14], pw[21], pw[22], pw[23],
               pw[24], pw[26], pw[_P_RH_FACTOR], pw[_P_ZERO], pw[_P_ONE], pw[_P_TINY])
    n_months, n = ndvi.shape
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        j0 = b * BLOCK
        nb = min(BLOCK, n - j0)
        if nb == BLOCK:
            _block(ndvi, temp, prec, sol, j0, casa, j0, nb, eps_max, lo, hi, vegetated, p,
                   pw, month_p, npp, rh, nep, npp_m, rh_m, monthly)
        else:
            # The last, partial block: its inputs padded to a whole block (NaN, unused).
            tail = [np.full((n_months, BLOCK), np.nan, dtype=a.dtype)
                    for a in (ndvi, temp, prec, sol)]
            tail[0][:, :nb] = ndvi[:, j0:]
            tail[1][:, :nb] = temp[:, j0:]
            tail[2][:, :nb] = prec[:, j0:]
            tail[3][:, :nb] = sol[:, j0:]
            _block(tail[0], tail[1], tail[2], tail[3], 0, casa, j0, nb, eps_max, lo, hi,
                   vegetated, p, pw, month_p, npp, rh, nep, npp_m, rh_m, monthly)


def _parameter_vector(alpha, fpar_min, fpar_max, par_fraction, rn_coefficient, rh_coefficient):
    c3, c2, c1, c0 = _w.EXPONENT_COEFFICIENTS
    return np.array([
        alpha, fpar_min, fpar_max, par_fraction,
        _te.TE1_A, _te.TE1_B, _te.TE1_C, _te.TE1_COLD_LIMIT, _te.TE2_SCALE, _te.TE2_LOW_SLOPE,
        _te.TE2_HIGH_SLOPE, _te.TE2_OFFSET, _te.TE2_ABOVE, _te.TE2_BELOW,
        _w.THORNTHWAITE_SCALE, _w.HEAT_INDEX_DIVISOR, _w.HEAT_INDEX_EXPONENT, c3, c2, c1, c0,
        _w.RN_INTERCEPT, rn_coefficient, _w.WE_FLOOR,
        rh_coefficient, _rh.RH_SCALE, _rh.RH_PRECIPITATION_COEFFICIENT, _rh.DAYS_PER_MONTH,
        _rh.CARBON_FRACTION], dtype=np.float64)


def _working_vector(p: np.ndarray, dtype) -> np.ndarray:
    """The parameters in the kernel's working precision, with the derived constants its
    month loops need (in the order of the ``_P_*`` indices), each derived in float64."""
    te2_half = 0.5 * p[8] / (1 + math.exp(-p[9] * p[11])) / (1 + math.exp(-p[10] * p[11]))
    derived = [math.log(p[15]), te2_half, p[25] * p[27] * p[28], 0.0, 1.0,
               float(np.finfo(dtype).tiny)]
    return np.concatenate([p, derived]).astype(dtype)


def _monthly_inputs(ndvi, temperature, precipitation, radiation, vegetation):
    arrays = [np.asarray(a) for a in (ndvi, temperature, precipitation, radiation)]
    names = ("ndvi", "temperature", "precipitation", "radiation")
    shape = arrays[0].shape
    for name, a in zip(names, arrays):
        if a.ndim < 1 or a.shape[0] != MONTHS:
            raise InputError(f"{name} has shape {a.shape}; 12 months are expected on axis 0",
                             key=name, fix="stack the 12 monthly layers of one year on axis 0")
        if a.shape != shape:
            raise InputError(f"{name} has shape {a.shape}, ndvi {shape}", key=name,
                             fix="align all monthly inputs to one grid")
    veg = np.asarray(vegetation)
    if veg.shape != shape[1:]:
        raise InputError(f"vegetation has shape {veg.shape}, expected {shape[1:]}",
                         key="vegetation", fix="give one class raster on the grid of the inputs")
    # One working dtype: float32 only when every input is float32 (or narrower).
    dtype = np.result_type(*(a.dtype for a in arrays), np.float32)
    if dtype not in (np.float32, np.float64):
        dtype = np.dtype(np.float64)
    flat = [np.ascontiguousarray(a.reshape(MONTHS, -1), dtype=dtype) for a in arrays]
    return flat, veg, shape[1:], dtype


def _bound_vectors(bounds_map):
    lo = np.full(N_TYPES, np.nan)
    hi = np.full(N_TYPES, np.nan)
    for code, (a, b) in bounds_map.items():
        lo[code], hi[code] = a, b
    return lo, hi


def annual_carbon(ndvi, temperature, precipitation, radiation, vegetation, *, classes="casa",
                  bounds="percentile", eps_max: Mapping[int, float] | None = None,
                  rn_coefficient=_w.RN_COEFFICIENT, rh_coefficient=_rh.RH_COEFFICIENT,
                  monthly=False, alpha=ALPHA, fpar_min=FPAR_MIN,
                  fpar_max=FPAR_MAX, par_fraction=PAR_FRACTION,
                  lower_percentile=LOWER_PERCENTILE,
                  upper_percentile=UPPER_PERCENTILE):
    """Annual NPP, Rh and NEP of one year, in one fused pass (the grid engine's kernel).

    Parameters
    ----------
    ndvi : array (12, ...) [-]
    temperature : array (12, ...) [°C] monthly mean air temperature
    precipitation : array (12, ...) [mm month-1]
    radiation : array (12, ...) [MJ m-2 month-1] total solar radiation SOL
    vegetation : array (...) of class codes of ``classes``
    classes : "casa", "cas-lucc", "modis-igbp", "esa-worldcover", "clcd" or a CSV path
    bounds : "percentile" (5th/95th of each CASA type's valid NDVI over these arrays and
        all months), "table" (Zhu et al. 2007) or a mapping {casa_code: (ndvi_min, ndvi_max)}
    eps_max : mapping {casa_code: ε_max [g C MJ-1]} overriding the table (e.g. all 1.0 to
        get NPP per unit ε_max; NPP is linear in ε_max)
    rn_coefficient : Zhou & Zhang (1995) Rn coefficient [-]
    rh_coefficient : Rh temperature exponent [1/°C]
    monthly : also return "npp_monthly", "rh_monthly", "nep_monthly" (12, ...)

    Returns
    -------
    dict with "npp", "rh", "nep" [g C m-2 yr-1] of the spatial shape, the input dtype
    (float32 only if all inputs are float32), and "bounds" (the resolved NDVI bounds,
    {casa_code: (ndvi_min, ndvi_max)}).
    """
    flat, veg, spatial, dtype = _monthly_inputs(ndvi, temperature, precipitation, radiation,
                                                vegetation)
    casa = to_casa_codes(veg, classes).reshape(-1)
    if isinstance(bounds, str) and bounds == "percentile":
        bounds_map = casa_percentile_bounds(flat[0], casa, lower_percentile,
                                                   upper_percentile)
    else:
        bounds_map = class_bounds(bounds, flat[0], casa, classes=classes)
    lo, hi = _bound_vectors(bounds_map)
    types = casa_parameters(eps_max)
    params = _parameter_vector(alpha, fpar_min, fpar_max, par_fraction, rn_coefficient,
                               rh_coefficient)
    n = casa.size
    npp, rh, nep = (np.empty(n, dtype=dtype) for _ in range(3))
    shape_m = (MONTHS, n) if monthly else (MONTHS, 0)
    npp_m, rh_m = np.empty(shape_m, dtype=dtype), np.empty(shape_m, dtype=dtype)
    # Blocks are handed to threads in small batches, not one equal share each, so a core
    # taken by another process on a shared machine does not hold up the whole call.
    with numba.parallel_chunksize(CHUNK_BLOCKS):
        _casa_kernel(*flat, casa, types["eps_max"], lo, hi, types["vegetated"], params,
                     _working_vector(params, dtype), npp, rh, nep, npp_m, rh_m, monthly)
    out = {"npp": npp.reshape(spatial), "rh": rh.reshape(spatial), "nep": nep.reshape(spatial),
           "bounds": bounds_map}
    if monthly:
        out["npp_monthly"] = npp_m.reshape((MONTHS, *spatial))
        out["rh_monthly"] = rh_m.reshape((MONTHS, *spatial))
        out["nep_monthly"] = (npp_m - rh_m).reshape((MONTHS, *spatial))
    return out


def monthly_npp(ndvi, temperature, precipitation, radiation, vegetation, *, classes="casa",
                bounds="percentile", **kwargs):
    """Monthly CASA NPP [g C m-2 month-1], (12, ...); see :func:`annual_carbon` for inputs."""
    return annual_carbon(ndvi, temperature, precipitation, radiation, vegetation,
                         classes=classes, bounds=bounds, monthly=True, **kwargs)["npp_monthly"]


def annual_nep(ndvi, temperature, precipitation, radiation, vegetation, *, classes="casa",
               bounds="percentile", **kwargs):
    """Annual NEP = Σ (NPP − Rh) [g C m-2 yr-1], spatial shape; see :func:`annual_carbon`."""
    return annual_carbon(ndvi, temperature, precipitation, radiation, vegetation,
                         classes=classes, bounds=bounds, **kwargs)["nep"]
