"""Property tests (hypothesis): bounds, NaN propagation, dtype and shape independence."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from carbon_balance import casa

FAST = settings(max_examples=40, deadline=None)
TABLE = {c: (0.023, 0.7) for c in range(1, 12)}


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def year(draw, n_max=6):
    """Monthly inputs for n pixels: any temperature -40..45 degC, P 0..800 mm, NDVI -1..1."""
    n = draw(st.integers(1, n_max))
    arr = lambda lo, hi: draw(hnp.arrays(np.float64, (12, n), elements=floats(lo, hi)))
    veg = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 11)))
    return arr(-0.99, 0.99), arr(-40, 45), arr(0, 800), arr(0, 900), veg


@FAST
@given(hnp.arrays(np.float64, 20, elements=floats(-1, 1)),
       floats(-0.5, 0.5), floats(0.0, 0.45))
def test_fpar_within_limits(ndvi, lo, width):
    f = casa.fpar(ndvi, lo, lo + width)
    assert ((f >= 0.001 - 1e-12) & (f <= 0.95 + 1e-12)).all()


@FAST
@given(year())
def test_water_stress_in_range(inputs):
    _, t, p, _, _ = inputs
    w = casa.water_stress(t, p)
    assert ((w >= 0.5) & (w <= 1)).all()


@FAST
@given(year())
def test_npp_non_negative_and_kernel_monthly_consistent(inputs):
    ndvi, t, p, sol, veg = inputs
    out = casa.annual_carbon(ndvi, t, p, sol, veg, bounds=TABLE, monthly=True)
    assert (out["npp_monthly"] >= 0).all() and (out["npp"] >= 0).all()
    assert (out["rh"] > 0)[veg > 0].all()
    assert (out["nep"][veg == 0] == 0).all()


@FAST
@given(year(), st.data())
def test_nan_in_any_input_gives_nan_for_that_pixel_only(inputs, data):
    arrays = [a.copy() for a in inputs[:4]]
    veg = inputs[4]
    n = veg.size
    which = data.draw(st.integers(0, 3))
    month = data.draw(st.integers(0, 11))
    pixel = data.draw(st.integers(0, n - 1))
    clean = casa.annual_carbon(*arrays, veg, bounds=TABLE)
    arrays[which][month, pixel] = np.nan
    out = casa.annual_carbon(*arrays, veg, bounds=TABLE)
    for key in ("npp", "rh", "nep"):
        assert np.isnan(out[key][pixel])
        others = np.arange(n) != pixel
        np.testing.assert_array_equal(out[key][others], clean[key][others])


@FAST
@given(year())
def test_float32_agrees_with_float64(inputs):
    """The kernel computes in float32 for float32 inputs. Inputs are taken at the
    resolution of real products (NDVI 1e-4, 0.01 °C, 0.01 mm, 0.01 MJ m-2): float32
    cannot resolve, say, 1e-38 °C or 1e-7 mm, which float64 turns into other Wε values."""
    ndvi, t, p, sol, veg = inputs
    f32 = [np.round(a, d).astype(np.float32) for a, d in zip((ndvi, t, p, sol), (4, 2, 2, 2))]
    out32 = casa.annual_carbon(*f32, veg)
    out64 = casa.annual_carbon(*(a.astype(np.float64) for a in f32), veg)
    assert out32["nep"].dtype == np.float32 and out64["nep"].dtype == np.float64
    for key in ("npp", "rh", "nep"):
        np.testing.assert_allclose(out32[key], out64[key], rtol=1e-5, atol=1e-2)


@FAST
@given(year(n_max=12), st.integers(0, 2**31 - 1))
def test_result_independent_of_array_shape_and_order(inputs, seed):
    ndvi, t, p, sol, veg = inputs
    n = veg.size
    flat = casa.annual_nep(ndvi, t, p, sol, veg)
    # same pixels as a (12, 1, n, 1) grid, and as a shuffled vector
    grid = casa.annual_nep(*(a.reshape(12, 1, n, 1) for a in (ndvi, t, p, sol)),
                           veg.reshape(1, n, 1))
    np.testing.assert_array_equal(grid.reshape(n), flat)
    perm = np.random.default_rng(seed).permutation(n)
    shuffled = casa.annual_nep(ndvi[:, perm], t[:, perm], p[:, perm], sol[:, perm], veg[perm])
    np.testing.assert_array_equal(shuffled, flat[perm])
