"""The fused kernel against the reference composed from the readable functions
(:func:`carbon_balance.casa.reference.reference_carbon`), on random and edge-case
inputs: cold and frozen years, dry months, NaN, nodata and non-vegetated classes."""

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.casa.reference import reference_bounds

from casa_inputs import plausible_inputs

RTOL = {np.float64: 1e-9, np.float32: 1e-4}


def assert_matches_reference(args, dtype, **kwargs):
    ref = casa.reference_carbon(*args, **kwargs)
    got = casa.annual_carbon(*args, monthly=True, **kwargs)
    assert got["bounds"] == ref["bounds"]
    for key in ("npp", "rh", "nep"):
        assert got[key].dtype == dtype
        np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(ref[key]), err_msg=key)
    # NEP is a difference of two sums of ~1e3: absolute tolerance from the gross fluxes
    scale = np.nan_to_num(ref["npp"] + ref["rh"]) + 1
    np.testing.assert_allclose(got["npp"], ref["npp"], rtol=RTOL[dtype], atol=1e-6)
    np.testing.assert_allclose(got["rh"], ref["rh"], rtol=RTOL[dtype], atol=1e-6)
    assert np.nanmax(np.abs(got["nep"] - ref["nep"]) / scale) < RTOL[dtype]
    np.testing.assert_allclose(got["npp_monthly"], ref["npp_monthly"], rtol=RTOL[dtype],
                               atol=1e-5)
    np.testing.assert_allclose(got["rh_monthly"], ref["rh_monthly"], rtol=RTOL[dtype],
                               atol=1e-5)
    return got, ref


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_inputs(dtype):
    """float64 inputs run the kernel in float64, float32 ones in float32 (against the
    reference in float64 on the same, float32, values)."""
    args = plausible_inputs(3000, seed=1, dtype=dtype)
    got, ref = assert_matches_reference(args, dtype)
    vegetated = (args[4] > 0) & np.isfinite(ref["npp"])
    assert 200 < np.nanmean(ref["npp"][vegetated]) < 2500   # the inputs are not degenerate


def edge_cases(dtype):
    """One pixel per case, each case a column; returns the inputs and the case names."""
    ndvi, t, p, sol, veg = plausible_inputs(15, seed=2)
    cases = []

    def case(name, **changes):
        j = len(cases)
        cases.append(name)
        for key, value in changes.items():
            arr = {"ndvi": ndvi, "t": t, "p": p, "sol": sol}.get(key)
            if key == "veg":
                veg[j] = value
            else:
                arr[:, j] = value
        if "veg" not in changes:
            veg[j] = 6
    case("frozen year: all months at or below -10 degC (Te1 = 0, I = 0)", t=np.linspace(-30, -10, 12))
    case("cold year: no month above 0 degC, Ep0 = 0, W = 1", t=np.linspace(-9, -1, 12))
    case("below the Te1 cold limit in some months", t=np.linspace(-25, 15, 12))
    case("exactly at the cold limit", t=np.r_[-10.0, np.linspace(0, 20, 11)])
    case("dry year: P = 0 every month", p=0.0)
    case("negative precipitation counts as 0", p=np.r_[-5.0, p[1:, 4]])
    case("hot: beyond Topt + 10", t=np.r_[10.0, np.linspace(25, 40, 11)],
         ndvi=np.r_[0.9, np.full(11, 0.3)])
    case("NaN NDVI in one month", ndvi=np.r_[np.nan, ndvi[1:, 6]])
    case("NaN temperature", t=np.r_[t[:5, 7], np.nan, t[6:, 7]])
    case("NaN radiation", sol=np.r_[sol[:11, 8], np.nan])
    case("class 0, not vegetated", veg=0)
    case("class 0 with NaN input is NaN", veg=0, p=np.r_[np.nan, p[1:, 10]])
    case("NDVI outside the class bounds", ndvi=np.r_[np.full(6, -0.9), np.full(6, 0.99)])
    case("constant NDVI", ndvi=0.5)
    case("zero radiation", sol=0.0)
    args = [a.astype(dtype) for a in (ndvi, t, p, sol)] + [veg]
    return args, cases


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bounds", ["table", "percentile"])
def test_edge_cases(dtype, bounds):
    args, cases = edge_cases(dtype)
    got, ref = assert_matches_reference(args, dtype, bounds=bounds)
    nan = np.isnan(got["nep"])
    assert [c for c, isnan in zip(cases, nan) if isnan] == [
        "NaN NDVI in one month", "NaN temperature", "NaN radiation",
        "class 0 with NaN input is NaN"]
    assert got["nep"][cases.index("class 0, not vegetated")] == 0
    assert got["npp"][cases.index("zero radiation")] == 0
    assert got["npp"][cases.index("frozen year: all months at or below -10 degC (Te1 = 0, I = 0)")] == 0
    assert got["npp"][cases.index("cold year: no month above 0 degC, Ep0 = 0, W = 1")] > 0


def test_nodata_class_and_parameter_overrides():
    ndvi, t, p, sol, _ = plausible_inputs(6, seed=3)
    veg = np.array([0, 13, 255, 2, 4, 12])       # modis-igbp: 255 fill, 13 urban
    kwargs = dict(classes="modis-igbp", bounds={c: (0.05, 0.85) for c in range(1, 12)},
                  rn_coefficient=0.589, te1_cold_limit=-5.0, te2_above=8.0,
                  eps_max={1: 0.9, 5: 1.0, 6: 1.0, 10: 0.3})
    got, ref = assert_matches_reference([ndvi, t, p, sol, veg], np.float64, **kwargs)
    assert np.isnan(got["nep"][2]) and got["nep"][0] == 0 and got["nep"][1] == 0
    plain = casa.annual_carbon(ndvi, t, p, sol, veg, classes="modis-igbp",
                               bounds=kwargs["bounds"])
    assert not np.allclose(plain["npp"][3:], got["npp"][3:])   # the overrides took effect


def test_named_parameter_set_changes_rh_only():
    args = plausible_inputs(200, seed=4)
    pei = casa.annual_carbon(*args, parameters="pei2009")
    fan = casa.annual_carbon(*args)
    np.testing.assert_array_equal(pei["npp"], fan["npp"])
    # exp(0.0912 T) < exp(0.0913 T) for T > 0: Rh lower where every month is above 0 degC
    warm = (args[4] > 0) & (args[1] > 0).all(axis=0)
    assert warm.sum() > 50 and (pei["rh"][warm] < fan["rh"][warm]).all()
    assert_matches_reference(args, np.float64, parameters="pei2009")


def test_percentile_bounds_equal_numpy():
    ndvi, _, _, _, veg = plausible_inputs(4000, seed=5)
    assert casa.percentile_bounds(ndvi, veg) == reference_bounds(ndvi, veg)
