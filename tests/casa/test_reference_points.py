"""Reference points of METHOD.md sections 1-2 and values derived by hand.

Sources: Rh points and Tε2 values from METHOD.md (Pei et al. 2009 formula; Potter et al.
1993 Tε2); the PET example is the uncorrected Thornthwaite Ep0 times daylength/12, compared
with the published monthly PET of the same temperatures (issue 2); the rest is arithmetic
written out in the comments.
"""

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.casa.temperature import te1, te2


@pytest.mark.parametrize("t, p, expected", [
    (0, 0, 3.0690), (10, 100, 18.3265), (20, 100, 29.7346), (30, 300, 61.4692)])
def test_rh_reference_points(t, p, expected):
    assert casa.heterotrophic_respiration(t, p) == pytest.approx(expected, abs=1e-4)


def test_rh_wuhan_like_climate_is_about_359():
    # Wuhan climate normals (CMA 1981-2010, rounded): METHOD.md says "about 359" per year.
    t = np.array([3.7, 6.0, 10.5, 16.9, 21.9, 25.6, 28.7, 28.2, 23.9, 18.0, 11.6, 5.9])
    p = np.array([43, 60, 94, 131, 164, 225, 190, 112, 80, 79, 53, 29.0])
    assert casa.heterotrophic_respiration(t, p).sum() == pytest.approx(359, rel=0.05)


def test_rh_coefficient_is_a_parameter():
    # exp(0.0912*20) vs exp(0.0913*20): the bracket changes by 20*0.0001*exp(1.826) = 0.0124.
    diff = casa.heterotrophic_respiration(20, 0) - casa.heterotrophic_respiration(20, 0, 0.0912)
    assert diff == pytest.approx(0.22 * 30 * 0.465 * (np.exp(1.826) - np.exp(1.824)), rel=1e-9)


def test_thornthwaite_constant_10_degrees():
    # I = 12 (10/5)^1.514 = 34.2730; a = 1.03895; Ep0 = 16 (100/I)^a = 48.894 mm.
    ep0 = casa.thornthwaite_pet(np.full((12, 2, 3), 10.0))
    assert ep0.shape == (12, 2, 3)
    np.testing.assert_allclose(ep0, 48.894, atol=5e-4)


def test_thornthwaite_published_example():
    t = np.array([2.1, 2.5, 4.8, 7.1, 8.3, 10.7, 13.4, 14.5, 11.1, 8.2, 5.4, 3.7])
    daylength = np.array([9.4, 10.6, 11.9, 13.4, 14.6, 15.2, 14.9, 13.9, 12.6, 11.1, 9.8, 9.1])
    published = np.array([10.67, 14.08, 28.49, 45.85, 57.47, 75.20, 89.91, 90.29, 64.26,
                          43.34, 26.24, 17.31])
    np.testing.assert_allclose(casa.thornthwaite_pet(t) * daylength / 12, published, atol=0.35)


def test_thornthwaite_cold_months_have_no_demand():
    t = np.array([-5.0, 0.0, 5, 10, 15, 20, 25, 20, 15, 10, 5, -1])
    ep0 = casa.thornthwaite_pet(t)
    assert ep0[0] == 0 and ep0[1] == 0 and ep0[11] == 0 and (ep0[2:11] > 0).all()
    assert (casa.thornthwaite_pet(np.full(12, -3.0)) == 0).all()


@pytest.mark.parametrize("t, expected", [(20, 0.99122), (30, 0.58008), (7, 0.41820),
                                         (30.01, 0.49561), (6.99, 0.49561), (45, 0.49561)])
def test_te2_reference_points(t, expected):
    assert te2(20.0, t) == pytest.approx(expected, abs=5e-6)


def test_te1_by_hand_and_cold_months():
    # Topt = 20: 0.8 + 0.4 - 0.2 = 1.0; Topt = 30: 0.8 + 0.6 - 0.45 = 0.95; Topt = 80: 0.8 + 1.6 - 3.2 < 0, clamped to 0.
    assert te1(20.0, 15.0) == pytest.approx(1.0)
    assert te1(30.0, 15.0) == pytest.approx(0.95)
    assert te1(80.0, 15.0) == 0.0
    assert te1(20.0, -10.0) == 0.0 and te1(20.0, -25.0) == 0.0 and te1(20.0, -9.99) == pytest.approx(1.0)


def test_temperature_stress_uses_month_of_max_ndvi_first_on_ties():
    t = np.arange(12, dtype=float) * 2 - 5        # -5, -3, ..., 17
    ndvi = np.array([0.1, 0.2, 0.8, 0.3, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    e1, e2 = casa.temperature_stress(t, ndvi)
    topt = -1.0                                   # month 2 (first of the two 0.8)
    assert casa.optimum_temperature(t, ndvi) == topt
    assert e1[3] == pytest.approx(0.8 + 0.02 * topt - 0.0005 * topt**2)
    assert e2[2] == pytest.approx(1.1814 / (1 + np.exp(0.2 * -10)) / (1 + np.exp(0.3 * -10)))


def test_fpar_by_hand():
    # bounds 0.1..0.7, NDVI 0.4: NDVI term 0.5*0.949 + 0.001 = 0.4755; SR 7/3 within
    # 11/9..17/3 is a quarter of the way: 0.25*0.949 + 0.001 = 0.23825; mean 0.356875.
    assert casa.fpar(0.4, 0.1, 0.7) == pytest.approx(0.356875, abs=1e-12)
    assert casa.fpar(0.9, 0.1, 0.7) == pytest.approx(0.95)     # clipped to NDVI_max
    assert casa.fpar(-0.5, 0.1, 0.7) == pytest.approx(0.001)   # clipped to NDVI_min
    assert casa.fpar(0.4, 0.1, 0.7, alpha=1.0) == pytest.approx(0.4755)
    assert np.isnan(casa.fpar(np.nan, 0.1, 0.7))


def test_water_stress_by_hand_and_guards():
    # Constant 10 degC: Ep0 = 48.8936 mm; with P = Ep0, Rn = 0.967 Ep0,
    # EET = 0.737280 Ep0, PET = 0.868640 Ep0, W = 0.5 + 0.5 * 0.848776 = 0.924387.
    ep0 = casa.thornthwaite_pet(np.full(12, 10.0))
    np.testing.assert_allclose(casa.water_stress(np.full(12, 10.0), ep0), 0.924387, atol=2e-6)
    t = np.array([-5.0, 0, 5, 10, 15, 20, 25, 20, 15, 10, 5, -1])
    p = np.array([0.0, 0, 0, 50, 100, 150, 200, 150, 100, 50, 10, 10])
    w = casa.water_stress(t, p)
    assert w[0] == 1.0 and w[1] == 1.0 and w[11] == 1.0      # Ep0 = 0: no demand
    assert w[2] == 0.5                                         # P = 0, T > 0: EET = 0
    assert ((w >= 0.5) & (w <= 1)).all()
    assert casa.actual_evapotranspiration(0.0, 40.0) == 0.0


def test_actual_evapotranspiration_rn_coefficient():
    # P = Ep0 = 100: Rn = 100 (0.369 + c); c = 0.589 gives Rn = 95.8.
    e = casa.actual_evapotranspiration(100.0, 100.0, rn_coefficient=0.589)
    rn = 95.8
    assert e == pytest.approx(100 * rn * (1e4 + rn**2 + 100 * rn) / ((100 + rn) * (1e4 + rn**2)))
