"""The fast Monte Carlo is exact: each draw's CS and CB equal the whole CASA chain
recomputed from the pixels with that draw's parameters, by the readable functions
(:func:`carbon_balance.casa.reference.reference_carbon`, float64), summed over each
unit with exact cell coverage over the whole grid at once (not chunk by chunk).

Every kind of drawn parameter is varied: per-type ε_max factors, the Rh scale factor,
the Rn and Rh coefficient variants, and (correlated) estimated emissions; and the
bound-mode scenario is checked the same way."""

from __future__ import annotations

import numpy as np
import pytest

from carbon_balance.accounting.boundaries import load_units
from carbon_balance.accounting.emissions import estimate_emissions
from carbon_balance.accounting.zonal import cell_areas_m2, coverage_fractions
from carbon_balance.analysis.uncertainty import (_indicator_draws, _inventory_grids,
                                                 carbon_basis, coefficient_values,
                                                 monte_carlo_inputs, plain_cs)
from carbon_balance.balance import CO2_PER_C
from carbon_balance.casa.reference import reference_carbon
from carbon_balance.casa.tables import vegetation_types
from carbon_balance.grid.raster_checks import class_lookup
from carbon_balance.grid.readers import read_chunk, year_specs
from carbon_balance.grid.study_grid import study_grid
from carbon_balance.study import parse_study
from tests.errors.studies import full_study

DRAWS = 8
UNCERTAINTY = """
[uncertainty]
eps_max_relative = 0.3
rh_scale_relative = 0.25
rn_coefficient = [0.589, 0.598]
rh_coefficient = [0.0912, 0.0913]
ndvi_bounds = ["percentile", "table"]
emissions_correlation = 0.5
"""
RH_SCALE = 0.22      # Pei et al. 2009, the table value the Rh factor multiplies


def _study(tmp_path, mode):
    # 2005 is in the (generated) inventory, 2007 is estimated: its emissions are drawn
    path = full_study(tmp_path / "s", years=(2005, 2007))
    text = path.read_text() + f'\n[casa]\nndvi_bounds = "{mode}"\n' + UNCERTAINTY
    return parse_study(text, root=path.parent, source=path)


def _brute_cs(study, zones, year, bounds, *, eps_factor=None, rn=0.598, rh=0.0913,
              rh_factor=1.0):
    """Region-wide recomputation of one year's CS per unit [t C] with given parameters."""
    grid = study_grid(study)
    h, w = grid.height, grid.width
    data = read_chunk(year_specs(study, year, grid, class_lookup(study)), slice(0, h),
                      slice(0, w))
    vt = vegetation_types()
    veg = vt[vt.vegetated.astype(bool)]
    factor = np.ones(len(veg)) if eps_factor is None else eps_factor
    eps_max = {int(c): float(e) * f for c, e, f in zip(veg.code, veg.eps_max, factor)}
    out = reference_carbon(data["ndvi"], data["temperature"], data["precipitation"],
                           data["radiation"], data["vegetation"], classes="casa",
                           bounds=bounds, eps_max=eps_max, rn_coefficient=rn,
                           rh_coefficient=rh, rh_scale=RH_SCALE * rh_factor)
    cov = coverage_fractions(zones, (h, w), grid.transform, grid.crs)
    area = cell_areas_m2((h, w), grid.transform, grid.crs).reshape(-1)
    nep = out["nep"].reshape(-1)[cov.cells]            # NaN: no valid data, counts nothing
    g = np.where(np.isfinite(nep), nep, 0.0) * area[cov.cells] * cov.fractions * 1e-6
    return np.bincount(cov.unit_index, weights=g, minlength=len(zones))


@pytest.mark.parametrize("mode", ["table", "percentile"])
def test_fast_draws_equal_the_whole_chain_recomputed(tmp_path, mode):
    study = _study(tmp_path, mode)
    spec = study.uncertainty
    u = study.units
    units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group)
    ids = list(units.unit_id)
    basis = carbon_basis(study, units, scenarios=spec.ndvi_bounds,
                         rn_values=coefficient_values(spec.rn_coefficient, 0.598),
                         rh_values=coefficient_values(spec.rh_coefficient, 0.0913))
    assert basis.mode == mode and basis.scenarios == [m for m in ("percentile", "table")
                                                      if m != mode]
    em = estimate_emissions(study, ids)
    g = em[["unit_id", "year"]].assign(gdp_yuan=1e9)    # GDP does not enter CS or CB
    ce, lo, hi, est, gdp = _inventory_grids(em, g, basis.years, ids)
    assert est[1].all() and not est[0].any() and (hi[1] > lo[1]).all()
    cs, ce_d, p = monte_carlo_inputs(spec, basis, ce, lo, hi, est, DRAWS, seed=11)
    # the draws cover every variant and move every factor
    assert set(p["rn"]) == {0.589, 0.598} and set(p["rh"]) == {0.0912, 0.0913}
    assert np.ptp(p["rh_factor"]) > 0.1 and (np.ptp(p["eps_factor"], axis=0) > 0.1).all()
    zones = units.to_crs(study_grid(study).crs)[["unit_id", "geometry"]]
    ind = _indicator_draws(cs, ce_d, gdp, "CO2", 1.0, 1.0)
    for yi, year in enumerate(basis.years):
        # percentile bounds are the grid's exact histogram percentiles (tested in
        # tests/grid); the table's come from the reference's own table
        bounds = "table" if mode == "table" else basis.bounds[yi][mode]
        for d in range(DRAWS):
            ref = _brute_cs(study, zones, year, bounds, eps_factor=p["eps_factor"][d],
                            rn=p["rn"][d], rh=p["rh"][d], rh_factor=p["rh_factor"][d])
            assert np.abs(ref).min() > 1.0      # t C: far from a cancelling sum
            np.testing.assert_allclose(cs[d, yi], ref, rtol=2e-6)
            # CB [t CO2] of the draw: its (drawn, correlated) emissions minus CS in CO2
            np.testing.assert_allclose(ind["cb_t"][d, yi], ce_d[d, yi] - ref * CO2_PER_C,
                                       rtol=2e-6)
        # inventory emissions are fixed, estimated ones drawn
        assert (ce_d[:, yi] == ce[yi]).all() != bool(est[yi].any())
        # the other mode is a scenario: its plain result is the chain under those bounds
        other = basis.scenarios[0]
        sb = "table" if other == "table" else basis.bounds[yi][other]
        np.testing.assert_allclose(plain_cs(basis, other)[0, yi],
                                   _brute_cs(study, zones, year, sb), rtol=2e-6)
