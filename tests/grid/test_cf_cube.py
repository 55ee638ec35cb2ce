"""The CF-1.8 cube of ``run --format netcdf``: read back with xarray's CF decoding, it
holds the same values as the COGs, with units, standard names, cell methods, a grid
mapping and time bounds on every variable."""

import numpy as np
import pytest
import rasterio
import xarray as xr

from carbon_balance.grid.cf_cube import CF_UNITS, CF_VARIABLES, write_cf_cube

from .synthetic import write_study


@pytest.fixture(scope="module")
def nep_folder(tmp_path_factory):
    from carbon_balance.grid.nep import run_nep

    tmp = tmp_path_factory.mktemp("cube")
    path, _ = write_study(tmp / "study", years=(2005, 2006))
    return run_nep(path, tmp / "out", progress=False)


def test_cube_reads_back_with_cf_decoding(nep_folder):
    path = write_cf_cube(nep_folder, [2005, 2006], study_name="synthetic",
                         generated_note="all inputs generated", chunks=16)
    assert path == nep_folder / "grids" / "carbon.nc"
    assert not list(path.parent.glob(".*partial"))
    ds = xr.open_dataset(path, decode_cf=True, decode_coords="all")
    assert ds.attrs["Conventions"] == "CF-1.8" and "GENERATED" in ds.attrs["comment"]
    assert list(ds["time"].dt.year.values) == [2005, 2006]
    bounds = ds["time_bnds"].values
    assert str(bounds[0, 0])[:10] == "2005-01-01" and str(bounds[0, 1])[:10] == "2006-01-01"
    assert ds.rio.crs is not None
    for q, attrs in CF_VARIABLES.items():
        v = ds[q]
        assert v.dims == ("time", "y", "x")
        assert v.attrs["units"] == CF_UNITS == "g m-2 yr-1"
        assert v.attrs["standard_name"] == attrs["standard_name"]
        assert "time: mean" in v.attrs["cell_methods"]
        assert v.encoding["_FillValue"] == -9999
        for i, year in enumerate((2005, 2006)):
            with rasterio.open(nep_folder / "grids" / str(year) / f"{q}.tif") as src:
                tif = src.read(1, masked=True).filled(np.nan)
            np.testing.assert_array_equal(v.isel(time=i).values, tif)
    for name in ("x", "y", "time"):
        assert ds[name].attrs.get("axis") == name.upper() or name == "time"


def test_run_format_netcdf_reaches_the_pipeline(tmp_path, monkeypatch):
    """``run --format netcdf`` asks run_study for the cube; the default does not."""
    import carbon_balance.pipeline as pipeline
    from carbon_balance.cli import main

    calls = []
    monkeypatch.setattr(pipeline, "run_study", lambda *a, **kw: calls.append(kw))
    for extra in ([], ["--format", "netcdf"]):
        with pytest.raises(SystemExit) as exc:
            main(["-q", "run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "o"), *extra])
        assert exc.value.code == 0
    assert [c["netcdf"] for c in calls] == [False, True]
