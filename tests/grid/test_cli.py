"""`carbon-balance nep` on a multi-year study whose inputs differ in grid and units."""

import numpy as np
import pandas as pd
import pytest
import rasterio
import rioxarray  # noqa: F401  (the .rio accessor used to write NetCDF inputs)
import xarray as xr
from rasterio.transform import from_origin

from carbon_balance import casa
from carbon_balance.cli import main
from carbon_balance.grid.readers import study_year_dataset as year_dataset
from carbon_balance.grid.study_grid import study_grid
from carbon_balance.grid.conversions import days_in_months
from carbon_balance.study import load_study

from .synthetic import ORIGIN, RES, climate, write_raster

STUDY = """\
[study]
name = "generated mixed-inputs study"
years = [2005, 2010]
generated_inputs = true
generated_note = "all rasters are generated test fields"

[inputs.ndvi]
path = "ndvi/ndvi_{year}.tif"
scale = 0.0001
[inputs.temperature]
path = "era/t2m_{year}.nc"
units = "K"
[inputs.precipitation]
path = "pre/{year}/pre_{month:02d}.tif"
units = "0.1 mm/month"
[inputs.radiation]
path = "sol/sol_{year}.tif"
units = "W/m2"
[inputs.vegetation]
path = "lc/landcover_30m_like.tif"
classes = "cas-lucc"

[grid]
chunk_size = 16
"""


def linear_temperature(x, y, month):
    return 5 + 20 * (x - 110) + 10 * (y - 29.6) + month


def _netcdf(path, cell):
    h, w = int(round(0.4 / cell)) + 2, int(round(0.6 / cell)) + 2
    lon = ORIGIN[0] - cell + cell * (np.arange(w) + 0.5)
    lat = ORIGIN[1] + cell - cell * (np.arange(h) + 0.5)
    X, Y = np.meshgrid(lon, lat)
    t = np.stack([linear_temperature(X, Y, m) for m in range(12)]) + 273.15
    da = xr.DataArray(t, dims=("time", "lat", "lon"),
                      coords={"time": np.arange(12), "lat": lat, "lon": lon}, name="t2m")
    da.lat.attrs.update(units="degrees_north", standard_name="latitude")
    da.lon.attrs.update(units="degrees_east", standard_name="longitude")
    path.parent.mkdir(parents=True, exist_ok=True)
    da.to_dataset().rio.write_crs("EPSG:4326").to_netcdf(path)


@pytest.fixture
def mixed_study(tmp_path):
    root = tmp_path / "mixed"
    raw = {}
    for i, (year, cell) in enumerate([(2005, 0.02), (2010, 0.05)]):
        f = climate(10 + i)
        write_raster(root / f"ndvi/ndvi_{year}.tif", f["ndvi"], nodata=-3000)
        _netcdf(root / f"era/t2m_{year}.nc", cell)                  # coarser, kelvin, NetCDF
        tenths = np.round(f["precipitation"] * 10).astype(np.int16)
        for m in range(12):                                          # monthly files, 0.1 mm
            write_raster(root / f"pre/{year}/pre_{m + 1:02d}.tif", tenths[m], nodata=-1)
        flux = (f["radiation"] / 30 / 0.0864).astype(np.float32)     # mean flux [W m-2]
        write_raster(root / f"sol/sol_{year}.tif", flux)
        raw[year] = {"tenths": tenths, "flux": flux, "veg": f["vegetation"]}
    # one land-cover file for all years, twice as fine: every 2 x 2 block is one class
    write_raster(root / "lc/landcover_30m_like.tif", np.kron(raw[2005]["veg"], np.ones((2, 2))),
                 transform=from_origin(*ORIGIN, RES / 2, RES / 2), dtype="uint8")
    (root / "study.toml").write_text(STUDY)
    return root / "study.toml", raw


def test_nep_command_on_mixed_inputs(mixed_study, tmp_path):
    import gc

    path, raw = mixed_study
    out = tmp_path / "out"
    frozen = gc.get_freeze_count()
    with pytest.raises(SystemExit) as exit_:
        main(["nep", str(path), "--out", str(out), "--monthly"])
    assert exit_.value.code == 0
    # called in process (not as the executable): this process's collector left alone
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    study = load_study(path)
    grid = study_grid(study)
    t = grid.transform
    X, Y = np.meshgrid(t.c + t.a * (np.arange(grid.width) + 0.5),
                       t.f + t.e * (np.arange(grid.height) + 0.5))
    data = {year: year_dataset(study, year).compute() for year in (2005, 2010)}
    # the bounds pool both years (ndvi_bounds_pool = "study"), by numpy directly
    pooled = np.concatenate([d.ndvi.values.reshape(12, -1) for d in data.values()], axis=1)
    codes = np.concatenate([d.vegetation.values.reshape(-1) for d in data.values()])
    bounds = {}
    for k in casa.vegetation_types().query("vegetated == 1").code:
        v = pooled[:, codes == k]
        v = v[np.isfinite(v)].astype(np.float64)
        if v.size:
            bounds[int(k)] = tuple(np.percentile(v, [5, 95]))
    for year in (2005, 2010):
        ds = data[year]
        # aligned inputs, checked against what was written (by hand)
        np.testing.assert_allclose(ds.temperature.values[4], linear_temperature(X, Y, 4),
                                   atol=1e-3)
        np.testing.assert_allclose(ds.precipitation.values, raw[year]["tenths"] / 10, rtol=1e-6)
        np.testing.assert_allclose(ds.radiation.values[1],
                                   raw[year]["flux"][1] * days_in_months(year)[1] * 0.0864,
                                   rtol=1e-6)
        np.testing.assert_array_equal(ds.vegetation.values,
                                      casa.to_casa_codes(raw[2005]["veg"], "cas-lucc"))
        # the NEP grid is casa.annual_nep on the aligned inputs
        nep = casa.annual_nep(ds.ndvi.values, ds.temperature.values, ds.precipitation.values,
                              ds.radiation.values, ds.vegetation.values, classes="casa",
                              bounds=bounds)
        with rasterio.open(out / f"grids/{year}/nep.tif") as src:
            got = src.read(1)
            assert src.tags()["units"] == "g C m-2 yr-1"
        np.testing.assert_array_equal(got, np.where(np.isnan(nep), -9999, nep).astype(np.float32))
        with rasterio.open(out / f"grids/{year}/npp_monthly.tif") as src:
            assert src.count == 12 and src.tags()["units"] == "g C m-2 month-1"
    table = pd.read_csv(out / "tables/ndvi_bounds.csv")
    assert sorted(set(table["year"])) == [2005, 2010]
    assert set(table["pool"]) == {"study"} and set(table["pool_years"]) == {"2005-2010"}
    assert set(table["pool_area"]) == {"grid"}
    log = (out / "run.log").read_text()
    assert "temperature 2010" in log and "reprojected/resampled (bilinear)" in log
    assert "0.1 mm/month -> mm/month" in log and "vegetation 2005" in log


def test_nep_command_refuses_bad_input_with_exit_2(mixed_study, tmp_path, capsys):
    path, _ = mixed_study
    path.write_text(path.read_text().replace('units = "K"', 'units = "degC"'))
    with pytest.raises(SystemExit) as exit_:
        main(["nep", str(path), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.replace("\n", "")      # rich wraps long lines
    assert "t2m_2005.nc" in err and "kelvin" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
