"""casa on xarray and dask: months by dimension name, coordinates, units and chunks kept,
units checked; numpy and dask agree with tiny chunks at the edges (xarray-spatial style)."""

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from carbon_balance import casa
from carbon_balance.errors import InputError

from casa_inputs import plausible_inputs

UNITS = {"ndvi": "1", "temperature": "degC", "precipitation": "mm month-1",
         "radiation": "MJ m-2 month-1"}
SHAPE = (5, 7)


def dataarrays(seed=1, shape=SHAPE, month_dim="month", dtype=np.float64):
    """The inputs as DataArrays (month, y, x) with coordinates and units."""
    n = shape[0] * shape[1]
    arrays = plausible_inputs(n, seed, dtype)
    y = np.arange(shape[0]) * -0.5 + 31.0
    x = np.arange(shape[1]) * 0.5 + 113.0
    month = (pd.date_range("2020-01-01", periods=12, freq="MS") if month_dim == "time"
             else np.arange(1, 13))
    out = {}
    for name, a in zip(UNITS, arrays[:4]):
        out[name] = xr.DataArray(a.reshape(12, *shape), dims=(month_dim, "y", "x"),
                                 coords={month_dim: month, "y": y, "x": x},
                                 attrs={"units": UNITS[name]})
    out["vegetation"] = xr.DataArray(arrays[4].reshape(shape), dims=("y", "x"),
                                     coords={"y": y, "x": x})
    return out


def numpy_of(arrays):
    return [arrays[k].values for k in (*UNITS, "vegetation")]


def test_annual_nep_on_dataarrays_returns_a_dataarray_with_coordinates():
    arrays = dataarrays()
    nep = casa.annual_nep(**arrays)
    assert isinstance(nep, xr.DataArray)
    assert nep.dims == ("y", "x") and nep.attrs["units"] == "g C m-2 yr-1"
    np.testing.assert_array_equal(nep.x, arrays["ndvi"].x)
    np.testing.assert_array_equal(nep.y, arrays["ndvi"].y)
    np.testing.assert_array_equal(nep.values, casa.annual_nep(*numpy_of(arrays)))


def test_months_are_found_by_name_not_position():
    arrays = dataarrays()
    moved = {k: (v.transpose("y", "x", "month") if "month" in v.dims else v)
             for k, v in arrays.items()}
    out = casa.annual_carbon(**moved, monthly=True)
    want = casa.annual_carbon(*numpy_of(arrays), monthly=True)
    np.testing.assert_array_equal(out["nep"].transpose("y", "x").values, want["nep"])
    assert out["npp_monthly"].dims[0] == "month"
    np.testing.assert_array_equal(out["npp_monthly"].transpose("month", "y", "x").values,
                                  want["npp_monthly"])


def test_time_of_length_12_is_the_month_dimension_and_comes_back():
    arrays = dataarrays(month_dim="time")
    out = casa.annual_carbon(**arrays, monthly=True)
    assert out["rh_monthly"].dims == ("time", "y", "x")
    np.testing.assert_array_equal(out["rh_monthly"].time, arrays["ndvi"].time)
    assert out["rh_monthly"].attrs["units"] == "g C m-2 month-1"
    pet = casa.thornthwaite_pet(arrays["temperature"])
    assert pet.dims == ("time", "y", "x") and pet.attrs["units"] == "mm month-1"
    np.testing.assert_allclose(pet.values, casa.thornthwaite_pet(arrays["temperature"].values),
                               rtol=1e-14)


@pytest.mark.parametrize("bounds", ["percentile", "table"])
@pytest.mark.parametrize("chunks", [{"y": 1, "x": 3}, {"y": 2, "x": 2}, {"y": 4, "x": 6}])
def test_dask_equals_numpy_with_tiny_chunks_at_the_edges(bounds, chunks):
    # 5 x 7 in chunks of 1 x 3, 2 x 2 or 4 x 6: every layout leaves ragged edge chunks
    arrays = dataarrays(seed=2)
    lazy = {k: v.chunk(chunks) for k, v in arrays.items()}
    out = casa.annual_carbon(**lazy, bounds=bounds, monthly=True)
    want = casa.annual_carbon(*numpy_of(arrays), bounds=bounds, monthly=True)
    assert out["bounds"] == want["bounds"]        # the streamed percentiles are exact
    for key in ("npp", "rh", "nep", "nep_monthly"):
        assert out[key].chunks is not None, key   # still lazy
        assert out[key].chunksizes["y"] == lazy["ndvi"].chunksizes["y"]
        assert out[key].chunksizes["x"] == lazy["ndvi"].chunksizes["x"]
        np.testing.assert_array_equal(out[key].transpose(*(["month"] if "monthly" in key
                                                            else []), "y", "x").values,
                                      want[key], err_msg=key)


