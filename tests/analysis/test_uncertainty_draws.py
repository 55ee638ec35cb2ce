"""The draw engine of the uncertainty analysis, on numbers derived by hand."""

import numpy as np
import pandas as pd
import pytest

from carbon_balance.analysis.uncertainty import Z95

from carbon_balance.analysis.uncertainty import (CarbonBasis, analyse, coefficient_values,
                                                 cs_from_basis, emission_draws)
from carbon_balance.balance import ZONES
from carbon_balance.study import parse_study


def _basis(npp1, rh, *, eps=(0.5,), rn=(0.589, 0.598), rhn=(0.0912, 0.0913), ids=("a",),
           scenarios=(), scenario_npp1=None):
    """npp1[year, rn, unit, type], rh[year, rh, unit] under 'percentile' bounds."""
    npp1 = np.asarray(npp1, float)
    return CarbonBasis(years=[2020], unit_ids=np.array(ids), types=np.arange(1, len(eps) + 1),
                       eps_max=np.array(eps, float), mode="percentile", rn_values=np.array(rn),
                       rh_values=np.array(rhn), npp1=npp1, rh=np.asarray(rh, float),
                       plain_rn=0.598, plain_rh=0.0913, scenarios=list(scenarios),
                       scenario_npp1=None if scenario_npp1 is None
                       else np.asarray(scenario_npp1, float))


def test_cs_picks_the_pass_of_each_variant_and_scales_linearly():
    # NPP1 = 10 at Rn 0.589 and 20 at 0.598 (one unit, one type, eps_max 0.5);
    # Rh = 3 at 0.0912 and 5 at 0.0913.
    b = _basis(npp1=[[[[10.0]], [[20.0]]]], rh=[[[3.0], [5.0]]])
    cs = cs_from_basis(b, eps_factor=np.array([[1.2], [1.0]]),
                       rn_index=b.rn_index([0.598, 0.589]), rh_index=b.rh_index([0.0913, 0.0912]),
                       rh_factor=np.array([0.8, 1.2]))
    # draw 0: 0.5 * 1.2 * 20 - 0.8 * 5 = 8; draw 1: 0.5 * 10 - 1.2 * 3 = 1.4
    np.testing.assert_allclose(cs[:, 0, 0], [8.0, 1.4])


def test_a_coefficient_without_its_pass_is_refused():
    b = _basis(npp1=[[[[10.0]], [[20.0]]]], rh=[[[3.0], [5.0]]])
    with pytest.raises(ValueError, match="no pixel pass"):
        b.rn_index([0.5935])


def test_coefficient_values_include_the_plain_value():
    np.testing.assert_array_equal(coefficient_values([0.589, 0.598], 0.598), [0.589, 0.598])
    np.testing.assert_array_equal(coefficient_values([0.5, 0.6], 0.55), [0.5, 0.55, 0.6])
    np.testing.assert_array_equal(coefficient_values([0.598], 0.598), [0.598])


def test_emission_draws_keep_inventory_values_and_match_interval():
    rng = np.random.default_rng(1)
    ce = np.array([100.0, 200.0])
    low, high = np.array([100.0, 200.0 - 1.959963984540054 * 10]), \
        np.array([100.0, 200.0 + 1.959963984540054 * 10])
    d = emission_draws(ce, low, high, np.array([False, True]), 20000, rng)
    assert np.all(d[:, 0] == 100.0)
    assert d[:, 1].std() == pytest.approx(10.0, rel=0.03)
    assert d[:, 1].mean() == pytest.approx(200.0, abs=0.5)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_emission_draws_are_equicorrelated_across_units(rho):
    # three estimated units, sigma 10, 20, 30 t, far from the truncation at 0
    rng = np.random.default_rng(7)
    ce = np.array([[1000.0, 2000.0, 3000.0]])
    half = Z95 * np.array([[10.0, 20.0, 30.0]])
    d = emission_draws(ce, ce - half, ce + half, np.ones((1, 3), bool), 40000, rng,
                       correlation=rho)[:, 0]
    c = np.corrcoef(d.T)
    # sampling error of a correlation from 40,000 pairs: < 0.01 (1.96 (1 - rho^2) / sqrt(n))
    np.testing.assert_allclose(c[np.triu_indices(3, 1)], rho, atol=0.015)
    np.testing.assert_allclose(d.std(axis=0), [10.0, 20.0, 30.0], rtol=0.02)


def test_emission_correlation_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="correlation"):
        emission_draws(np.ones(2), np.ones(2), np.ones(2), np.ones(2, bool), 3,
                       np.random.default_rng(0), correlation=1.5)


STUDY = """
[study]
name = "T"
years = [2020]
[uncertainty]
draws = 500
"""


def _tables(ids, ce, gdp):
    em = pd.DataFrame({"unit_id": ids, "year": 2020, "ce_t_co2": ce, "ce_low_t_co2": ce,
                       "ce_high_t_co2": ce, "ce_estimated": False})
    g = pd.DataFrame({"unit_id": ids, "year": 2020, "gdp_yuan": gdp})
    units = pd.DataFrame({"unit_id": ids, "name": ids})
    return em, g, units


def test_unit_far_from_thresholds_is_certain_and_rows_sum_to_one():
    study = parse_study(STUDY)
    ids = ("forest", "city", "mid")
    # t C per unit eps for one type (eps 0.5): forest sequesters far more than it emits
    npp1 = np.broadcast_to(np.array([1e6, 10.0, 1e4])[None, None, :, None], (1, 2, 3, 1))
    basis = _basis(npp1=npp1, rh=np.zeros((1, 2, 3)), ids=ids, scenarios=("table",),
                   scenario_npp1=npp1[:, :1] * 0.5)
    em, g, units = _tables(list(ids), [1e3, 1e6, 2e4], [1e9, 5e10, 1e10])
    res = analyse(study, units, basis, em, g, draws=500, seed=3)
    p = res.zone_probabilities.set_index("unit_id")
    np.testing.assert_allclose(p[list(ZONES)].sum(axis=1), 1.0)
    assert p.loc["forest", "carbon sink functional zone"] == 1.0
    # city: CS = 0.5 x 10 t C << CE = 1e6 t CO2; ESC ~ 1e-5; ECC = (5e10 / 6.1e10) /
    # (1e6 / 1.021e6) = 0.837, fixed (inventory emissions): high-carbon optimization.
    assert p.loc["city", "high-carbon optimization zone"] == 1.0
    assert p.loc["city", "plain_zone"] == "high-carbon optimization zone"
    # the 'table' scenario (NPP1 halved here) is a plain result beside the draws, not a draw
    iv = res.intervals[res.intervals.quantity == "cs_t_c"].set_index("unit_id")
    assert iv.loc["mid", "plain"] == pytest.approx(0.5 * 1e4)
    assert iv.loc["mid", "plain_table"] == pytest.approx(0.5 * 0.5 * 1e4)
    assert (iv.ndvi_bounds == "percentile").all()
    assert p.loc["forest", "plain_zone_table"] == "carbon sink functional zone"
