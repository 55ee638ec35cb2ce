"""The symmetric one-at-a-time decomposition against numbers derived by hand."""

from __future__ import annotations

import numpy as np
import pytest

from carbon_balance.analysis.attribution import (DRIVERS, decompose, decompose_evaluations,
                                                 dominant_driver)


def test_additive_function_exact_contributions_and_no_interaction():
    # f = 2a + b^2 - 3c: C_a = 2 (4 - 1) = 6, C_b = 3^2 - 2^2 = 5, C_c = -3 (0 - 5) = 15
    def f(x):
        return 2 * x["a"] + x["b"] ** 2 - 3 * x["c"]

    d = decompose(f, {"a": 1.0, "b": 2.0, "c": 5.0}, {"a": 4.0, "b": 3.0, "c": 0.0})
    assert d.change == pytest.approx(26.0)
    assert d.contributions["a"] == pytest.approx(6.0)
    assert d.contributions["b"] == pytest.approx(5.0)
    assert d.contributions["c"] == pytest.approx(15.0)
    assert d.interaction == pytest.approx(0.0, abs=1e-12)


def test_product_of_two_is_exact():
    # f = x y, (2, 3) -> (5, 7): Δf = 35 - 6 = 29; C_x = ½ 3 (3 + 7) = 15, C_y = ½ 4 (2 + 5) = 14
    d = decompose(lambda x: x["x"] * x["y"], {"x": 2.0, "y": 3.0}, {"x": 5.0, "y": 7.0})
    assert d.change == pytest.approx(29.0)
    assert d.contributions["x"] == pytest.approx(15.0)
    assert d.contributions["y"] == pytest.approx(14.0)
    assert d.interaction == pytest.approx(0.0, abs=1e-12)


def test_product_of_three_has_the_known_interaction():
    # f = x y z, (1, 1, 1) -> (2, 2, 2): forward 2 - 1 = 1, backward 8 - 4 = 4: C = 2.5 each;
    # Δf = 7, so I = 7 - 7.5 = -0.5
    d = decompose(lambda x: x["x"] * x["y"] * x["z"], dict(x=1.0, y=1.0, z=1.0),
                  dict(x=2.0, y=2.0, z=2.0))
    assert d.change == pytest.approx(7.0)
    for k in "xyz":
        assert d.contributions[k] == pytest.approx(2.5)
    assert d.interaction == pytest.approx(-0.5)


def test_one_driver_changes_takes_everything():
    # a non-additive f; only "c" changes: C_c = Δf, the others 0, I = 0
    def f(x):
        return np.exp(x["a"] * x["c"]) + x["b"] * x["c"] ** 3

    x1 = {"a": 0.3, "b": 2.0, "c": 1.0}
    d = decompose(f, x1, {**x1, "c": 1.7})
    assert d.contributions["c"] == pytest.approx(d.change)
    assert d.contributions["a"] == 0 and d.contributions["b"] == 0
    assert d.interaction == pytest.approx(0.0, abs=1e-12)


def test_swapping_the_years_flips_every_sign():
    def f(x):
        return x["x"] * x["y"] * x["z"] + x["x"]

    x1, x2 = dict(x=1.0, y=2.0, z=0.5), dict(x=3.0, y=1.0, z=2.0)
    a, b = decompose(f, x1, x2), decompose(f, x2, x1)
    for k in "xyz":
        assert a.contributions[k] == pytest.approx(-b.contributions[k])
    assert a.interaction == pytest.approx(-b.interaction)


def test_arrays_and_non_drivers():
    # elementwise on arrays; "k" is not a driver: each evaluation keeps its own year's k
    def f(x):
        return x["k"] * x["v"]

    x1 = {"v": np.array([1.0, 2.0, np.nan]), "k": np.array([1.0, 1.0, 1.0])}
    x2 = {"v": np.array([3.0, 2.0, 1.0]), "k": np.array([2.0, 2.0, 2.0])}
    d = decompose(f, x1, x2, drivers=["v"])
    # change 6 - 1 = 5; C_v = ½[(3 - 1) + (6 - 2)] = 3; I = 2 (k's change is not a driver)
    assert d.change[0] == pytest.approx(5.0) and d.contributions["v"][0] == pytest.approx(3.0)
    assert d.interaction[0] == pytest.approx(2.0)
    assert d.contributions["v"][1] == 0.0   # v unchanged: ½[(2 - 2) + (4 - 4)]
    assert np.isnan(d.contributions["v"][2])


def test_evaluations_must_name_the_same_drivers():
    with pytest.raises(ValueError, match="different drivers"):
        decompose_evaluations(0.0, 1.0, {"a": 1.0}, {"b": 0.0})


def test_dominant_driver_by_absolute_value():
    c = {"ndvi": np.array([1.0, -5.0, np.nan]), "temperature": np.array([-2.0, 4.0, np.nan])}
    assert list(dominant_driver(c)) == ["temperature", "ndvi", ""]
    assert DRIVERS == ("ndvi", "temperature", "precipitation", "radiation", "land_cover")
