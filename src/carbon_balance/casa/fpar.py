"""Fraction of absorbed photosynthetically active radiation (FPAR) from NDVI, and the
per-class NDVI bounds it is scaled by (METHOD.md section 1).

FPAR = alpha * FPAR_NDVI + (1 - alpha) * FPAR_SR, with NDVI and the simple ratio
SR = (1 + NDVI)/(1 - NDVI) each scaled linearly between the class bounds
(Potter et al. 1993, doi:10.1029/93GB02725; Los et al. 1994; Zhu et al. 2007,
J. Plant Ecol. 31:413). NDVI is clipped to the class bounds first, so FPAR stays
in [fpar_min, fpar_max].
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .arrays import is_lazy_or_labelled
from .parameters import resolve_parameters
from .percentiles import class_percentile_bounds
from .tables import NODATA, load_class_table, to_casa_codes, vegetation_types
from .xarray_api import labelled

#: Percentiles of the valid NDVI of a class taken as its bounds (Fan et al. 2024).
LOWER_PERCENTILE = 5.0
UPPER_PERCENTILE = 95.0


@labelled(units={"ndvi": "ndvi"})
def simple_ratio(ndvi):
    """Simple ratio SR = (1 + NDVI) / (1 - NDVI) [-] of NDVI [-] (infinite at NDVI = 1).

    Parameters
    ----------
    ndvi : array [-]

    Returns
    -------
    array [-] of the shape of ``ndvi``.

    References
    ----------
    Los S.O. et al. 1994, Int. J. Remote Sens. 15:3493 (after Potter et al. 1993).

    Examples
    --------
    >>> float(simple_ratio(0.5))
    3.0
    """
    ndvi = np.asarray(ndvi)
    return (1 + ndvi) / (1 - ndvi)


@labelled(units={"ndvi": "ndvi"})
def fpar(ndvi, ndvi_min, ndvi_max, *, parameters=None, **overrides):
    """FPAR [-] from NDVI [-] and the class's NDVI bounds.

    FPAR = α FPAR_NDVI + (1 − α) FPAR_SR, each term NDVI (or SR) scaled linearly from
    its class bounds to [fpar_min, fpar_max], after clipping NDVI to the bounds.

    Parameters
    ----------
    ndvi : array [-]
    ndvi_min, ndvi_max : scalar or array broadcasting with ``ndvi`` [-]
        Class bounds, -1 < ndvi_min <= ndvi_max < 1. SR bounds are the SR of these.
    parameters, overrides : ``alpha``, ``fpar_min``, ``fpar_max`` (see
        :func:`~carbon_balance.casa.parameters.resolve_parameters`)

    Returns
    -------
    array [-] in [fpar_min, fpar_max], the input's precision; NaN where ``ndvi`` is NaN.
    Where the bounds coincide (a class with a single NDVI value) both scaled terms are
    taken as 0, so FPAR = fpar_min: no range to scale within means no evidence of canopy
    above it.

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725; Fan et al. 2024,
    doi:10.3390/land13030297 (eqs. 3-6).

    Examples
    --------
    Bounds 0.1..0.7 and NDVI 0.4: the NDVI term is half way (0.4755), the SR term a
    quarter of the way (0.23825):

    >>> round(float(fpar(0.4, 0.1, 0.7)), 6)
    0.356875
    """
    p = resolve_parameters(parameters, **overrides)
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
    width = p.fpar_max - p.fpar_min
    out = (p.alpha * (f_ndvi * width + p.fpar_min)
           + (1 - p.alpha) * (f_sr * width + p.fpar_min))
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

    Parameters
    ----------
    classes : str, Path or DataFrame
        A class table (see :func:`~carbon_balance.casa.load_class_table`).

    Returns
    -------
    {casa_code: (ndvi_min, ndvi_max)} [-] for the vegetated types that the class table
    ``classes`` maps to (all 11 for ``"casa"``).

    References
    ----------
    Zhu W., Pan Y., Zhang J. 2007, J. Plant Ecol. (Chinese) 31:413.

    Examples
    --------
    >>> table_bounds()[1]                  # deciduous needleleaf forest
    (0.023, 0.738)
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
    NDVI value, exact (:mod:`carbon_balance.casa.percentiles`, the implementation the
    grid engine streams).

    References
    ----------
    Fan et al. 2024, doi:10.3390/land13030297.

    Examples
    --------
    >>> import numpy as np
    >>> ndvi = np.linspace(0.1, 0.9, 24).reshape(12, 2)
    >>> b = percentile_bounds(ndvi, np.array([6, 0]))
    >>> [round(v, 4) for v in b[6]]
    [0.1383, 0.827]
    """
    if is_lazy_or_labelled(ndvi, vegetation):
        from .xarray_api import percentile_bounds_xarray

        return percentile_bounds_xarray(ndvi, vegetation, lower, upper, classes=classes)
    ndvi = np.asarray(ndvi)
    casa = to_casa_codes(vegetation, classes)
    if ndvi.shape[1:] != casa.shape:
        raise InputError(f"NDVI has spatial shape {ndvi.shape[1:]}, vegetation {casa.shape}",
                         key="vegetation", fix="align the land-cover raster to the NDVI grid")
    return casa_percentile_bounds(ndvi, casa, lower, upper)


def casa_percentile_bounds(ndvi, casa_codes, lower=LOWER_PERCENTILE, upper=UPPER_PERCENTILE):
    """:func:`percentile_bounds` for codes already cross-walked to CASA types (-1 nodata)."""
    vegetated = vegetation_types()["vegetated"].to_numpy(bool)
    return class_percentile_bounds(ndvi, casa_codes, lower, upper, include=vegetated)


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
