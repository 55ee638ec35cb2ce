"""Evaluate CASA on a year's aligned inputs: one blockwise kernel, numpy or dask.

:func:`carbon_arrays` runs :func:`carbon_balance.casa.annual_carbon` (12 months on axis
0) on one block and stacks NPP, Rh, NEP (and the monthly values). It is the one kernel
of every grid path: :func:`carbon_dataset` maps it over an xarray Dataset
(:func:`xarray.apply_ufunc`, ``dask="parallelized"``: numpy-backed in memory, dask-backed
lazily, e.g. :func:`carbon_balance.grid.readers.year_dataset`), and ``nep``/``run`` call
it from one dask task per chunk that reads, evaluates and stores its chunk
(:mod:`carbon_balance.grid.nep`). CASA has no spatial coupling and all months of a cell
are in one chunk, so results do not depend on the chunk size or the scheduler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

#: Annual outputs [g C m-2 yr-1].
ANNUAL = ("npp", "rh", "nep")


def quantities(monthly: bool = False) -> list[str]:
    """Names along the ``quantity`` axis of :func:`carbon_block`'s result."""
    names = list(ANNUAL)
    if monthly:
        names += [f"{q}_monthly_{m:02d}" for q in ANNUAL for m in range(1, 13)]
    return names


def carbon_arrays(ndvi, temperature, precipitation, radiation, vegetation, *, bounds,
                  eps_max=None, rn_coefficient=None, rh_coefficient=None,
                  monthly=False) -> np.ndarray:
    """CASA on one block with the 12 months on axis 0 (the ``casa`` convention).

    Parameters
    ----------
    ndvi, temperature, precipitation, radiation : arrays (12, y, x)
        [-], [°C], [mm month-1], [MJ m-2 month-1]; NaN is nodata
    vegetation : array (y, x) of CASA codes 0..11 (NaN nodata)
    bounds : {casa_code: (ndvi_min, ndvi_max)}

    Returns float32 (quantity, y, x): NPP, Rh, NEP [g C m-2 yr-1], then with ``monthly``
    the 12 monthly NPP, Rh, NEP [g C m-2 month-1] (see :func:`quantities`).
    """
    from .. import casa

    out = casa.annual_carbon(ndvi, temperature, precipitation, radiation, vegetation,
                             classes="casa", bounds=bounds, eps_max=eps_max,
                             rn_coefficient=rn_coefficient, rh_coefficient=rh_coefficient,
                             monthly=monthly)
    layers = [out[q] for q in ANNUAL]
    if monthly:
        for q in ANNUAL:
            layers.extend(np.asarray(out[f"{q}_monthly"]))
    return np.stack(layers).astype(np.float32, copy=False)


def carbon_block(ndvi, temperature, precipitation, radiation, vegetation, **kwargs):
    """:func:`carbon_arrays` with the months on the LAST axis and the quantities last
    (the layout of ``xarray.apply_ufunc`` core dimensions)."""
    def months_first(a):
        return np.moveaxis(a, -1, 0)

    out = carbon_arrays(months_first(ndvi), months_first(temperature),
                        months_first(precipitation), months_first(radiation), vegetation,
                        **kwargs)
    return np.moveaxis(out, 0, -1)


def single_threaded_kernel():
    """Context manager: numba kernels called from this thread use one thread.

    Chunks already run in parallel (one per dask thread or worker); a parallel kernel
    inside each would oversubscribe the cores.
    """
    import contextlib

    import numba

    @contextlib.contextmanager
    def _ctx():
        old = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            yield
        finally:
            numba.set_num_threads(old)

    return _ctx()


def carbon_dataset(ds: xr.Dataset, bounds: dict, *, monthly: bool = False,
                   eps_max=None, rn_coefficient: float | None = None,
                   rh_coefficient: float | None = None) -> xr.DataArray:
    """NPP, Rh, NEP (and monthly) of a year's dataset (variables as
    :func:`carbon_balance.grid.readers.year_dataset`), numpy- or dask-backed.

    Returns a DataArray (quantity, y, x), float32, chunked like ``ds`` when it is lazy.
    """
    import xarray as xr

    names = quantities(monthly)
    result = xr.apply_ufunc(
        carbon_block, ds.ndvi, ds.temperature, ds.precipitation, ds.radiation, ds.vegetation,
        input_core_dims=[["month"]] * 4 + [[]], output_core_dims=[["quantity"]],
        dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {"quantity": len(names)}},
        kwargs=dict(bounds=bounds, eps_max=eps_max, rn_coefficient=rn_coefficient,
                    rh_coefficient=rh_coefficient, monthly=monthly))
    return result.assign_coords(quantity=names).transpose("quantity", "y", "x")
