"""How sure is a unit's zone? Monte Carlo uncertainty and one-at-a-time sensitivity.

The uncertain parameters (``[uncertainty]`` in the study file; defaults and their
reasons in ``docs/uncertainty.md``):

- ε_max of each vegetation type times a factor uniform in 1 ± ``eps_max_relative``
  (default 20 %), drawn independently per type;
- the Rh scale factor 0.22 (Pei et al. 2009) times a factor uniform in
  1 ± ``rh_scale_relative`` (default 20 %);
- the Zhou–Zhang Rn coefficient and the Pei et al. Rh exponent: transcription variants
  (0.589 / 0.598 and 0.0912 / 0.0913 are both in use; nothing between them is), one
  drawn per draw, each equally likely;
- estimated (forecast) emissions, normal with the forecast's 95 % interval, truncated at
  0, the standardised errors of the units equicorrelated (``emissions_correlation``,
  default 0.5) within a draw and year; inventory values are kept as they are.

The NDVI bound mode is *not* drawn: the two modes differ more than twofold, and drawing
them made the distributions bimodal with the plain run at their edge (issue 11). The
draws use the study's ``[casa] ndvi_bounds``; every mode of ``ndvi_bounds`` is a
scenario, whose plain results are reported beside the draws.

Why it is fast, and exact: the pixel work is not repeated per draw. NPP is linear in
ε_max within a vegetation type, so each pixel pass computes NPP with ε_max = 1 and
reduces it per unit *and* type (:func:`carbon_basis`); Rh is linear in its scale factor.
The coefficients take a few discrete values, each with its own pass. A draw is then a
weighted sum of the small (unit × type) arrays of its coefficient variants: the same
number, up to float rounding, as the whole chain recomputed with the drawn parameters
(tests/analysis/test_uncertainty_brute_force.py). Each pass reads the inputs once per
year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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

    ``npp1[year, rn, unit, type]``: NPP with ε_max = 1 under the draws' bound ``mode``,
    summed over the unit's cells of that vegetation type [t C per (g C MJ-1)], one per
    Rn coefficient of ``rn_values``. ``rh[year, rh, unit]``: Rh with the table's scale
    factor over the unit's vegetated cells [t C], one per exponent of ``rh_values``.
    ``scenario_npp1[year, scenario, unit, type]``: NPP with ε_max = 1 under each other
    bound mode of ``scenarios``, at the plain Rn coefficient. ``eps_max[type]``: table
    ε_max [g C MJ-1]. ``bounds[year][mode]``: the NDVI bounds each pass used.
    """

    years: list[int]
    unit_ids: np.ndarray
    types: np.ndarray
    eps_max: np.ndarray
    mode: str
    rn_values: np.ndarray
    rh_values: np.ndarray
    npp1: np.ndarray
    rh: np.ndarray
    plain_rn: float
    plain_rh: float
    scenarios: list[str] = field(default_factory=list)
    scenario_npp1: np.ndarray | None = None
    bounds: list[dict] = field(default_factory=list)

    def rn_index(self, values) -> np.ndarray:
        """Indices of Rn coefficients in ``rn_values`` (each must be one of them)."""
        return _index_of(self.rn_values, values, "rn_coefficient")

    def rh_index(self, values) -> np.ndarray:
        """Indices of Rh exponents in ``rh_values`` (each must be one of them)."""
        return _index_of(self.rh_values, values, "rh_coefficient")


def _index_of(nodes: np.ndarray, values, name: str) -> np.ndarray:
    values = np.atleast_1d(np.asarray(values, dtype=float))
    idx = np.clip(np.searchsorted(nodes, values), 0, nodes.size - 1)
    if not np.all(nodes[idx] == values):
        raise ValueError(f"{name} {values[nodes[idx] != values]} has no pixel pass "
                         f"(passes at {nodes})")
    return idx


