"""The fused kernel against an independent numpy implementation of METHOD.md s1-2.

`reference_carbon` below is written from METHOD.md alone (it calls nothing from
carbon_balance): if the kernel and the document part ways, these tests fail.
"""

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.casa._fastmath import fexp, fexp32, flog, flog32
from carbon_balance.errors import InputError

EPS_MAX = {1: 0.485, 2: 0.389, 3: 0.692, 4: 0.985, 5: 0.475, 6: 0.768, 7: 0.429, 8: 0.542,
           9: 0.542, 10: 0.542, 11: 0.542}


def reference_bounds(ndvi, veg):
    out = {}
    for c in range(1, 12):
        v = ndvi[:, veg == c].astype(np.float64)
        v = v[np.isfinite(v)]
        if v.size:
            out[c] = tuple(np.percentile(v, [5, 95]))
    return out


def reference_carbon(ndvi, t, p, sol, veg, bounds, rn_c=0.598, rh_c=0.0913):
    """Per-pixel loop over METHOD.md, float64; returns (npp, rh, nep) annual."""
    n = veg.size
    npp = np.zeros(n)
    rh = np.zeros(n)
    for j in range(n):
        c = veg[j]
        cols = [a[:, j].astype(np.float64) for a in (ndvi, t, p, sol)]
        if c < 0 or any(np.isnan(col).any() for col in cols):
            npp[j] = rh[j] = np.nan
            continue
        if c == 0:
            continue
        v, tt, pp, ss = cols
        lo, hi = bounds[c]
        x = np.clip(v, lo, hi)
        sr, slo, shi = (1 + x) / (1 - x), (1 + lo) / (1 - lo), (1 + hi) / (1 - hi)
        f = 0.5 * ((x - lo) / (hi - lo) * 0.949 + 0.001) + 0.5 * ((sr - slo) / (shi - slo) * 0.949 + 0.001)
        topt = tt[int(np.argmax(v))]
        te1 = np.where(tt <= -10, 0.0, max(0.8 + 0.02 * topt - 0.0005 * topt**2, 0.0))
        def te2f(T, topt=topt):
            return 1.1814 / (1 + np.exp(0.2 * (topt - 10 - T))) / (1 + np.exp(0.3 * (-topt - 10 + T)))
        te2 = np.where((tt - topt > 10) | (topt - tt > 13), te2f(topt) / 2, te2f(tt))
        big_i = sum((T / 5) ** 1.514 for T in tt if T > 0)
        a = (0.6751 * big_i**3 - 77.1 * big_i**2 + 17920 * big_i + 492390) * 1e-6
        w = np.empty(12)
        for m in range(12):
            ep0 = 16 * (10 * tt[m] / big_i) ** a if tt[m] > 0 else 0.0
            P = pp[m]
            if ep0 == 0:
                w[m] = 1.0
            elif P == 0:
                w[m] = 0.5
            else:
                rn = np.sqrt(ep0 * P) * (0.369 + rn_c * np.sqrt(ep0 / P))
                eet = P * rn * (P**2 + rn**2 + P * rn) / ((P + rn) * (P**2 + rn**2))
                w[m] = min(max(0.5 + 0.5 * eet / ((eet + ep0) / 2), 0.5), 1.0)
        npp[j] = (ss * f * 0.5 * te1 * te2 * w * EPS_MAX[c]).sum()
        rh[j] = (0.22 * (np.exp(rh_c * tt) + np.log(0.3145 * pp + 1)) * 30 * 0.465).sum()
    return npp, rh, npp - rh


