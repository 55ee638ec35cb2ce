"""Masking, scaling, monthly compositing and mean temperature on hand-made values."""

import numpy as np

from carbon_balance.sources import composite
from carbon_balance.sources.registry import registry, select_sources


def test_physical_values_masks_fill_and_out_of_range_then_scales():
    # MOD13 NDVI: fill -3000, valid -2000..10000, x 0.0001
    raw = np.array([-3000, -2001, -2000, 5000, 10000, 10001], dtype="int16")
    v = composite.physical_values(raw, scale=0.0001, nodata=-3000, valid_min=-2000, valid_max=10000)
    assert np.isnan(v[[0, 1, 5]]).all()
    np.testing.assert_allclose(v[[2, 3, 4]], [-0.2, 0.5, 1.0], rtol=1e-6)


def test_quality_mask_keeps_good_and_marginal_only():
    values = np.array([0.5, 0.6, 0.7, 0.8, 0.9], dtype="float32")
    reliability = np.array([0, 1, 2, 3, -1])
    out = composite.quality_masked(values, reliability, (0, 1))
    np.testing.assert_allclose(out[:2], [0.5, 0.6])
    assert np.isnan(out[2:]).all()


def test_composites_go_to_the_month_of_their_midpoint():
    # MOD13A1 periods of 2005: DOY 17 (17 Jan - 1 Feb: mid 24 Jan) -> January;
    # DOY 353 (19 Dec 2005 - 3 Jan 2006: mid 26/27 Dec) -> December; DOY 25 of 2006 -> not 2005
    dates = [("2005-01-17", "2005-02-01T23:59:59"), ("2005-01-25", "2005-02-09T23:59:59"),
             ("2005-12-19", "2006-01-03T23:59:59"), ("2006-01-25", "2006-02-09")]
    assert composite.composite_months(dates, 2005).tolist() == [1, 2, 12, 0]


def test_monthly_maximum_value_composite():
    v = np.array([[0.2, np.nan], [0.5, np.nan], [0.3, 0.4]], dtype="float32")[:, :, None]
    months = np.array([1, 1, 2])
    out = composite.monthly_maximum(v, months)
    assert out.shape == (12, 2, 1)
    np.testing.assert_allclose(out[0, :, 0], [0.5, np.nan])   # all-NaN pixel stays NaN
    np.testing.assert_allclose(out[1, :, 0], [0.3, 0.4])
    assert np.isnan(out[2:]).all()                               # months without composites


def test_mean_temperature_is_the_mean_of_tmax_and_tmin():
    np.testing.assert_allclose(composite.mean_temperature(np.array([30.0, -2.0]),
                                                          np.array([20.0, -10.0])), [25.0, -6.0])


def test_registry_has_one_default_per_role_and_the_surveyed_collections():
    chosen = select_sources()
    assert set(chosen) == {"ndvi", "temperature_max", "temperature_min", "precipitation",
                           "radiation", "vegetation", "reference_npp"}
    assert (chosen["ndvi"].collection, chosen["ndvi"].asset) == ("modis-13A1-061", "500m_16_days_NDVI")
    assert (chosen["reference_npp"].collection, chosen["reference_npp"].asset) == (
        "modis-17A3HGF-061", "Npp_500m")
    assert registry()["terraclimate-srad"].units == "W/m2"
    assert select_sources({"ndvi": "modis-13q1-061"})["ndvi"].asset == "250m_16_days_NDVI"


def test_monthly_counts_count_the_composites_kept():
    v = np.array([[0.2, np.nan], [np.nan, np.nan], [0.3, 0.4]], dtype="float32")[:, :, None]
    counts = composite.monthly_counts(v, np.array([1, 1, 2]))
    assert counts.dtype == np.uint8
    assert counts[0, :, 0].tolist() == [1, 0] and counts[1, :, 0].tolist() == [1, 1]
    assert not counts[2:].any()


def test_missing_months_are_interpolated_in_time():
    nan = np.nan
    v = np.array([[nan, nan, 0.3, nan, nan, 0.6, nan, nan, nan, nan, 0.2, nan],
                  [nan] * 12], dtype="float32").T       # (12 months, 2 cells)
    out = composite.fill_missing_months(v)
    np.testing.assert_allclose(out[:, 0], [0.3, 0.3, 0.3, 0.4, 0.5, 0.6, 0.52, 0.44, 0.36,
                                           0.28, 0.2, 0.2], rtol=1e-6)
    assert np.isnan(out[:, 1]).all()                    # no valid month: stays nodata
