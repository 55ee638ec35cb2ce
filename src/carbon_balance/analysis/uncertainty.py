"""How sure is a unit's zone? Monte Carlo uncertainty and one-at-a-time sensitivity.

The uncertain parameters (``[uncertainty]`` in the study file; defaults documented in
``docs/uncertainty.md``):

- ε_max of each vegetation type, uniform within ± ``eps_max_relative`` (default 20 %) of
  the table value, drawn independently per type;
- the Zhou–Zhang Rn coefficient, uniform in ``rn_coefficient`` (default 0.589–0.598, the
  two values in the literature);
- the Pei et al. Rh coefficient, uniform in ``rh_coefficient`` (0.0912–0.0913);
- the NDVI bound mode, each of ``ndvi_bounds`` with equal probability;
- estimated (forecast) emissions, normal with the forecast's 95 % interval, truncated at 0;
  inventory values are kept as they are.

Why it is fast: the pixel work is not repeated per draw. NPP is linear in ε_max within a
vegetation type, so each pixel pass computes NPP with ε_max = 1 and reduces it per unit
*and* type (:func:`carbon_basis`); a draw is then a weighted sum of that small array.
The Rn coefficient enters Wε non-linearly, but over its narrow range the unit sums are
interpolated linearly between passes at the range's ends (the plain value is one of the
nodes, so the plain run is reproduced exactly). Rh does not depend on NDVI or ε_max and
is computed at the ends of its range likewise. Each pass reads the inputs once per year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: Normal quantile of a two-sided 95 % interval, to turn forecast intervals into a
#: standard deviation.
Z95 = 1.959963984540054
#: The quantiles reported in ``intervals.csv``.
LOW_Q, HIGH_Q = 5.0, 95.0


@dataclass
class CarbonBasis:
    """Unit sums of the pixel passes, from which any draw's CS follows.

    ``npp1[year, mode, rn, unit, type]``: NPP with ε_max = 1 summed over the unit's
    cells of that vegetation type [t C per (g C MJ-1)]. ``rh[year, rh, unit]``: Rh of
    the unit's vegetated cells [t C]. ``eps_max[type]``: table ε_max [g C MJ-1].
    """

    years: list[int]
    unit_ids: np.ndarray
    types: np.ndarray
    eps_max: np.ndarray
    modes: list[str]
    rn_nodes: np.ndarray
    rh_nodes: np.ndarray
    npp1: np.ndarray
    rh: np.ndarray


def _nodes(rng: tuple[float, float], plain: float) -> np.ndarray:
    """Sorted, unique interpolation nodes: the range's ends and the plain value."""
    return np.unique(np.array([rng[0], rng[1], plain], dtype=float))


