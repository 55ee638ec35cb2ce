"""annual_carbon's interface: bounds modes, pixel rules, monthly outputs, ε_max, errors,
and the vectorisable exp/log. The formulas are checked in test_kernel.py (against the
readable functions) and test_reference_points.py (against published and hand values)."""

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.casa._fastmath import fexp, fexp32, flog, flog32
from carbon_balance.errors import InputError

from casa_inputs import plausible_inputs

# ε_max [g C MJ-1] of METHOD.md section 1 (Zhu et al. 2006), by CASA code.
EPS_MAX = {1: 0.485, 2: 0.389, 3: 0.692, 4: 0.985, 5: 0.475, 6: 0.768, 7: 0.429, 8: 0.542,
           9: 0.542, 10: 0.542, 11: 0.542}


def test_table_bounds_are_methods():
    # METHOD.md section 1, table mode: 0.023 for all; NDVI_max per type (grass row for
    # crops and other vegetation; mixed types: mean of their constituent forest rows).
    table = casa.table_bounds()
    want = {1: 0.738, 2: 0.647, 3: 0.747, 4: 0.676, 7: 0.636, 8: 0.636, 9: 0.634, 10: 0.634,
            11: 0.634}
    for code, hi in want.items():
        assert table[code] == pytest.approx((0.023, hi)), code
    # the mixed types: the mean NDVI_max of their constituent rows (docs/method.md)
    assert table[5] == pytest.approx((0.023, (0.738 + 0.647 + 0.747 + 0.676) / 4))
    assert table[6] == pytest.approx((0.023, (0.747 + 0.676) / 2))


def test_default_call_equals_explicit_defaults():
    ndvi, t, p, sol, veg = plausible_inputs(300, seed=2)
    plain = casa.annual_carbon(ndvi, t, p, sol, veg, bounds="table")
    explicit = casa.annual_carbon(ndvi, t, p, sol, veg, bounds="table",
                                  parameters=casa.DEFAULT_PARAMETERS, rn_coefficient=0.598,
                                  rh_coefficient=0.0913, eps_max=EPS_MAX)
    for key in ("npp", "rh", "nep"):
        np.testing.assert_array_equal(plain[key], explicit[key])
    mapping = {c: (0.1, 0.8) for c in range(1, 12)}
    assert casa.annual_carbon(ndvi, t, p, sol, veg, bounds=mapping)["bounds"] == mapping


def test_non_vegetated_and_nodata_pixels():
    ndvi, t, p, sol, _ = plausible_inputs(4, seed=4)
    veg = np.array([42, 51, 255, 21])   # water, urban (cas-lucc); 255 not in the table
    with pytest.raises(InputError, match="255"):
        casa.annual_carbon(ndvi, t, p, sol, veg, classes="cas-lucc")
    out = casa.annual_carbon(ndvi, t, p, sol, np.array([0, 13, 255, 2]), classes="modis-igbp",
                             monthly=True)
    assert out["npp"][0] == 0 and out["rh"][0] == 0 and out["nep"][0] == 0
    assert out["nep"][1] == 0 and np.isnan(out["nep"][2]) and out["npp"][3] > 0
    assert (out["npp_monthly"][:, :2] == 0).all() and np.isnan(out["rh_monthly"][:, 2]).all()


def test_monthly_outputs_sum_to_annual_and_match_monthly_npp():
    ndvi, t, p, sol, veg = plausible_inputs(300, seed=5)
    out = casa.annual_carbon(ndvi, t, p, sol, veg, monthly=True)
    np.testing.assert_allclose(out["npp_monthly"].sum(axis=0), out["npp"], rtol=1e-12)
    np.testing.assert_allclose(out["nep_monthly"].sum(axis=0), out["nep"], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(casa.monthly_npp(ndvi, t, p, sol, veg), out["npp_monthly"])
    # Rh is elementwise: the kernel's months equal the public function's.
    rh = casa.heterotrophic_respiration(t, p)
    vegetated = veg > 0
    np.testing.assert_allclose(out["rh_monthly"][:, vegetated], rh[:, vegetated], rtol=1e-12)


def test_eps_max_override_is_linear():
    ndvi, t, p, sol, veg = plausible_inputs(300, seed=6)
    unit = casa.annual_carbon(ndvi, t, p, sol, veg, eps_max={c: 1.0 for c in range(1, 12)})
    plain = casa.annual_carbon(ndvi, t, p, sol, veg)
    eps = np.array([0.0] + [EPS_MAX[c] for c in range(1, 12)])
    np.testing.assert_allclose(unit["npp"] * eps[veg], plain["npp"], rtol=1e-12)
    np.testing.assert_array_equal(unit["rh"], plain["rh"])
    with pytest.raises(InputError, match="eps_max"):
        casa.annual_carbon(ndvi, t, p, sol, veg, eps_max={3: -1})


def test_shape_errors_and_bad_bounds():
    ndvi, t, p, sol, veg = plausible_inputs(10, seed=7)
    with pytest.raises(InputError, match="12 months"):
        casa.annual_nep(ndvi[:11], t[:11], p[:11], sol[:11], veg)
    with pytest.raises(InputError, match="vegetation"):
        casa.annual_nep(ndvi, t, p, sol, veg[:5])
    with pytest.raises(InputError, match="bounds"):
        casa.annual_nep(ndvi, t, p, sol, veg, bounds="median")
    with pytest.raises(InputError, match="-1 < ndvi_min"):
        casa.annual_nep(ndvi, t, p, sol, veg, bounds={c: (0.5, 1.0) for c in range(1, 12)})
    with pytest.raises(InputError, match="no NDVI bounds"):
        casa.annual_nep(ndvi, t, p, sol, np.full(10, 3), bounds={2: (0.1, 0.8)})


def test_fast_exp_and_log_against_numpy():
    import numba

    @numba.njit
    def run(x, y):
        out = np.empty((2, x.size))
        for i in range(x.size):
            out[0, i] = fexp(x[i])
            out[1, i] = flog(y[i])
        return out

    x = np.concatenate([np.linspace(-700, 700, 20001), np.random.default_rng(0).normal(0, 20, 20000)])
    y = np.concatenate([np.geomspace(1e-300, 1e300, 20001), np.linspace(1, 2000, 20000)])
    out = run(x, y)
    np.testing.assert_allclose(out[0], np.exp(x), rtol=1e-13)
    np.testing.assert_allclose(out[1], np.log(y), rtol=1e-13, atol=1e-13)


def test_fast_exp_and_log_in_float32_against_numpy():
    import numba

    @numba.njit
    def run(x, y):
        out = np.empty((2, x.size), np.float32)
        for i in range(x.size):
            out[0, i] = fexp32(x[i])
            out[1, i] = flog32(y[i])
        return out

    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-87, 88, 20001), rng.normal(0, 20, 20000)]).astype(np.float32)
    y = np.concatenate([np.geomspace(1.2e-38, 3e38, 20001),
                        np.linspace(1, 2000, 20000)]).astype(np.float32)
    out = run(x, y)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], np.exp(x64), rtol=5e-7)
    # ln y near 1 is near 0: absolute error there (float32 spacing of 1 is 1.2e-7)
    np.testing.assert_allclose(out[1], np.log(y64), rtol=5e-7, atol=1.2e-7)
    # below -87 exp underflows to 0, as C's expf does where it leaves float32's normal range
    assert (run(np.array([-87.5, -200.0], np.float32), np.ones(2, np.float32))[0] == 0).all()
