"""CASA NPP, heterotrophic respiration and NEP of a year: the public composition.

    NPP = SOL × FPAR × 0.5 × Tε1 × Tε2 × Wε × ε_max            [g C m-2 month-1]
    NEP = Σ_12 months (NPP − Rh)                                 [g C m-2 yr-1]

(METHOD.md sections 1-2; Potter et al. 1993, doi:10.1029/93GB02725; Zhu et al. 2007,
J. Plant Ecol. 31:413; Fan et al. 2024, doi:10.3390/land13030297.)

:func:`annual_carbon` checks and flattens the inputs, resolves the NDVI bounds and the
parameter set, and runs the fused kernel (:mod:`.kernel`); with xarray or dask inputs it
goes through :mod:`.xarray_api` (months by dimension name, coordinates, units, chunks).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import InputError
from .arrays import is_lazy_or_labelled
from .fpar import LOWER_PERCENTILE, UPPER_PERCENTILE, casa_percentile_bounds, class_bounds
from .kernel import run_kernel
from .parameters import resolve_parameters
from .tables import N_TYPES, casa_parameters, to_casa_codes

#: Months per year on the month axis of every monthly input.
MONTHS = 12


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
    # A read-only input (a view of a read-only buffer) is copied: the kernel is compiled
    # once per dtype for writable arrays, not a second time for read-only ones.
    flat = [a if a.flags.writeable else a.copy() for a in flat]
    return flat, veg, shape[1:], dtype


def _bound_vectors(bounds_map):
    lo = np.full(N_TYPES, np.nan)
    hi = np.full(N_TYPES, np.nan)
    for code, (a, b) in bounds_map.items():
        lo[code], hi[code] = a, b
    return lo, hi


def annual_carbon(ndvi, temperature, precipitation, radiation, vegetation, *, classes="casa",
                  bounds="percentile", parameters=None, monthly=False,
                  lower_percentile=LOWER_PERCENTILE, upper_percentile=UPPER_PERCENTILE,
                  **overrides):
    """Annual NPP, Rh and NEP of one year, in one fused pass (the grid engine's kernel).

    Parameters
    ----------
    ndvi : array (12, ...) [-]
        Monthly NDVI; NaN is nodata.
    temperature : array (12, ...) [°C]
        Monthly mean air temperature.
    precipitation : array (12, ...) [mm month-1]
        Monthly precipitation (negative values count as 0).
    radiation : array (12, ...) [MJ m-2 month-1]
        Total solar radiation SOL.
    vegetation : array (...)
        Class codes of ``classes`` (NaN or a nodata code of the table: nodata).
    classes : str, Path or DataFrame
        "casa", "cas-lucc", "modis-igbp", "esa-worldcover", "clcd" or a CSV path.
    bounds : "percentile", "table" or mapping
        "percentile" (the ``lower_percentile`` and ``upper_percentile`` of each CASA
        type's valid NDVI over these arrays and all months, exact), "table" (Zhu et al.
        2007) or {casa_code: (ndvi_min, ndvi_max)}.
    parameters : CasaParameters, str or mapping, optional
        The constants (default :data:`~carbon_balance.casa.DEFAULT_PARAMETERS`; a name of
        :data:`~carbon_balance.casa.CASA_PARAMETERS`).
    monthly : bool
        Also return "npp_monthly", "rh_monthly", "nep_monthly" (12, ...).
    **overrides
        Any field of :class:`~carbon_balance.casa.CasaParameters` for this call, e.g.
        ``rn_coefficient=0.589``, ``rh_coefficient=0.0912``, ``te1_cold_limit=-5.0``, or
        ``eps_max={casa_code: ε_max [g C MJ-1]}`` (all 1.0 gives NPP per unit ε_max; NPP
        is linear in ε_max).

    Returns
    -------
    dict with "npp", "rh", "nep" [g C m-2 yr-1] of the spatial shape, the input dtype
    (float32 only if all inputs are float32), and "bounds" (the resolved NDVI bounds,
    {casa_code: (ndvi_min, ndvi_max)}). With xarray inputs the arrays are DataArrays with
    the inputs' coordinates, ``units`` and (dask) chunks.

    Pixel rules: NaN in any month of any input, or a nodata class, gives NaN; a
    non-vegetated CASA type gives NPP = Rh = NEP = 0.

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725; Fan et al. 2024,
    doi:10.3390/land13030297; Pei Z. et al. 2009, doi:10.1111/j.1744-7909.2009.00813.x.

    Examples
    --------
    One evergreen broadleaf pixel (CASA type 4) at a constant 20 °C, 100 mm and
    400 MJ m-2 each month, table bounds:

    >>> import numpy as np
    >>> ones = np.ones((12, 1))
    >>> out = annual_carbon(0.6 * ones, 20 * ones, 100 * ones, 400 * ones, np.array([4]),
    ...                     bounds="table")
    >>> round(float(out["rh"][0]), 2)            # 12 × Rh(20 °C, 100 mm)
    356.82
    """
    if is_lazy_or_labelled(ndvi, temperature, precipitation, radiation, vegetation):
        return _annual_carbon_labelled(ndvi, temperature, precipitation, radiation, vegetation,
                                    classes=classes, bounds=bounds, parameters=parameters,
                                    monthly=monthly, lower_percentile=lower_percentile,
                                    upper_percentile=upper_percentile, **overrides)
    params = resolve_parameters(parameters, **overrides)
    flat, veg, spatial, dtype = _monthly_inputs(ndvi, temperature, precipitation, radiation,
                                                vegetation)
    casa = to_casa_codes(veg, classes).reshape(-1)
    if isinstance(bounds, str) and bounds == "percentile":
        bounds_map = casa_percentile_bounds(flat[0], casa, lower_percentile, upper_percentile)
    else:
        bounds_map = class_bounds(bounds, flat[0], casa, classes=classes)
    lo, hi = _bound_vectors(bounds_map)
    types = casa_parameters(params.eps_max)
    npp, rh, nep, npp_m, rh_m = run_kernel(flat, casa, types, lo, hi, params, monthly)
    out = {"npp": npp.reshape(spatial), "rh": rh.reshape(spatial), "nep": nep.reshape(spatial),
           "bounds": bounds_map}
    if monthly:
        out["npp_monthly"] = npp_m.reshape((MONTHS, *spatial))
        out["rh_monthly"] = rh_m.reshape((MONTHS, *spatial))
        out["nep_monthly"] = (npp_m - rh_m).reshape((MONTHS, *spatial))
    return out


def monthly_npp(ndvi, temperature, precipitation, radiation, vegetation, *, classes="casa",
                bounds="percentile", **kwargs):
    """Monthly CASA NPP [g C m-2 month-1], (12, ...).

    Parameters
    ----------
    As :func:`annual_carbon` (``kwargs``: its keywords).

    Returns
    -------
    array (12, ...) [g C m-2 month-1] (a DataArray for xarray inputs).

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725; Fan et al. 2024,
    doi:10.3390/land13030297.

    Examples
    --------
    >>> import numpy as np
    >>> ones = np.ones((12, 1))
    >>> npp = monthly_npp(0.6 * ones, 20 * ones, 100 * ones, 400 * ones, np.array([0]))
    >>> npp.shape, float(npp.max())              # type 0 is not vegetated
    ((12, 1), 0.0)
    """
    return annual_carbon(ndvi, temperature, precipitation, radiation, vegetation,
                         classes=classes, bounds=bounds, monthly=True, **kwargs)["npp_monthly"]


def annual_nep(ndvi, temperature, precipitation, radiation, vegetation, *, classes="casa",
               bounds="percentile", **kwargs):
    """Annual NEP = Σ (NPP − Rh) [g C m-2 yr-1] of the spatial shape.

    Parameters
    ----------
    As :func:`annual_carbon` (``kwargs``: its keywords, e.g. ``parameters=`` or any
    field of :class:`~carbon_balance.casa.CasaParameters`).

    Returns
    -------
    array (...) [g C m-2 yr-1], the input dtype. With xarray inputs (months on a
    ``month`` dimension, or ``time`` of length 12) a DataArray with the inputs' spatial
    coordinates, ``units`` and chunks.

    References
    ----------
    Fan et al. 2024, doi:10.3390/land13030297 (eq. 8); Potter C.S. et al. 1993,
    doi:10.1029/93GB02725.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ones = np.ones((12, 2))
    >>> da = lambda v, u: xr.DataArray(v * ones, dims=("month", "x"),
    ...                                coords={"x": [10.5, 11.5]}, attrs={"units": u})
    >>> nep = annual_nep(da(0.6, "1"), da(20, "degC"), da(100, "mm"), da(400, "MJ m-2"),
    ...                  xr.DataArray([4, 4], dims="x"), bounds="table")
    >>> nep.dims, nep.attrs["units"], nep.x.values.tolist()
    (('x',), 'g C m-2 yr-1', [10.5, 11.5])
    """
    return annual_carbon(ndvi, temperature, precipitation, radiation, vegetation,
                         classes=classes, bounds=bounds, **kwargs)["nep"]


@contextlib.contextmanager
def _one_numba_thread(active: bool):
    """One numba thread for this (dask worker) thread: dask already runs one chunk per
    core, and a parallel kernel inside each would oversubscribe the cores
    (``numba.set_num_threads`` is per thread)."""
    if not active:
        yield
        return
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _annual_carbon_labelled(ndvi, temperature, precipitation, radiation, vegetation, *,
                            classes, bounds, parameters, monthly, lower_percentile,
                            upper_percentile, **overrides):
    """:func:`annual_carbon` for xarray/dask inputs (see there and :mod:`.xarray_api`)."""
    import xarray as xr

    from .xarray_api import (
        ANNUAL_UNITS,
        MONTH,
        MONTHLY_INPUTS,
        MONTHLY_UNITS,
        QUANTITIES,
        bare,
        finish,
        percentile_bounds_xarray,
        prepare,
        result_dtype,
    )

    params = resolve_parameters(parameters, **overrides)
    given = {"ndvi": ndvi, "temperature": temperature, "precipitation": precipitation,
             "radiation": radiation, "vegetation": vegetation}
    was_bare = not any(isinstance(v, xr.DataArray) for v in given.values())
    arrays, month_name, month_coord = prepare(given, MONTHLY_INPUTS, QUANTITIES)
    for name in QUANTITIES:
        if not isinstance(arrays[name], xr.DataArray):
            raise InputError(f"{name} is a plain array among labelled ones", key=name,
                             fix="pass every input as a DataArray (or every one as numpy)")
    if isinstance(bounds, str) and bounds == "percentile":
        resolved = percentile_bounds_xarray(arrays["ndvi"], arrays["vegetation"],
                                            lower_percentile, upper_percentile, classes=classes)
    else:
        veg = arrays["vegetation"]
        codes = to_casa_codes(veg.values if veg.chunks is None else veg.data.compute(), classes)
        resolved = class_bounds(bounds, None, codes, classes=classes)
    dtype = result_dtype(*(arrays[n] for n in MONTHLY_INPUTS))

    lazy = any(arrays[n].chunks is not None for n in QUANTITIES)

    def block(v, t, p, s, veg):
        with _one_numba_thread(lazy):
            out = annual_carbon(*(np.moveaxis(a, -1, 0) for a in (v, t, p, s)), veg,
                                classes=classes, bounds=resolved, parameters=params,
                                monthly=monthly)
        annual = [out[q].astype(dtype, copy=False) for q in ("npp", "rh", "nep")]
        if not monthly:
            return tuple(annual)
        return tuple(annual) + tuple(np.moveaxis(out[f"{q}_monthly"], 0, -1).astype(dtype)
                                     for q in ("npp", "rh", "nep"))

    n_out = 6 if monthly else 3
    result = xr.apply_ufunc(
        block, *(arrays[n] for n in ("ndvi", "temperature", "precipitation", "radiation",
                                     "vegetation")),
        input_core_dims=[[MONTH]] * 4 + [[]],
        output_core_dims=[[]] * 3 + [[MONTH]] * (n_out - 3),
        dask="parallelized", output_dtypes=[dtype] * n_out,
        dask_gufunc_kwargs={"output_sizes": {MONTH: 12}} if monthly else None)
    names = ["npp", "rh", "nep"] + (["npp_monthly", "rh_monthly", "nep_monthly"] if monthly else [])
    out = {}
    for name, da in zip(names, result):
        units = MONTHLY_UNITS if name.endswith("_monthly") else ANNUAL_UNITS
        out[name] = bare(was_bare, finish(da, units, month_name, month_coord, name))
    out["bounds"] = resolved
    return out