def _interp_weights(nodes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (lo, hi) and weight of ``hi`` for piecewise-linear interpolation on ``nodes``."""
    values = np.asarray(values, dtype=float)
    if nodes.size == 1:
        z = np.zeros(values.shape, dtype=np.intp)
        return z, z, np.zeros(values.shape)
    hi = np.clip(np.searchsorted(nodes, values, side="right"), 1, nodes.size - 1)
    lo = hi - 1
    w = (values - nodes[lo]) / (nodes[hi] - nodes[lo])
    return lo, hi, np.clip(w, 0.0, 1.0)


def cs_from_basis(basis: CarbonBasis, eps_factor: np.ndarray, mode_index: np.ndarray,
                  rn: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Carbon sequestration of every draw, year and unit [t C].

    Parameters
    ----------
    eps_factor : (draws, types) multipliers of the table ε_max [-]
    mode_index : (draws,) index into ``basis.modes``
    rn, rh : (draws,) Rn and Rh coefficients

    ``CS = Σ_type ε_max,type · factor · NPP1(mode, rn) − Rh(rh)``, each interpolated
    linearly between the nodes of the passes.
    """
    eps = eps_factor * basis.eps_max[None, :]                        # (d, c)
    lo, hi, w = _interp_weights(basis.rn_nodes, rn)
    # (y, d, u, c): NPP1 of each draw's mode at the two bracketing Rn nodes
    a_lo = basis.npp1[:, mode_index, lo]
    a_hi = basis.npp1[:, mode_index, hi]
    a = a_lo + w[None, :, None, None] * (a_hi - a_lo)
    npp = np.einsum("yduc,dc->dyu", a, eps)
    rlo, rhi, rw = _interp_weights(basis.rh_nodes, rh)
    r = basis.rh[:, rlo] + rw[None, :, None] * (basis.rh[:, rhi] - basis.rh[:, rlo])  # (y, d, u)
    return npp - np.transpose(r, (1, 0, 2))


def draw_parameters(spec, n_types: int, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Monte Carlo draws of the parameters (uniform ranges; modes equiprobable).

    ``spec`` is the study's :class:`~carbon_balance.study.UncertaintySection`.
    """
    rng = np.random.default_rng(seed)
    r = spec.eps_max_relative
    return {
        "eps_factor": 1.0 + rng.uniform(-r, r, size=(draws, n_types)) if r > 0
        else np.ones((draws, n_types)),
        "mode_index": rng.integers(0, len(spec.ndvi_bounds), size=draws),
        "rn": rng.uniform(*sorted(spec.rn_coefficient), size=draws),
        "rh": rng.uniform(*sorted(spec.rh_coefficient), size=draws),
        "rng": rng,
    }


def emission_draws(ce: np.ndarray, low: np.ndarray, high: np.ndarray, estimated: np.ndarray,
                   draws: int, rng: np.random.Generator, *, enabled: bool = True) -> np.ndarray:
    """Emissions of every draw [t CO2], shape (draws, *ce.shape).

    Estimated values are normal with σ = (high − low) / (2 · 1.96) from their 95 %
    interval, truncated at 0; inventory values are fixed.
    """
    ce = np.asarray(ce, dtype=float)
    out = np.broadcast_to(ce, (draws, *ce.shape)).copy()
    if not enabled:
        return out
    sigma = np.where(estimated, (np.asarray(high) - np.asarray(low)) / (2 * Z95), 0.0)
    sigma = np.where(np.isfinite(sigma), sigma, 0.0)
    z = rng.standard_normal(size=out.shape)
    return np.maximum(out + z * sigma, 0.0)


def year_arrays(study, year: int) -> dict[str, np.ndarray]:
    """A year's aligned inputs as numpy arrays (months on axis 0), read once."""
    import dask

    from ..grid.pipeline import year_dataset

    ds = year_dataset(study, year)
    with dask.config.set(scheduler="threads"):
        return {k: np.asarray(ds[k].values) for k in
                ("ndvi", "temperature", "precipitation", "radiation", "vegetation")}


def mode_bounds(study, arrays: dict, mode: str) -> dict:
    """NDVI bounds of every vegetated type for ``mode`` (same rules as the grid engine)."""
    from ..casa import percentile_bounds, table_bounds

    if mode == "table":
        return table_bounds("casa")
    veg = arrays["vegetation"]
    codes = np.where(np.isfinite(veg), veg, -1).astype(np.int16)
    return percentile_bounds(arrays["ndvi"], codes, study.casa.lower_percentile,
                             study.casa.upper_percentile)


def carbon_basis(study, units, *, modes, rn_nodes, rh_nodes, progress=None) -> CarbonBasis:
    """Run the pixel passes once and reduce them to unit × vegetation-type sums.

    Per year: NPP with ε_max = 1 for every (mode, Rn node), and Rh for every Rh node;
    each summed over the units with exact coverage and ellipsoidal cell areas
    (:mod:`carbon_balance.accounting.zonal`).
    """
    from ..accounting.zonal import T_PER_G, cell_areas_m2, coverage_fractions, zonal_sums
    from ..casa import annual_carbon, heterotrophic_respiration
    from ..casa.tables import vegetation_types
    from ..grid.template import study_grid

    grid = study_grid(study)
    shape = (grid.height, grid.width)
    coverage = coverage_fractions(units, shape, grid.transform, grid.crs)
    area = cell_areas_m2(shape, grid.transform, grid.crs)
    vt = vegetation_types()
    veg_types = vt[vt.vegetated.astype(bool)]
    types = veg_types.code.to_numpy()
    ones = {int(c): 1.0 for c in types}
    years = list(study.study.years)
    n_u = coverage.n_units
    npp1 = np.zeros((len(years), len(modes), rn_nodes.size, n_u, types.size))
    rh = np.zeros((len(years), rh_nodes.size, n_u))
    for yi, year in enumerate(years):
        arrays = year_arrays(study, year)
        veg = arrays["vegetation"]
        inputs = (arrays["ndvi"], arrays["temperature"], arrays["precipitation"],
                  arrays["radiation"], veg)
        valid = None
        for mi, mode in enumerate(modes):
            bounds = mode_bounds(study, arrays, mode)
            for ri, rn in enumerate(rn_nodes):
                if progress:
                    progress(f"{year}: NPP pass (bounds {mode}, Rn {rn:g})")
                out = annual_carbon(*inputs, classes="casa", bounds=bounds, eps_max=ones,
                                    rn_coefficient=float(rn),
                                    rh_coefficient=study.casa.rh_coefficient)
                npp = out["npp"]
                valid = np.isfinite(npp) if valid is None else valid
                for ci, code in enumerate(types):
                    layer = np.where(veg == code, npp, 0.0)
                    npp1[yi, mi, ri, :, ci] = zonal_sums(layer, coverage, area) * T_PER_G
        vegetated = np.isin(veg, types) & valid
        for ki, k in enumerate(rh_nodes):
            r = heterotrophic_respiration(arrays["temperature"], arrays["precipitation"],
                                          coefficient=float(k)).sum(axis=0)
            rh[yi, ki] = zonal_sums(np.where(vegetated, r, 0.0), coverage, area) * T_PER_G
        del arrays
    return CarbonBasis(years, coverage.unit_ids, types, veg_types.eps_max.to_numpy(float),
                       list(modes), rn_nodes, rh_nodes, npp1, rh)