def plausible_inputs(n, seed, dtype=np.float64):
    """Generated (synthetic) monthly inputs, plausible for subtropical China."""
    rng = np.random.default_rng(seed)
    season = -np.cos(2 * np.pi * (np.arange(12)[:, None] + 0.5) / 12)
    t = 15 + rng.normal(0, 8, n) + 12 * season + rng.normal(0, 2, (12, n))
    p = rng.gamma(2.0, 1.0, (12, n)) * (60 + 50 * (season + 1))
    p[rng.random((12, n)) < 0.05] = 0.0
    sol = 380 + 170 * season + rng.normal(0, 30, (12, n))
    ndvi = np.clip(0.45 + 0.2 * season + rng.normal(0, 0.15, (12, n)), -0.3, 0.95)
    veg = rng.integers(0, 12, n)
    return [a.astype(dtype) for a in (ndvi, t, p, sol)] + [veg]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_annual_nep_matches_independent_reference(dtype):
    """float64 inputs run the kernel in float64, float32 ones in float32 (against the
    reference in float64 on the same, float32, values): both within the same tolerance."""
    ndvi, t, p, sol, veg = plausible_inputs(600, seed=1, dtype=dtype)
    ndvi[3, 5] = np.nan
    t[0, 6] = np.nan
    ref_npp, ref_rh, ref_nep = reference_carbon(ndvi, t, p, sol, veg, reference_bounds(ndvi, veg))
    out = casa.annual_carbon(ndvi, t, p, sol, veg)
    assert out["nep"].dtype == dtype
    np.testing.assert_allclose(out["nep"], ref_nep, atol=1e-2, rtol=0)
    np.testing.assert_allclose(out["npp"], ref_npp, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out["rh"], ref_rh, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(casa.annual_nep(ndvi, t, p, sol, veg), out["nep"])
    assert np.isnan(out["nep"][[5, 6]]).all()
    vegetated = (veg > 0) & np.isfinite(ref_npp)
    assert 200 < np.nanmean(ref_npp[vegetated]) < 2500   # sanity: inputs are not degenerate


def test_table_and_mapping_bounds_and_rn_rh_coefficients():
    ndvi, t, p, sol, veg = plausible_inputs(200, seed=2)
    table = {c: (0.023, hi) for c, hi in {1: 0.738, 2: 0.647, 3: 0.747, 4: 0.676, 5: 0.702,
                                          6: 0.7115, 7: 0.636, 8: 0.636, 9: 0.634, 10: 0.634,
                                          11: 0.634}.items()}
    ref = reference_carbon(ndvi, t, p, sol, veg, table, rn_c=0.589, rh_c=0.0912)[2]
    got = casa.annual_carbon(ndvi, t, p, sol, veg, bounds="table", rn_coefficient=0.589,
                             rh_coefficient=0.0912)["nep"]
    np.testing.assert_allclose(got, ref, atol=1e-2, rtol=0)
    mapping = {c: (0.1, 0.8) for c in range(1, 12)}
    ref = reference_carbon(ndvi, t, p, sol, veg, mapping)[2]
    np.testing.assert_allclose(casa.annual_nep(ndvi, t, p, sol, veg, bounds=mapping), ref, atol=1e-2)


@pytest.mark.parametrize("small", [0, 2**17])
def test_percentile_bounds_equal_numpy_exactly(monkeypatch, small):
    # small = 0 forces the histogram path that large grids take.
    import importlib
    fpar_module = importlib.import_module("carbon_balance.casa.fpar")
    monkeypatch.setattr(fpar_module, "SMALL", small)
    rng = np.random.default_rng(3)
    for n, dtype in ((5000, np.float32), (3000, np.float64), (3, np.float64), (1, np.float32)):
        ndvi = rng.uniform(-0.2, 0.9, (12, n)).astype(dtype)
        ndvi[rng.random((12, n)) < 0.1] = np.nan
        ndvi[:, ::3] = np.round(ndvi[:, ::3], 2)   # ties, like quantised NDVI
        veg = rng.integers(0, 12, n)
        assert casa.percentile_bounds(ndvi, veg) == reference_bounds(ndvi, veg)
    ndvi = rng.uniform(0, 0.9, (12, 50, 40))
    veg = rng.choice([11, 12, 21, 42], (50, 40))
    got = casa.percentile_bounds(ndvi, veg, lower=10, upper=90, classes="cas-lucc")
    casa_codes = np.select([veg < 20, veg == 21], [10, 6], 0)
    want = {c: tuple(np.percentile(ndvi[:, casa_codes == c], [10, 90])) for c in (6, 10)}
    assert got == want


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