def coefficient_values(variants, plain: float) -> np.ndarray:
    """Sorted, unique coefficients that need a pixel pass: the variants and the plain
    value (which the plain run and the scenarios use)."""
    return np.unique(np.array([*variants, plain], dtype=float))


def cs_from_basis(basis: CarbonBasis, eps_factor: np.ndarray, rn_index: np.ndarray,
                  rh_index: np.ndarray, rh_factor: np.ndarray) -> np.ndarray:
    """Carbon sequestration of every draw, year and unit [t C], shape (draws, years, units).

    Parameters
    ----------
    eps_factor : (draws, types) multipliers of the table ε_max [-]
    rn_index, rh_index : (draws,) indices into ``basis.rn_values`` / ``basis.rh_values``
    rh_factor : (draws,) multiplier of the Rh scale factor 0.22 [-]

    ``CS = Σ_type ε_max,type · factor_type · NPP1(rn) − rh_factor · Rh(rh)``.
    """
    eps = eps_factor * basis.eps_max[None, :]                        # (d, c)
    npp = np.einsum("yduc,dc->dyu", basis.npp1[:, rn_index], eps)
    r = basis.rh[:, rh_index] * np.asarray(rh_factor, float)[None, :, None]   # (y, d, u)
    return npp - np.transpose(r, (1, 0, 2))


def plain_cs(basis: CarbonBasis, mode: str | None = None) -> np.ndarray:
    """CS of the plain run [t C], shape (1, years, units), under bound ``mode`` (default:
    the draws' mode; otherwise one of ``basis.scenarios``)."""
    ri, hi = basis.rn_index(basis.plain_rn)[0], basis.rh_index(basis.plain_rh)[0]
    if mode is None or mode == basis.mode:
        a = basis.npp1[:, ri]
    else:
        a = basis.scenario_npp1[:, basis.scenarios.index(mode)]
    return (np.einsum("yuc,c->yu", a, basis.eps_max) - basis.rh[:, hi])[None]


