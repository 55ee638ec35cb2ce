"""Unit conversions, checked by hand."""

import numpy as np
import pytest

from carbon_balance.grid.conversions import days_in_months, monthly_factors, to_model_units


def test_days_in_months_leap_year():
    assert days_in_months(2020)[1] == 29
    assert days_in_months(2019)[1] == 28
    assert days_in_months(2019).sum() == 365


def test_w_m2_monthly_mean_to_mj_per_month():
    # 100 W m-2 for 31 days: 100 J s-1 m-2 x 86400 s x 31 = 267.84 MJ m-2
    v = np.full((12, 1), 100.0)
    out = to_model_units(v, "radiation", "W/m2", 2020)
    assert out[0, 0] == pytest.approx(267.84)
    assert out[1, 0] == pytest.approx(100 * 86400 * 29 / 1e6)   # February 2020: 250.56
    assert to_model_units(np.full((12, 1), 100.0), "radiation", "W/m2", 2019)[1, 0] == \
        pytest.approx(241.92)


def test_kwh_tenths_and_kelvin():
    assert to_model_units(np.full((12, 1), 100.0), "radiation", "kWh/m2/month", 2005)[5, 0] == \
        pytest.approx(360.0)
    assert to_model_units(np.full((12, 1), 253.0), "temperature", "0.1 degC", 2005)[0, 0] == \
        pytest.approx(25.3)
    assert to_model_units(np.full((12, 1), 300.0), "temperature", "K", 2005)[0, 0] == \
        pytest.approx(26.85)
    assert to_model_units(np.full((12, 1), 1234.0), "precipitation", "0.1 mm/month", 2005)[0, 0] \
        == pytest.approx(123.4)


def test_model_units_unchanged_and_unknown_refused():
    v = np.arange(12.0)[:, None]
    assert to_model_units(v.copy(), "temperature", "degC", 2005).tolist() == v.tolist()
    f, o = monthly_factors("ndvi", None, 2005)
    assert (f == 1).all() and (o == 0).all()
    with pytest.raises(ValueError):
        monthly_factors("temperature", "degF", 2005)
