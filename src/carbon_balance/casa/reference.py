"""The CASA model composed from the readable functions: the reference the kernel is
tested against (tests/casa/test_kernel.py), in float64, month-sized temporaries and all.

    NPP = SOL × FPAR × par_fraction × Tε1 × Tε2 × Wε × ε_max   [g C m-2 month-1]
    NEP = Σ_12 months (NPP − Rh)                               [g C m-2 yr-1]

Each factor is one public function (:func:`~.fpar.fpar`,
:func:`~.temperature.temperature_stress`, :func:`~.water.water_stress`,
:func:`~.respiration.heterotrophic_respiration`); this module adds only the pixel rules
of :func:`carbon_balance.casa.annual_carbon`. Bounds are resolved the same way, with
``"percentile"`` taken by :func:`numpy.percentile` per type (the reference of
:mod:`.percentiles` too).
"""

from __future__ import annotations

import numpy as np

from .fpar import LOWER_PERCENTILE, UPPER_PERCENTILE, class_bounds, fpar
from .parameters import resolve_parameters
from .respiration import heterotrophic_respiration
from .tables import N_TYPES, casa_parameters, to_casa_codes, vegetation_types
from .temperature import temperature_stress
from .water import water_stress


def reference_bounds(ndvi, casa_codes, lower=LOWER_PERCENTILE, upper=UPPER_PERCENTILE):
    """{casa_code: (ndvi_min, ndvi_max)}: :func:`numpy.percentile` of each vegetated
    type's finite NDVI [-] over all months, in float64."""
    ndvi = np.asarray(ndvi)
    codes = np.asarray(casa_codes)
    vegetated = vegetation_types()["vegetated"].to_numpy(bool)
    out = {}
    for c in range(N_TYPES):
        if not vegetated[c]:
            continue
        v = ndvi[:, codes == c].astype(np.float64)
        v = v[np.isfinite(v)]
        if v.size:
            lo, hi = np.percentile(v, [lower, upper])
            out[c] = (float(lo), float(hi))
    return out


def reference_carbon(ndvi, temperature, precipitation, radiation, vegetation, *,
                     classes="casa", bounds="percentile", parameters=None,
                     lower_percentile=LOWER_PERCENTILE, upper_percentile=UPPER_PERCENTILE,
                     **overrides):
    """NPP, Rh and NEP from the readable functions, in float64.

    Parameters
    ----------
    Those of :func:`carbon_balance.casa.annual_carbon` (numpy arrays, months on axis 0).

    Returns
    -------
    dict: "npp", "rh", "nep" [g C m-2 yr-1] of the spatial shape, "npp_monthly",
    "rh_monthly" [g C m-2 month-1] (12, ...) and "bounds" — all float64.

    References
    ----------
    METHOD.md sections 1-2; Fan et al. 2024, doi:10.3390/land13030297.

    Examples
    --------
    >>> import numpy as np
    >>> ones = np.ones((12, 1))
    >>> out = reference_carbon(0.6 * ones, 20 * ones, 100 * ones, 400 * ones,
    ...                        np.array([4]), bounds="table")
    >>> round(float(out["rh"][0]), 2)
    356.82
    """
    p = resolve_parameters(parameters, **overrides)
    v, t, pr, sol = (np.asarray(a, dtype=np.float64)
                     for a in (ndvi, temperature, precipitation, radiation))
    casa = to_casa_codes(vegetation, classes)
    if isinstance(bounds, str) and bounds == "percentile":
        resolved = reference_bounds(v, casa, lower_percentile, upper_percentile)
    else:
        resolved = class_bounds(bounds, v, casa, classes=classes)
    types = casa_parameters(p.eps_max)
    lo = np.full(N_TYPES, np.nan)
    hi = np.full(N_TYPES, np.nan)
    for code, (a, b) in resolved.items():
        lo[code], hi[code] = a, b
    code = np.where(casa >= 0, casa, 0)
    valid = ((casa >= 0) & np.isfinite(v).all(axis=0) & np.isfinite(t).all(axis=0)
             & np.isfinite(pr).all(axis=0) & np.isfinite(sol).all(axis=0))
    vegetated = valid & types["vegetated"][code]
    pr = np.maximum(pr, 0.0)     # negative precipitation (resampling artefacts) counts as 0
    # Non-vegetated and invalid pixels get harmless stand-in values, overwritten below.
    lo_px = np.where(vegetated, lo[code], 0.0)
    hi_px = np.where(vegetated, hi[code], 0.5)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        f = fpar(v, lo_px, hi_px, parameters=p)
        te1, te2 = temperature_stress(t, v, parameters=p)
        w = water_stress(t, pr, parameters=p)
        npp_m = sol * f * p.par_fraction * te1 * te2 * w * types["eps_max"][code]
        rh_m = heterotrophic_respiration(t, pr, parameters=p)
    fill = np.where(valid, 0.0, np.nan)
    npp_m = np.where(vegetated, npp_m, fill)
    rh_m = np.where(vegetated, rh_m, fill)
    npp, rh = npp_m.sum(axis=0), rh_m.sum(axis=0)
    return {"npp": npp, "rh": rh, "nep": npp - rh, "npp_monthly": npp_m,
            "rh_monthly": rh_m, "bounds": resolved}
