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


def _basis_task(specs, rows, cols, zones, grid, mode_bounds, rn_nodes, rh_nodes,
                rh_coefficient, type_index):
    """Unit x type sums of one chunk: (npp1[mode, rn, unit, type], rh[rh, unit]) [t C].

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
    npp1 = np.zeros((len(mode_bounds), rn_nodes.size, n_u, n_t))
    rh = np.zeros((rh_nodes.size, n_u))
    h, w = rows.stop - rows.start, cols.stop - cols.start
    transform = window_transform(Window(cols.start, rows.start, w, h), grid.transform)
    cov = coverage_fractions(zones, (h, w), transform, grid.crs)
    if cov.cells.size == 0:
        return npp1, rh
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
    valid = plain_rh = None
    with single_threaded_kernel():    # chunks already run in parallel
        for mi, bounds in enumerate(mode_bounds):
            for ri, rn in enumerate(rn_nodes):
                out = annual_carbon(*inputs, classes="casa", bounds=bounds, eps_max=ones,
                                    rn_coefficient=float(rn), rh_coefficient=rh_coefficient)
                npp = out["npp"].reshape(-1)[cov.cells]
                valid = np.isfinite(npp) if valid is None else valid
                plain_rh = out["rh"].reshape(-1)[cov.cells]  # any pass's: Rh has no mode or Rn
                v = np.where(np.isfinite(npp), npp, 0.0) * weight
                npp1[mi, ri] = np.bincount(by_type, weights=v[vegetated],
                                           minlength=n_u * n_t).reshape(n_u, n_t)
    del inputs
    temperature, precipitation = data.pop("temperature"), data.pop("precipitation")
    del data   # NDVI, radiation and vegetation are not needed for Rh
    counted = vegetated & valid
    for ki, k in enumerate(rh_nodes):
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
    return npp1, rh


def _add(*parts):
    return (sum(p[0] for p in parts), sum(p[1] for p in parts))


def carbon_basis(study, units, *, modes, rn_nodes, rh_nodes, progress=None) -> CarbonBasis:
    """Run the pixel passes once and reduce them to unit × vegetation-type sums.

    Per year, chunk by chunk as ``nep`` does (:mod:`carbon_balance.grid`): the NDVI
    bounds of each mode from one histogram reduction, then one task per chunk that reads
    the chunk's inputs and computes NPP with ε_max = 1 for every (mode, Rn node) and Rh
    for every Rh node, each summed over the units with exact coverage and ellipsoidal
    cell areas (:mod:`carbon_balance.accounting.zonal`). Memory is bounded by the chunks
    in flight, not the grid.
    """
    import dask

    from ..casa.tables import vegetation_types
    from ..grid.bounds import kernel_bounds, ndvi_scan, resolve_bounds
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
    runner = Runner(None, progress=False)
    npp1 = np.zeros((len(years), len(modes), rn_nodes.size, len(zones), types.size))
    rh = np.zeros((len(years), rh_nodes.size, len(zones)))
    task = dask.delayed(_basis_task, pure=False)
    for yi, year in enumerate(years):
        specs = year_specs(study, year, grid, lut)
        scan = ndvi_scan(specs, wins, run=runner)
        mode_bounds = [kernel_bounds(resolve_bounds(scan, mode=m, lower=c.lower_percentile,
                                                    upper=c.upper_percentile, specs=specs,
                                                    wins=wins, run=runner)[0], scan)
                       for m in modes]
        if progress:
            progress(f"{year}: pixel passes ({len(modes)} bound mode(s) x {rn_nodes.size} "
                     f"Rn node(s), {len(wins)} chunk(s))")
        npp1[yi], rh[yi] = runner("uncertainty basis", tree(_add, [
            task(specs, r, cc, zones, grid, mode_bounds, rn_nodes, rh_nodes,
                 c.rh_coefficient, type_index) for r, cc in wins]))
    return CarbonBasis(years, zones.unit_id.to_numpy(), types,
                       veg_types.eps_max.to_numpy(float), list(modes), rn_nodes, rh_nodes,
                       npp1, rh)


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
    """Monte Carlo and one-at-a-time sensitivity from precomputed unit sums.

    ``emissions``: ``unit_id, year, ce_t_co2, ce_low_t_co2, ce_high_t_co2, ce_estimated``;
    ``gdp``: ``unit_id, year, gdp_yuan``.
    """
    from ..balance import ZONES

    spec = study.uncertainty
    years, ids = basis_sums.years, [str(u) for u in basis_sums.unit_ids]
    shape = (len(years), len(ids))

    def grid_of(frame, col, dtype=float):
        wide = frame.assign(unit_id=frame.unit_id.astype(str)).pivot(
            index="year", columns="unit_id", values=col)
        return wide.reindex(index=years, columns=ids).to_numpy(dtype=dtype)

    ce = grid_of(emissions, "ce_t_co2")
    lo, hi = grid_of(emissions, "ce_low_t_co2"), grid_of(emissions, "ce_high_t_co2")
    est = grid_of(emissions, "ce_estimated", dtype=bool)
    g = grid_of(gdp, "gdp_yuan")
    modes = basis_sums.modes
    n_types = basis_sums.types.size
    plain_mode = modes.index(study.casa.ndvi_bounds)

    def run(eps_factor, mode_index, rn, rh, ce_draws):
        cs = cs_from_basis(basis_sums, eps_factor, mode_index, rn, rh)
        return _indicator_draws(cs, ce_draws, g, study.zoning.basis,
                                study.zoning.ecc_threshold, study.zoning.esc_threshold)

    plain_args = (np.ones((1, n_types)), np.array([plain_mode]),
                  np.array([study.casa.rn_coefficient]), np.array([study.casa.rh_coefficient]))
    plain = run(*plain_args, ce[None])

    p = draw_parameters(spec, n_types, draws, seed)
    mode_index = np.array([modes.index(spec.ndvi_bounds[i]) for i in p["mode_index"]])
    ce_d = emission_draws(ce, lo, hi, est, draws, p["rng"], enabled=spec.emissions_interval)
    mc = run(p["eps_factor"], mode_index, p["rn"], p["rh"], ce_d)

    names = dict(zip(units.unit_id.astype(str), units.name))
    rows = []
    for yi, year in enumerate(years):
        for ui, uid in enumerate(ids):
            z = mc["zone"][:, yi, ui]
            probs = {zn: float(np.mean(z == zn)) for zn in ZONES}
            best = max(ZONES, key=lambda zn: probs[zn])
            rows.append({"unit_id": uid, "name": names.get(uid, uid), "year": year, **probs,
                         "plain_zone": plain["zone"][0, yi, ui], "most_likely_zone": best,
                         "most_likely_probability": probs[best], "draws": draws})
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
                             "p95": pct[2, yi, ui]})
    intervals = pd.DataFrame(rows)
    sensitivity = one_at_a_time(study, basis_sums, run, plain_args, ce, lo, hi, est, years)
    return UncertaintyResult(zone_probabilities, intervals, sensitivity, draws, seed, units)


def one_at_a_time(study, basis_sums, run, plain_args, ce, lo, hi, est, years) -> pd.DataFrame:
    """Regional CS and CB with each parameter at the ends of its range, the others plain."""
    spec = study.uncertainty
    eps1, mode1, rn1, rh1 = plain_args
    modes = basis_sums.modes
    cases = [
        ("epsilon_max", f"-{spec.eps_max_relative:.0%}", f"+{spec.eps_max_relative:.0%}",
         [(eps1 * (1 - spec.eps_max_relative), mode1, rn1, rh1, ce),
          (eps1 * (1 + spec.eps_max_relative), mode1, rn1, rh1, ce)]),
        ("rn_coefficient", f"{min(spec.rn_coefficient):g}", f"{max(spec.rn_coefficient):g}",
         [(eps1, mode1, np.array([min(spec.rn_coefficient)]), rh1, ce),
          (eps1, mode1, np.array([max(spec.rn_coefficient)]), rh1, ce)]),
        ("rh_coefficient", f"{min(spec.rh_coefficient):g}", f"{max(spec.rh_coefficient):g}",
         [(eps1, mode1, rn1, np.array([min(spec.rh_coefficient)]), ce),
          (eps1, mode1, rn1, np.array([max(spec.rh_coefficient)]), ce)]),
        ("estimated_emissions", "95 % low", "95 % high",
         [(eps1, mode1, rn1, rh1, np.where(est, lo, ce)),
          (eps1, mode1, rn1, rh1, np.where(est, hi, ce))]),
    ]
    if len(spec.ndvi_bounds) > 1:
        a, b = spec.ndvi_bounds[0], spec.ndvi_bounds[-1]
        cases.append(("ndvi_bounds", a, b,
                      [(eps1, np.array([modes.index(a)]), rn1, rh1, ce),
                       (eps1, np.array([modes.index(b)]), rn1, rh1, ce)]))
    base = run(eps1, mode1, rn1, rh1, ce[None])
    rows = []
    for name, low_label, high_label, settings in cases:
        res = [run(e, m, r, k, c[None]) for e, m, r, k, c in settings]
        for yi, year in enumerate(years):
            row = {"parameter": name, "low_setting": low_label, "high_setting": high_label,
                   "year": year}
            for q in ("cs_t_c", "cb_t"):
                ref = np.nansum(base[q][0, yi])
                row[f"region_{q}_plain"] = ref
                for tag, r in zip(("low", "high"), res):
                    row[f"region_{q}_{tag}"] = np.nansum(r[q][0, yi])
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
    modes = list(dict.fromkeys([study.casa.ndvi_bounds, *spec.ndvi_bounds]))
    t0 = time.perf_counter()
    basis = carbon_basis(study, units, modes=modes,
                         rn_nodes=_nodes(spec.rn_coefficient, study.casa.rn_coefficient),
                         rh_nodes=_nodes(spec.rh_coefficient, study.casa.rh_coefficient),
                         progress=progress)
    t1 = time.perf_counter()
    progress and progress(f"{draws} Monte Carlo draws")   # the next item of the display
    result = analyse(study, units, basis, emissions, gdp, draws=draws, seed=seed)
    log.info("uncertainty: pixel passes %.1f s, %d draws %.1f s", t1 - t0, draws,
             time.perf_counter() - t1)
    tables = Path(folder) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    result.zone_probabilities.to_csv(tables / "zone_probabilities.csv", index=False)
    result.intervals.to_csv(tables / "intervals.csv", index=False)
    result.sensitivity.to_csv(tables / "sensitivity.csv", index=False)
    return result
