"""End to end: the grids equal casa on the aligned inputs, whatever the chunks or scheduler."""

import json

import numpy as np
import pandas as pd
import pytest
import rasterio

from carbon_balance import casa
from carbon_balance.grid.evaluate import carbon_dataset
from carbon_balance.grid.nep import run_nep, write_grids
from carbon_balance.grid.readers import study_year_dataset as year_dataset
from carbon_balance.study import load_study

from .synthetic import model_inputs, read


def _reference(fields, bounds="percentile", **kw):
    return casa.annual_carbon(*model_inputs(fields), classes="cas-lucc", bounds=bounds, **kw)


def _as_file(a):
    return np.where(np.isnan(a), np.float32(-9999), a).astype(np.float32)


def test_dask_tiny_chunks_equal_numpy(study_2005):
    path, fields = study_2005
    study = load_study(path)
    ref = _reference(fields[2005], monthly=True)
    ds = year_dataset(study, 2005, chunks=(7, 5))
    assert ds.ndvi.data.chunksize == (12, 7, 5)
    got = carbon_dataset(ds, ref["bounds"], monthly=True).compute(scheduler="threads")
    for q in ("npp", "rh", "nep"):
        np.testing.assert_array_equal(got.sel(quantity=q).values, ref[q])
    np.testing.assert_array_equal(got.sel(quantity="npp_monthly_07").values,
                                  ref["npp_monthly"][6])
    # the aligned vegetation is the CAS-LUCC raster cross-walked to CASA codes
    np.testing.assert_array_equal(
        ds.vegetation.values, casa.to_casa_codes(fields[2005]["vegetation"], "cas-lucc"))


def test_run_nep_outputs_equal_annual_nep(study_2005, tmp_path):
    path, fields = study_2005
    out = run_nep(path, tmp_path / "out", progress=False)
    ref = _reference(fields[2005])
    nep = read(out / "grids/2005/nep.tif", 1)
    np.testing.assert_array_equal(nep, _as_file(casa.annual_nep(
        *model_inputs(fields[2005]), classes="cas-lucc")))
    np.testing.assert_array_equal(read(out / "grids/2005/npp.tif", 1), _as_file(ref["npp"]))
    with rasterio.open(out / "grids/2005/nep.tif") as src:
        assert src.nodata == -9999 and src.dtypes[0] == "float32"
        assert src.tags()["units"] == "g C m-2 yr-1"
        assert src.tags()["generated_inputs"].startswith("true")
        assert src.profile["tiled"] and src.overviews(1) == []  # too small for overviews
        assert src.driver == "GTiff"
    bounds = pd.read_csv(out / "tables/ndvi_bounds.csv", float_precision="round_trip")
    assert list(bounds.columns[:7]) == ["year", "code", "name", "ndvi_min", "ndvi_max",
                                        "n_pixels", "mode"]
    for row in bounds.itertuples():
        assert (row.ndvi_min, row.ndvi_max) == ref["bounds"][row.code]
    # n_pixels: cells of the CASA type on the grid, counted by hand from the CAS-LUCC codes
    cropland = bounds.set_index("code").loc[10, "n_pixels"]
    assert cropland == (fields[2005]["vegetation"] == 11).sum()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "nep"
    assert (out / "grids/2005/nep.qml").is_file()   # opens styled in QGIS, as after run
    assert any(i["path"].endswith("ndvi_2005.tif") for i in manifest["inputs"])
    assert (out / "study.toml").exists() and "ndvi 2005" in (out / "run.log").read_text()


def test_results_do_not_depend_on_chunks(study_2005, tmp_path):
    path, _ = study_2005
    study = load_study(path)
    a = write_grids(study, tmp_path / "a", chunks=(13, 11), progress=False, monthly=True)
    b = write_grids(study, tmp_path / "b", chunks=(64, 64), progress=False, monthly=True)
    for q in ("npp", "rh", "nep", "nep_monthly"):
        np.testing.assert_array_equal(read(a[2005][q]), read(b[2005][q]))
    assert read(a[2005]["nep_monthly"]).shape == (12, 40, 60)


def test_table_bounds_mode(tmp_path):
    from .synthetic import STUDY, write_study

    text = STUDY.format(years=[2005]) + '\n[casa]\nndvi_bounds = "table"\n'
    path, fields = write_study(tmp_path / "s", text=text)
    out = run_nep(path, tmp_path / "out", progress=False)
    ref = _reference(fields[2005], bounds="table")
    np.testing.assert_array_equal(read(out / "grids/2005/nep.tif", 1), _as_file(ref["nep"]))
    table = pd.read_csv(out / "tables/ndvi_bounds.csv", float_precision="round_trip")
    assert set(table["mode"]) == {"table"}
    assert table.set_index("code").loc[10, "ndvi_max"] == 0.634   # Zhu et al. 2007, grass row


@pytest.mark.slow
def test_local_cluster_gives_identical_files(study_2005, tmp_path):
    path, _ = study_2005
    a = run_nep(path, tmp_path / "threads", progress=False)
    b = run_nep(path, tmp_path / "cluster", workers=2, progress=False)
    for q in ("npp", "rh", "nep"):
        assert (a / f"grids/2005/{q}.tif").read_bytes() == (b / f"grids/2005/{q}.tif").read_bytes()


def test_resampled_ndvi_percentiles_exact_via_refinement(tmp_path):
    """On a coarser study grid NDVI is bilinear-resampled, no longer quantised: the
    bounds still equal numpy's percentile of the aligned values."""
    from .synthetic import STUDY, write_study

    text = STUDY.format(years=[2005]) + "resolution = 0.03\nbounds = [110.0, 29.61, 110.6, 30.0]\n"
    path, _ = write_study(tmp_path / "s", text=text)
    out = run_nep(path, tmp_path / "out", progress=False)
    ds = year_dataset(load_study(path), 2005).compute()
    table = pd.read_csv(out / "tables/ndvi_bounds.csv", float_precision="round_trip")
    assert len(table) >= 3
    for row in table.itertuples():
        values = ds.ndvi.values[:, ds.vegetation.values == row.code]
        values = values[~np.isnan(values)].astype(np.float64)
        assert (row.ndvi_min, row.ndvi_max) == tuple(np.percentile(values, [5, 95]))