def test_float32_dask_stays_float32():
    arrays = dataarrays(seed=3, dtype=np.float32)
    lazy = {k: v.chunk({"y": 2}) for k, v in arrays.items()}
    nep = casa.annual_nep(**lazy)
    assert nep.dtype == np.float32 and nep.compute().dtype == np.float32


def test_bare_dask_arrays_come_back_as_dask_arrays():
    arrays = plausible_inputs(40, seed=4)
    lazy = [dsa.from_array(a, chunks=(12, 9) if a.ndim == 2 else 9) for a in arrays]
    nep = casa.annual_nep(*lazy)
    assert isinstance(nep, dsa.Array) and nep.chunks == ((9, 9, 9, 9, 4),)
    np.testing.assert_array_equal(nep.compute(), casa.annual_nep(*arrays))


def test_readable_functions_keep_labels_and_chunks():
    arrays = dataarrays(seed=5)
    t = arrays["temperature"].chunk({"x": 3})
    p = arrays["precipitation"].chunk({"x": 3})
    rh = casa.heterotrophic_respiration(t, p)
    assert rh.attrs["units"] == "g C m-2 month-1" and rh.chunksizes["x"] == (3, 3, 1)
    np.testing.assert_allclose(rh.values, casa.heterotrophic_respiration(t.values, p.values),
                               rtol=1e-14)
    w = casa.water_stress(t, p)
    assert w.dims == ("month", "y", "x") and w.attrs["units"] == "1"
    # numpy's vectorised loops round the last bit by memory layout: 1e-14, not equality
    np.testing.assert_allclose(w.values, casa.water_stress(t.values, p.values), rtol=1e-14)
    e1, e2 = casa.temperature_stress(t, arrays["ndvi"])
    np.testing.assert_allclose(e2.values, casa.temperature_stress(t.values,
                                                                  arrays["ndvi"].values)[1],
                               rtol=1e-14)
    topt = casa.optimum_temperature(t, arrays["ndvi"])
    assert topt.dims == ("y", "x") and topt.attrs["units"] == "degC"
    f = casa.fpar(arrays["ndvi"], 0.1, 0.7)
    np.testing.assert_allclose(f.values, casa.fpar(arrays["ndvi"].values, 0.1, 0.7), rtol=1e-14)
    bounds = casa.percentile_bounds(arrays["ndvi"].chunk({"y": 2}), arrays["vegetation"])
    assert bounds == casa.percentile_bounds(arrays["ndvi"].values, arrays["vegetation"].values)


@pytest.mark.parametrize("name, units, hint", [
    ("temperature", "K", "273.15"),
    ("temperature", "0.1 degC", "0.1"),
    ("radiation", "W m-2", "0.0864"),
    ("radiation", "kWh m-2", "3.6"),
    ("precipitation", "m", "1000"),
    ("ndvi", "0.0001", "1e-4"),
])
def test_units_that_disagree_raise_a_clear_error(name, units, hint):
    arrays = dataarrays()
    arrays[name].attrs["units"] = units
    with pytest.raises(InputError, match=name) as err:
        casa.annual_nep(**arrays)
    assert repr(units) in str(err.value) and hint in err.value.problem.fix


@pytest.mark.parametrize("units", ["degC", "°C", "celsius", "degree_Celsius"])
def test_celsius_spellings_pass_and_no_units_attribute_passes(units):
    arrays = dataarrays()
    arrays["temperature"].attrs["units"] = units
    want = casa.annual_nep(*numpy_of(arrays))
    np.testing.assert_array_equal(casa.annual_nep(**arrays).values, want)
    del arrays["temperature"].attrs["units"]
    np.testing.assert_array_equal(casa.annual_nep(**arrays).values, want)


def test_kelvin_to_a_readable_function_raises_too():
    t = dataarrays()["temperature"]
    t.attrs["units"] = "K"
    with pytest.raises(InputError, match="273.15|K"):
        casa.thornthwaite_pet(t)


def test_misaligned_grids_and_missing_months_raise():
    arrays = dataarrays()
    shifted = dict(arrays, radiation=arrays["radiation"].assign_coords(
        x=arrays["radiation"].x + 0.25))
    with pytest.raises(InputError, match="coordinates differ"):
        casa.annual_nep(**shifted)
    no_month = dict(arrays, ndvi=arrays["ndvi"].rename(month="band"))
    with pytest.raises(InputError, match="no 'month' dimension"):
        casa.annual_nep(**no_month)