def draw_parameters(spec, n_types: int, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Monte Carlo draws of the parameters: uniform factors, equiprobable variants.

    ``spec`` is the study's :class:`~carbon_balance.study.UncertaintySection`. Returns
    ``eps_factor`` (draws, types), ``rh_factor``, ``rn``, ``rh`` (draws,) and the
    generator ``rng`` (for the emission draws).
    """
    rng = np.random.default_rng(seed)

    def factor(r, size):
        return 1.0 + rng.uniform(-r, r, size=size) if r > 0 else np.ones(size)

    return {
        "eps_factor": factor(spec.eps_max_relative, (draws, n_types)),
        "rh_factor": factor(spec.rh_scale_relative, (draws,)),
        "rn": rng.choice(np.asarray(spec.rn_coefficient, float), size=draws),
        "rh": rng.choice(np.asarray(spec.rh_coefficient, float), size=draws),
        "rng": rng,
    }


def emission_draws(ce: np.ndarray, low: np.ndarray, high: np.ndarray, estimated: np.ndarray,
                   draws: int, rng: np.random.Generator, *, enabled: bool = True,
                   correlation: float = 0.0) -> np.ndarray:
    """Emissions of every draw [t CO2], shape (draws, *ce.shape); units on the last axis.

    Estimated values are normal with σ = (high − low) / (2 · 1.96) from their 95 %
    interval, truncated at 0; inventory values are fixed. The standardised errors are
    equicorrelated across units (one common factor per draw and leading index, e.g.
    year): ``z_u = √ρ · z_0 + √(1 − ρ) · e_u``, so any two units' errors have correlation
    ``ρ = correlation`` before the truncation. (For normal margins this is the Gaussian
    copula with an equicorrelation matrix.)
    """
    if not 0.0 <= correlation <= 1.0:
        raise ValueError(f"correlation {correlation} is not in [0, 1]")
    ce = np.asarray(ce, dtype=float)
    out = np.broadcast_to(ce, (draws, *ce.shape)).copy()
    if not enabled:
        return out
    sigma = np.where(estimated, (np.asarray(high) - np.asarray(low)) / (2 * Z95), 0.0)
    sigma = np.where(np.isfinite(sigma), sigma, 0.0)
    own = rng.standard_normal(size=out.shape)
    common = rng.standard_normal(size=(*out.shape[:-1], 1))
    z = np.sqrt(correlation) * common + np.sqrt(1.0 - correlation) * own
    return np.maximum(out + z * sigma, 0.0)


def _basis_task(specs, rows, cols, zones, grid, mode_bounds, rn_values, rh_values,
                plain_rn, rh_coefficient, type_index):
    """Unit x type sums of one chunk [t C]: (npp1[rn, unit, type] under the first bounds
    of ``mode_bounds``, scenario_npp1[other bounds, unit, type] at ``plain_rn``,
    rh[rh, unit]).

    The chunk's exact cell coverage is computed on the chunk's own window (a cell's
    covered fraction depends only on the cell and the polygon), so no grid-sized array
    is ever held."""
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    from ..accounting.zonal import cell_areas_m2, coverage_fractions
    from ..casa import annual_carbon, heterotrophic_respiration
    from ..constants import T_PER_G
    from ..grid.evaluate import single_threaded_kernel
    from ..grid.readers import read_chunk

    n_u, n_t = len(zones), int(type_index.max()) + 1
    npp1 = np.zeros((rn_values.size, n_u, n_t))
    scen = np.zeros((len(mode_bounds) - 1, n_u, n_t))
    rh = np.zeros((rh_values.size, n_u))
    h, w = rows.stop - rows.start, cols.stop - cols.start
    transform = window_transform(Window(cols.start, rows.start, w, h), grid.transform)
    cov = coverage_fractions(zones, (h, w), transform, grid.crs)
    if cov.cells.size == 0:
        return npp1, scen, rh
    data = read_chunk(specs, rows, cols)
    area = cell_areas_m2((h, w), grid.transform, grid.crs, row_offset=rows.start,
                         col_offset=cols.start).reshape(-1)[cov.cells]
    weight = area * cov.fractions * T_PER_G          # [t C per (g C m-2)] of each entry
    veg = data["vegetation"].reshape(-1)[cov.cells]
    codes = np.where(np.isfinite(veg), veg, -1).astype(np.int64)
    types = np.where(codes >= 0, type_index[np.clip(codes, 0, None)], -1)
    vegetated = types >= 0
    by_type = (cov.unit_index * n_t + np.where(vegetated, types, 0))[vegetated]
    ones = {int(c): 1.0 for c in np.flatnonzero(type_index >= 0)}
    inputs = tuple(data[k] for k in ("ndvi", "temperature", "precipitation", "radiation",
                                     "vegetation"))
    # the draws' mode at every Rn coefficient, then each scenario at the plain one
    passes = [(mode_bounds[0], float(rn), npp1[ri]) for ri, rn in enumerate(rn_values)]
    passes += [(b, float(plain_rn), scen[si]) for si, b in enumerate(mode_bounds[1:])]
    valid = plain_rh = None
    with single_threaded_kernel():    # chunks already run in parallel
        for bounds, rn, target in passes:
            out = annual_carbon(*inputs, classes="casa", bounds=bounds, eps_max=ones,
                                rn_coefficient=rn, rh_coefficient=rh_coefficient)
            npp = out["npp"].reshape(-1)[cov.cells]
            valid = np.isfinite(npp) if valid is None else valid
            plain_rh = out["rh"].reshape(-1)[cov.cells]  # any pass's: Rh has no mode or Rn
            v = np.where(np.isfinite(npp), npp, 0.0) * weight
            target[...] = np.bincount(by_type, weights=v[vegetated],
                                      minlength=n_u * n_t).reshape(n_u, n_t)
    del inputs
    temperature, precipitation = data.pop("temperature"), data.pop("precipitation")
    del data   # NDVI, radiation and vegetation are not needed for Rh
    counted = vegetated & valid
    for ki, k in enumerate(rh_values):
        if k == rh_coefficient:
            r = plain_rh
        else:
            # month by month: the whole chunk's 12 months at once would hold several
            # float64 temporaries of 12 x chunk cells each
            r = np.zeros(cov.cells.size)
            for m in range(temperature.shape[0]):
                r += heterotrophic_respiration(temperature[m].reshape(-1)[cov.cells],
                                               precipitation[m].reshape(-1)[cov.cells],
                                               coefficient=float(k))
        v = np.where(counted & np.isfinite(r), r, 0.0) * weight
        rh[ki] = np.bincount(cov.unit_index, weights=v, minlength=n_u)
    return npp1, scen, rh


def _add(*parts):
    return tuple(sum(p[i] for p in parts) for i in range(3))


def carbon_basis(study, units, *, scenarios, rn_values, rh_values, progress=None) -> CarbonBasis:
    """Run the pixel passes once and reduce them to unit × vegetation-type sums.

    Per year, chunk by chunk as ``nep`` does (:mod:`carbon_balance.grid`): the NDVI
    bounds of the study's mode and of each scenario mode from one histogram reduction,
    then one task per chunk that reads the chunk's inputs and computes NPP with
    ε_max = 1 under the study's mode for every Rn coefficient of ``rn_values``, under
    each other mode of ``scenarios`` at the plain Rn coefficient, and Rh for every
    exponent of ``rh_values``, each summed over the units with exact coverage and
    ellipsoidal cell areas (:mod:`carbon_balance.accounting.zonal`). Memory is bounded
    by the chunks in flight, not the grid.
    """
    import dask

    from ..casa.tables import vegetation_types
    from ..grid.bounds import study_bounds
    from ..grid.raster_checks import class_lookup
    from ..grid.readers import year_specs
    from ..grid.runner import Runner, tree
    from ..grid.study_grid import chunk_shape, study_grid, windows

    grid = study_grid(study)
    wins = windows(grid, chunk_shape(study))
    lut = class_lookup(study)
    zones = units.to_crs(grid.crs)[["unit_id", "geometry"]].reset_index(drop=True)
    vt = vegetation_types()
    veg_types = vt[vt.vegetated.astype(bool)]
    types = veg_types.code.to_numpy()
    type_index = np.full(int(vt.code.max()) + 1, -1, np.int64)
    type_index[types] = np.arange(types.size)
    years = list(study.study.years)
    c = study.casa
    modes = [c.ndvi_bounds, *[m for m in dict.fromkeys(scenarios) if m != c.ndvi_bounds]]
    rn_values = np.asarray(rn_values, float)
    rh_values = np.asarray(rh_values, float)
    runner = Runner(None, progress=False)
    npp1 = np.zeros((len(years), rn_values.size, len(zones), types.size))
    scen = np.zeros((len(years), len(modes) - 1, len(zones), types.size))
    rh = np.zeros((len(years), rh_values.size, len(zones)))
    used = []
    task = dask.delayed(_basis_task, pure=False)
    bounds_of = study_bounds(study, grid, wins, lut, run=runner, modes=modes, units=units)
    for yi, year in enumerate(years):
        specs = year_specs(study, year, grid, lut)
        mode_bounds = bounds_of[year]
        used.append(dict(zip(modes, mode_bounds)))
        if progress:
            progress(f"{year}: pixel passes ({rn_values.size} Rn coefficient(s) under "
                     f"{modes[0]!r} bounds + {len(modes) - 1} bound scenario(s), "
                     f"{len(wins)} chunk(s))")
        npp1[yi], scen[yi], rh[yi] = runner("uncertainty basis", tree(_add, [
            task(specs, r, cc, zones, grid, mode_bounds, rn_values, rh_values,
                 c.rn_coefficient, c.rh_coefficient, type_index) for r, cc in wins]))
    return CarbonBasis(years, zones.unit_id.to_numpy(), types,
                       veg_types.eps_max.to_numpy(float), modes[0], rn_values, rh_values,
                       npp1, rh, float(c.rn_coefficient), float(c.rh_coefficient),
                       modes[1:], scen, used)


def _indicator_draws(cs_t_c, ce_t_co2, gdp, basis, ecc_threshold, esc_threshold):
    """CB, CBI, ECC, ESC and zones of every draw; arrays (draws, years, units)."""
    from .. import balance as b

    if basis == "CO2":
        cs, ce = cs_t_c * b.CO2_PER_C, ce_t_co2
    else:
        cs, ce = cs_t_c, ce_t_co2 / b.CO2_PER_C
    ce_total = np.nansum(ce, axis=-1, keepdims=True)
    cs_total = np.nansum(cs, axis=-1, keepdims=True)
    gdp = np.broadcast_to(gdp, ce.shape)
    ecc = b.economic_contribution(gdp, ce, np.nansum(gdp, axis=-1, keepdims=True), ce_total)
    esc = b.ecological_support(cs, ce, cs_total, ce_total)
    zones, _ = b.zone(ce, cs, ecc, esc, ecc_threshold=ecc_threshold,
                      esc_threshold=esc_threshold)
    return {"cs_t_c": cs_t_c, "ce_t_co2": ce_t_co2, "cb_t": b.carbon_budget(ce, cs),
            "cbi": b.carbon_balance_index(ce, cs), "ecc": ecc, "esc": esc, "zone": zones}


@dataclass
class UncertaintyResult:
    """Tables of an uncertainty analysis (see :func:`analyse`)."""

    zone_probabilities: pd.DataFrame
    intervals: pd.DataFrame
    sensitivity: pd.DataFrame
    draws: int
    seed: int
    units: object = None


def analyse(study, units, basis_sums: CarbonBasis, emissions: pd.DataFrame,
            gdp: pd.DataFrame, *, draws: int, seed: int) -> UncertaintyResult:
    """Monte Carlo, bound-mode scenarios and one-at-a-time sensitivity from precomputed
    unit sums.

    ``emissions``: ``unit_id, year, ce_t_co2, ce_low_t_co2, ce_high_t_co2, ce_estimated``;
    ``gdp``: ``unit_id, year, gdp_yuan``.
    """
    from ..balance import ZONES

    spec = study.uncertainty
    years, ids = basis_sums.years, [str(u) for u in basis_sums.unit_ids]
    shape = (len(years), len(ids))
    ce, lo, hi, est, g = _inventory_grids(emissions, gdp, years, ids)

    def run(cs, ce_draws):
        return _indicator_draws(cs, ce_draws, g, study.zoning.basis,
                                study.zoning.ecc_threshold, study.zoning.esc_threshold)

    plain = run(plain_cs(basis_sums), ce[None])
    scenarios = {m: run(plain_cs(basis_sums, m), ce[None]) for m in basis_sums.scenarios}
    mc = run(*monte_carlo_inputs(spec, basis_sums, ce, lo, hi, est, draws, seed)[:2])

    names = dict(zip(units.unit_id.astype(str), units.name))
    rows = []
    for yi, year in enumerate(years):
        for ui, uid in enumerate(ids):
            z = mc["zone"][:, yi, ui]
            probs = {zn: float(np.mean(z == zn)) for zn in ZONES}
            best = max(ZONES, key=lambda zn: probs[zn])
            rows.append({"unit_id": uid, "name": names.get(uid, uid), "year": year, **probs,
                         "plain_zone": plain["zone"][0, yi, ui], "most_likely_zone": best,
                         "most_likely_probability": probs[best], "draws": draws,
                         "ndvi_bounds": basis_sums.mode,
                         **{f"plain_zone_{m}": r["zone"][0, yi, ui]
                            for m, r in scenarios.items()}})
    zone_probabilities = pd.DataFrame(rows)

    rows = []
    for q in ("cs_t_c", "cb_t", "cbi", "ecc", "esc"):
        v = mc[q]
        with np.errstate(all="ignore"):
            pct = np.nanpercentile(v, [LOW_Q, 50.0, HIGH_Q], axis=0) if np.isfinite(v).any() \
                else np.full((3, *shape), np.nan)
        for yi, year in enumerate(years):
            for ui, uid in enumerate(ids):
                rows.append({"unit_id": uid, "name": names.get(uid, uid), "year": year,
                             "quantity": q, "plain": plain[q][0, yi, ui],
                             "p05": pct[0, yi, ui], "p50": pct[1, yi, ui],
                             "p95": pct[2, yi, ui], "ndvi_bounds": basis_sums.mode,
                             **{f"plain_{m}": r[q][0, yi, ui] for m, r in scenarios.items()}})
    intervals = pd.DataFrame(rows)
    sensitivity = one_at_a_time(study, basis_sums, run, ce, lo, hi, est, years)
    return UncertaintyResult(zone_probabilities, intervals, sensitivity, draws, seed, units)


def _inventory_grids(emissions, gdp, years, ids):
    """(years, units) arrays of CE [t CO2], its 95 % low and high, the estimated flag and
    GDP [yuan]."""
    def grid_of(frame, col, dtype=float):
        wide = frame.assign(unit_id=frame.unit_id.astype(str)).pivot(
            index="year", columns="unit_id", values=col)
        return wide.reindex(index=years, columns=ids).to_numpy(dtype=dtype)

    return (grid_of(emissions, "ce_t_co2"), grid_of(emissions, "ce_low_t_co2"),
            grid_of(emissions, "ce_high_t_co2"), grid_of(emissions, "ce_estimated", dtype=bool),
            grid_of(gdp, "gdp_yuan"))


def monte_carlo_inputs(spec, basis_sums: CarbonBasis, ce, lo, hi, est, draws: int, seed: int):
    """(CS [t C] (draws, years, units), CE [t CO2] (draws, years, units), the parameter
    draws of :func:`draw_parameters`) of the Monte Carlo."""
    p = draw_parameters(spec, basis_sums.types.size, draws, seed)
    cs = cs_from_basis(basis_sums, p["eps_factor"], basis_sums.rn_index(p["rn"]),
                       basis_sums.rh_index(p["rh"]), p["rh_factor"])
    ce_d = emission_draws(ce, lo, hi, est, draws, p["rng"], enabled=spec.emissions_interval,
                          correlation=spec.emissions_correlation)
    return cs, ce_d, p


def one_at_a_time(study, basis_sums, run, ce, lo, hi, est, years) -> pd.DataFrame:
    """Regional CS and CB with each parameter at the ends of its range, the others plain
    (and the first and last bound-mode scenarios of ``[uncertainty] ndvi_bounds``)."""
    spec = study.uncertainty
    b = basis_sums
    n_types = b.types.size
    eps1, rh1 = np.ones((1, n_types)), np.ones(1)
    rn0, rh0 = b.rn_index(b.plain_rn), b.rh_index(b.plain_rh)

    def cs(eps=eps1, rn=rn0, rh=rh0, rh_factor=rh1):
        return cs_from_basis(b, eps, rn, rh, rh_factor)

    r, k = spec.eps_max_relative, spec.rh_scale_relative
    rn_lo, rn_hi = b.rn_index(min(spec.rn_coefficient)), b.rn_index(max(spec.rn_coefficient))
    rh_lo, rh_hi = b.rh_index(min(spec.rh_coefficient)), b.rh_index(max(spec.rh_coefficient))
    cases = [
        ("epsilon_max", f"-{r:.0%}", f"+{r:.0%}",
         [(cs(eps=eps1 * (1 - r)), ce), (cs(eps=eps1 * (1 + r)), ce)]),
        ("rh_scale", f"-{k:.0%}", f"+{k:.0%}",
         [(cs(rh_factor=rh1 * (1 - k)), ce), (cs(rh_factor=rh1 * (1 + k)), ce)]),
        ("rn_coefficient", f"{min(spec.rn_coefficient):g}", f"{max(spec.rn_coefficient):g}",
         [(cs(rn=rn_lo), ce), (cs(rn=rn_hi), ce)]),
        ("rh_coefficient", f"{min(spec.rh_coefficient):g}", f"{max(spec.rh_coefficient):g}",
         [(cs(rh=rh_lo), ce), (cs(rh=rh_hi), ce)]),
        ("estimated_emissions", "95 % low", "95 % high",
         [(cs(), np.where(est, lo, ce)), (cs(), np.where(est, hi, ce))]),
    ]
    if b.scenarios:
        first, last = spec.ndvi_bounds[0], spec.ndvi_bounds[-1]
        if first == last:
            first, last = b.mode, b.scenarios[-1]
        cases.append(("ndvi_bounds", first, last,
                      [(plain_cs(b, first), ce), (plain_cs(b, last), ce)]))
    base = run(cs(), ce[None])
    rows = []
    for name, low_label, high_label, settings in cases:
        res = [run(c, e[None]) for c, e in settings]
        for yi, year in enumerate(years):
            row = {"parameter": name, "low_setting": low_label, "high_setting": high_label,
                   "year": year}
            for q in ("cs_t_c", "cb_t"):
                ref = np.nansum(base[q][0, yi])
                row[f"region_{q}_plain"] = ref
                for tag, rr in zip(("low", "high"), res):
                    row[f"region_{q}_{tag}"] = np.nansum(rr[q][0, yi])
            rows.append(row)
    return pd.DataFrame(rows)


def write_uncertainty(study, folder: Path, *, units=None, emissions=None, gdp=None,
                      draws: int | None = None, seed: int | None = None,
                      progress=None) -> UncertaintyResult:
    """Compute and write ``tables/zone_probabilities.csv``, ``tables/intervals.csv`` and
    ``tables/sensitivity.csv`` into ``folder`` (units, emissions and GDP are loaded from
    the study when not given)."""
    import time

    from ..accounting.emissions import estimate_emissions
    from ..accounting.gdp import estimate_gdp
    from ..accounting.boundaries import load_units

    spec = study.uncertainty
    draws = spec.draws if draws is None else draws
    seed = spec.seed if seed is None else seed
    if units is None:
        u = study.units
        units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group,
                           layer=u.layer)
    ids = list(units.unit_id)
    emissions = estimate_emissions(study, ids) if emissions is None else emissions
    gdp = estimate_gdp(study, ids) if gdp is None else gdp
    t0 = time.perf_counter()
    basis = carbon_basis(study, units, scenarios=spec.ndvi_bounds,
                         rn_values=coefficient_values(spec.rn_coefficient,
                                                      study.casa.rn_coefficient),
                         rh_values=coefficient_values(spec.rh_coefficient,
                                                      study.casa.rh_coefficient),
                         progress=progress)
    t1 = time.perf_counter()
    progress and progress(f"{draws} Monte Carlo draws")   # the next item of the display
    result = analyse(study, units, basis, emissions, gdp, draws=draws, seed=seed)
    log.info("uncertainty: pixel passes %.1f s, %d draws %.1f s (draws under %r bounds; "
             "scenarios: %s)", t1 - t0, draws, time.perf_counter() - t1, basis.mode,
             ", ".join(basis.scenarios) or "none")
    tables = Path(folder) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    result.zone_probabilities.to_csv(tables / "zone_probabilities.csv", index=False)
    result.intervals.to_csv(tables / "intervals.csv", index=False)
    result.sensitivity.to_csv(tables / "sensitivity.csv", index=False)
    return result
