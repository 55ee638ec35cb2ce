"""Theil–Sen slope and Mann–Kendall test (analysis/trends.py): numbers derived by hand,
agreement with pymannkendall on sampled series with ties and gaps, numpy = dask = xarray."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np
import pymannkendall as mk
import pytest
import xarray as xr

from carbon_balance.analysis import trends
from carbon_balance.analysis.trends import MIN_YEARS, direction, mann_kendall, trend
from carbon_balance.errors import StudyError


def _p(z: float) -> float:
    """Two-sided normal p-value, from the error function (independent of scipy)."""
    return math.erfc(abs(z) / math.sqrt(2))


def test_four_points_with_a_tie_by_hand():
    # x = 1, 2, 2, 3 at t = 0..3. Pairs (i<j): 1-2 +, 1-2 +, 1-3 +, 2-2 0, 2-3 +, 2-3 +
    # S = 5; one tie group of 2: Var S = (4*3*13 - 2*1*9) / 18 = 138/18;
    # Z = (5 - 1) / sqrt(138/18); tau = 5 / 6.
    # slopes 1/1, 1/2, 2/3, 0/1, 1/2, 1/1 -> sorted 0, .5, .5, .667, 1, 1 -> median 7/12
    r = trend(np.array([1.0, 2.0, 2.0, 3.0]), min_years=4)
    assert float(r.s) == 5
    assert float(r.var_s) == pytest.approx(138 / 18)
    z = 4 / math.sqrt(138 / 18)
    assert float(r.z) == pytest.approx(z)
    assert float(r.p_value) == pytest.approx(_p(z), rel=1e-12)
    assert float(r.tau) == pytest.approx(5 / 6)
    assert float(r.slope) == pytest.approx(7 / 12)
    assert float(r.n_years) == 4


def test_eight_increasing_years_by_hand():
    # no ties: S = 28 = n(n-1)/2, Var S = 8*7*21/18, Z = 27/sqrt(Var S), tau = 1
    x = 3.0 * np.arange(8) + 10
    r = trend(x, np.arange(2001, 2009))
    assert float(r.s) == 28 and float(r.tau) == 1
    assert float(r.var_s) == pytest.approx(8 * 7 * 21 / 18)
    assert float(r.p_value) == pytest.approx(_p(27 / math.sqrt(8 * 7 * 21 / 18)), rel=1e-12)
    assert float(r.slope) == pytest.approx(3.0)
    r = trend(-x, np.arange(2001, 2009))
    assert float(r.s) == -28 and float(r.z) == pytest.approx(-27 / math.sqrt(8 * 7 * 21 / 18))


def test_slope_uses_the_actual_years():
    # every pairwise slope is 2 per year when the values follow 2 t, however t is spaced
    t = np.array([2000, 2002, 2003, 2007, 2008, 2010, 2015, 2020])
    r = trend(2.0 * (t - 2000) + 5, t)
    assert float(r.slope) == pytest.approx(2.0)
    # per step (no years given) the same series has other pairwise slopes
    assert float(trend(2.0 * (t - 2000) + 5).slope) != pytest.approx(2.0)


def test_constant_series_has_no_trend():
    # all eight values tied: S = 0, Var S = (8*7*21 - 8*7*21)/18 = 0, Z = 0, p = 1
    r = trend(np.full(8, 4.0))
    assert (float(r.s), float(r.var_s), float(r.z), float(r.p_value), float(r.slope)) == \
        (0, 0, 0, 1, 0)
    assert list(direction([1.0, -2.0, 0.0, np.nan])) == ["increasing", "decreasing",
                                                          "no trend", ""]


def test_missing_years_use_the_valid_ones_or_give_nan():
    x = np.arange(9, dtype=float)
    gap = x.copy()
    gap[4] = np.nan           # 8 valid years left: S over them, slope still 1 per year
    r = trend(gap)
    assert float(r.n_years) == 8 and float(r.s) == 28 and float(r.slope) == 1
    gap[5] = np.nan           # 7 valid: below MIN_YEARS, every result NaN
    r = trend(gap)
    assert float(r.n_years) == 7
    assert all(np.isnan(float(getattr(r, f))) for f in ("slope", "p_value", "s", "z", "tau"))


def test_too_few_years_name_the_study_key():
    with pytest.raises(StudyError) as err:
        trend(np.zeros((MIN_YEARS - 1, 3)), np.arange(2001, 2001 + MIN_YEARS - 1))
    assert err.value.problem.key == "study.years"
    assert "at least 8 years" in str(err.value)
    with pytest.raises(StudyError, match="increase"):
        trend(np.zeros((8, 2)), [2001, 2002, 2003, 2005, 2004, 2006, 2007, 2008])


def _sample(seed=7, n=12, pixels=400):
    rng = np.random.default_rng(seed)
    # integer values: many ties; a drift in some columns; some missing years
    drift = rng.choice([-2.0, 0.0, 1.0], pixels)
    x = np.round(rng.normal(0, 3, (n, pixels)) + drift * np.arange(n)[:, None])
    x[rng.random((n, pixels)) < 0.08] = np.nan
    return x


def test_agrees_with_pymannkendall_on_sampled_series_with_ties():
    x = _sample()
    r = trend(x)
    checked = ties = 0
    for k in range(x.shape[1]):
        col = x[:, k]
        valid = col[~np.isnan(col)]
        if valid.size < MIN_YEARS:
            assert np.isnan(r.p_value[k])
            continue
        ref = mk.original_test(col)
        ties += np.unique(valid).size < valid.size
        assert r.s[k] == ref.s
        assert r.var_s[k] == pytest.approx(ref.var_s, rel=1e-12)
        assert r.z[k] == pytest.approx(ref.z, rel=1e-12, abs=1e-15)
        assert r.p_value[k] == pytest.approx(ref.p, rel=1e-9, abs=1e-12)
        assert r.tau[k] == pytest.approx(ref.Tau, rel=1e-12)
        assert r.slope[k] == pytest.approx(ref.slope, rel=1e-12, abs=1e-15)
        checked += 1
    assert checked > 300 and ties > 300   # the sample exercises the tie correction


def test_pixel_blocks_give_the_same_numbers(monkeypatch):
    x = _sample(seed=3, n=10, pixels=257)
    whole = trend(x)
    monkeypatch.setattr(trends, "PAIR_BUDGET", 45 * 7)   # blocks of 7 pixels
    parts = trend(x)
    for f in trends.FIELDS:
        np.testing.assert_array_equal(getattr(parts, f), getattr(whole, f))


def test_numpy_dask_xarray_agree_with_tiny_chunks():
    x = _sample(seed=11, n=9, pixels=35).reshape(9, 7, 5)
    years = np.arange(2000, 2009)
    ref = trend(x, years)
    lazy = trend(da.from_array(x, chunks=(2, 3, 2)), years)   # ragged edge chunks
    assert isinstance(lazy.slope, da.Array)
    for f in trends.FIELDS:
        np.testing.assert_array_equal(getattr(lazy, f).compute(), getattr(ref, f))
    arr = xr.DataArray(da.from_array(x, chunks=(9, 4, 3)), dims=("year", "y", "x"),
                       coords={"year": years, "y": np.arange(7), "x": np.arange(5)},
                       attrs={"units": "g C m-2 yr-1"})
    ds = trend(arr.transpose("y", "year", "x"))
    assert ds["slope"].dims == ("y", "x") and ds["slope"].attrs["units"] == "(g C m-2 yr-1) yr-1"
    np.testing.assert_array_equal(ds["p_value"].values, ref.p_value)
    np.testing.assert_array_equal(ds["slope"].values, ref.slope)


def test_mann_kendall_alone():
    s, var, z, p = mann_kendall(np.array([1.0, 2.0, 2.0, 3.0]), min_years=4)
    assert (float(s), float(var)) == (5, pytest.approx(138 / 18))


def test_floating_point_noise_is_a_tie_not_a_trend():
    # ECC-like ratio, constant in exact arithmetic: 1/3 computed ten ways differs by ~1e-16
    x = np.array([(k / 3.0) / k for k in range(1, 11)])
    assert len(set(x.tolist())) > 1            # the noise is there
    r = trend(x, np.arange(2001, 2011))
    # all 45 pairs tied: S = 0, Var S = 0 (n=10, one group of 10), slope 0, p = 1
    assert r.s == 0 and r.slope == 0 and r.p_value == 1.0
    assert r.var_s == 0
    # exact comparison, as pymannkendall: the noise counts as signs
    assert trend(x, np.arange(2001, 2011), tie_rtol=0).s != 0
