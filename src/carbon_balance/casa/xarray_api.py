"""xarray and dask inputs for the casa functions (imported only when one is passed).

With DataArrays the functions find the months by dimension name (``month``, or ``time``
of length 12), check declared ``units`` (:mod:`.arrays`), align the inputs exactly on
their coordinates, and return DataArrays with the inputs' coordinates, a ``units``
attribute and, for dask-backed inputs, the inputs' spatial chunks (the month dimension
is taken as one chunk: every month of a pixel is needed at once). Bare dask arrays are
treated as DataArrays with the months on axis 0 and come back as dask arrays.

Each chunk is computed independently by the numpy functions: CASA has no spatial
coupling, so results do not depend on the chunking. The one global step, the
``percentile`` NDVI bounds, is an exact streaming reduction over the chunks
(:mod:`.percentiles`) computed before the lazy result is built.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ..errors import InputError
from .arrays import check_units, is_lazy_or_labelled

#: Names of the month dimension, in order of preference (``time`` only with length 12).
MONTH_DIMS = ("month", "time")
MONTH = "month"
#: ``units`` of the outputs.
ANNUAL_UNITS = "g C m-2 yr-1"
MONTHLY_UNITS = "g C m-2 month-1"
_LONG_NAMES = {"npp": "net primary productivity", "rh": "heterotrophic respiration",
               "nep": "net ecosystem productivity"}


def _is_dask(a) -> bool:
    return type(a).__module__.startswith("dask.")


def _to_dataarray(value, name: str, monthly: bool):
    import xarray as xr

    if isinstance(value, xr.DataArray):
        return value
    if isinstance(value, xr.Dataset):
        raise InputError(f"{name} is a Dataset", key=name, fix=f"pass the variable, ds[{name!r}]")
    if _is_dask(value):
        dims = ([MONTH] if monthly else []) + [f"dim_{i}" for i in range(value.ndim - monthly)]
        return xr.DataArray(value, dims=dims)
    return None


def month_dim(da, name: str) -> str:
    """The month dimension of ``da``: ``month``, else ``time`` if it has 12 steps."""
    if MONTH in da.dims:
        if da.sizes[MONTH] != 12:
            raise InputError(f"{name} has {da.sizes[MONTH]} months", key=name,
                             fix="give the 12 monthly layers of one year")
        return MONTH
    if "time" in da.dims and da.sizes["time"] == 12:
        return "time"
    raise InputError(f"{name} has dimensions {tuple(da.dims)}: no 'month' dimension "
                     "(or 'time' of length 12)", key=name,
                     fix="name the month dimension 'month', e.g. da.rename(band='month')")


def prepare(arrays: dict, monthly: set, units: dict):
    """DataArrays with the month dimension renamed to ``month`` (one chunk), aligned
    exactly; returns (arrays, the original month dimension name, its coordinate)."""
    import xarray as xr

    out = {}
    month_name, month_coord = None, None
    for name, value in arrays.items():
        da = _to_dataarray(value, name, name in monthly)
        if da is None:                       # a scalar or numpy array: broadcast as is
            out[name] = value
            continue
        if name in units:
            check_units(units[name], da)
        if name in monthly:
            dim = month_dim(da, name)
            if month_name is None:
                month_name = dim
                month_coord = da[dim] if dim in da.coords else None
            da = da.rename({dim: MONTH}) if dim != MONTH else da
            # The month labels go (restored on the outputs): inputs' labels may differ
            # (e.g. dates of different days); what counts is the order of the 12 steps.
            da = da.drop_vars(MONTH, errors="ignore")
            if da.chunks is not None:
                da = da.chunk({MONTH: -1})
        out[name] = da
    labelled = [k for k, v in out.items() if isinstance(v, xr.DataArray)]
    if len(labelled) > 1:
        try:
            aligned = xr.align(*(out[k] for k in labelled), join="exact")
        except ValueError as e:
            raise InputError(f"the inputs' coordinates differ ({e})", key=labelled[0],
                             fix="put every input on one grid (same x/y coordinates)") from None
        out.update(zip(labelled, aligned))
    return out, month_name or MONTH, month_coord


def finish(da, units: str, month_name: str, month_coord, name: str | None = None):
    if MONTH in da.dims:
        da = da.transpose(MONTH, ...)
        if month_coord is not None:
            da = da.assign_coords({MONTH: month_coord.values})
        if month_name != MONTH:
            da = da.rename({MONTH: month_name})
    da.attrs = {"units": units}
    if name is not None:
        da.name = name
        if name.split("_")[0] in _LONG_NAMES:
            da.attrs["long_name"] = _LONG_NAMES[name.split("_")[0]]
    return da


def result_dtype(*arrays):
    dtypes = [np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype for a in arrays
              if a is not None]
    dtype = np.result_type(*dtypes, np.float32)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def bare(was_bare: bool, da):
    return da.data if was_bare else da


def labelled(*, monthly: tuple = (), units: dict | None = None, out_units: tuple = ("1",),
             monthly_out: tuple = (False,)):
    """Decorator: the function also takes xarray/dask arrays for its array arguments.

    ``monthly``: arguments with a month dimension; ``units``: {argument: quantity of
    :data:`~carbon_balance.casa.arrays.EXPECTED_UNITS`}; ``out_units`` and
    ``monthly_out``: per output. NumPy inputs go straight to the function.
    """
    units = units or {}

    def deco(fn):
        sig = inspect.signature(fn)
        array_args = [p for p in sig.parameters.values()
                      if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            names = [p.name for p in array_args]
            values = [bound.arguments[n] for n in names]
            if not is_lazy_or_labelled(*values):
                return fn(*args, **kwargs)
            return _apply(fn, bound, names, set(monthly), units, out_units, monthly_out)
        return wrapper
    return deco


def _apply(fn, bound, names, monthly, units, out_units, monthly_out):
    import xarray as xr

    was_bare = not any(isinstance(bound.arguments[n], xr.DataArray) for n in names)
    arrays, month_name, month_coord = prepare({n: bound.arguments[n] for n in names},
                                               monthly, units)
    others = {k: v for k, v in bound.arguments.items() if k not in names}
    extra = others.pop("overrides", None) or {}
    others.update(extra)

    def block(*values):
        values = [np.moveaxis(v, -1, 0) if n in monthly and np.ndim(v) else v
                  for n, v in zip(names, values)]
        result = fn(*values, **others)
        result = result if isinstance(result, tuple) else (result,)
        done = tuple(np.moveaxis(np.asarray(r), 0, -1) if m else np.asarray(r)
                     for r, m in zip(result, monthly_out))
        return done if len(done) > 1 else done[0]

    dtype = result_dtype(*(arrays[n] for n in names))
    out = xr.apply_ufunc(
        block, *(arrays[n] for n in names),
        input_core_dims=[[MONTH] if n in monthly else [] for n in names],
        output_core_dims=[[MONTH] if m else [] for m in monthly_out],
        dask="parallelized", output_dtypes=[dtype] * len(monthly_out),
        dask_gufunc_kwargs={"output_sizes": {MONTH: 12}} if any(monthly_out) else None)
    out = out if isinstance(out, tuple) else (out,)
    done = tuple(bare(was_bare, finish(o, u, month_name, month_coord))
                 for o, u in zip(out, out_units))
    return done if len(done) > 1 else done[0]


# ---- the inputs of the composed model (carbon_balance.casa.model) -------------------

QUANTITIES = {"ndvi": "ndvi", "temperature": "temperature", "precipitation": "precipitation",
               "radiation": "radiation", "vegetation": "vegetation"}
MONTHLY_INPUTS = {"ndvi", "temperature", "precipitation", "radiation"}


def _casa_codes_float(codes, classes):
    """CASA codes as float32 with NaN nodata (the scans' convention)."""
    from .tables import to_casa_codes

    c = to_casa_codes(codes, classes).astype(np.float32)
    c[c < 0] = np.nan
    return c


def percentile_bounds_xarray(ndvi, vegetation, lower, upper, *, classes="casa"):
    """Exact per-type percentile bounds of (possibly dask-backed) DataArrays: one
    streaming scan over the chunks, and a gather pass only if a needed bin holds
    several distinct values."""
    import dask
    import xarray as xr

    from . import percentiles as pct
    from .tables import vegetation_types

    arrays, _, _ = prepare({"ndvi": ndvi, "vegetation": vegetation}, {"ndvi"}, QUANTITIES)
    nd, veg = arrays["ndvi"], arrays["vegetation"]
    if not isinstance(veg, xr.DataArray):
        veg = xr.DataArray(np.asarray(veg), dims=[d for d in nd.dims if d != MONTH])
    codes = xr.apply_ufunc(_casa_codes_float, veg, kwargs={"classes": classes},
                           dask="parallelized", output_dtypes=[np.float32])
    vegetated = vegetation_types()["vegetated"].to_numpy(bool)
    nd = nd.transpose(MONTH, *codes.dims)
    if nd.chunks is None and codes.chunks is None:
        return pct.class_percentile_bounds(nd.values, np.nan_to_num(codes.values, nan=-1),
                                           lower, upper, include=vegetated)
    nd_data = nd.data if nd.chunks is not None else dask.array.from_array(nd.values)
    spatial = nd_data.chunks[1:]
    code_data = codes.data if codes.chunks is not None else dask.array.from_array(codes.values)
    code_data = code_data.rechunk(spatial)
    nd_blocks = nd_data.rechunk({0: -1}).to_delayed().reshape(-1)
    code_blocks = code_data.to_delayed().reshape(-1)

    def flat(v):
        return v.reshape(v.shape[0], 1, -1)

    def scan(v, c):
        return pct.scan_block(flat(v), c.reshape(1, -1))

    parts = [dask.delayed(scan)(v, c) for v, c in zip(nd_blocks, code_blocks)]
    while len(parts) > 1:     # a tree of merges: a few scans in memory at a time
        parts = [dask.delayed(pct.merge_scans)(*parts[i:i + 4]) for i in range(0, len(parts), 4)]
    (total,) = dask.compute(parts[0])
    todo = pct.unresolved(total, lower, upper)
    gathered = {}
    if todo:
        pieces = dask.compute(*[dask.delayed(pct.gather_block)(dask.delayed(flat)(v),
                                                               dask.delayed(np.reshape)(c, (1, -1)),
                                                               todo)
                                for v, c in zip(nd_blocks, code_blocks)])
        gathered = pct.merge_gathered(list(pieces))
    result = pct.class_percentiles(total, lower, upper, gathered)
    return {int(k): (lo, hi) for k, (lo, hi, _) in result.items() if vegetated[k]}
