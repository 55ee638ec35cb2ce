"""Per-pixel attribution of the NEP change (generated data)."""

from __future__ import annotations

import numpy as np
import pytest

from carbon_balance.analysis.attribution import DRIVERS
from carbon_balance.casa import table_bounds
from carbon_balance.grid.attribution import LAYERS, attribution_arrays, write_attribution
from carbon_balance.grid.nep import write_grids
from carbon_balance.study import load_study

from .synthetic import SEASON, read, write_study

BOUNDS = table_bounds("casa")


def _year(seed, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    h, w = shape
    return {"ndvi": (0.5 + 0.3 * SEASON + 0.05 * rng.standard_normal((12, h, w))).astype(np.float32),
            "temperature": (16 + 12 * SEASON + rng.standard_normal((12, h, w))).astype(np.float32),
            "precipitation": (40 + 150 * rng.random((12, h, w))).astype(np.float32),
            "radiation": (420 + 200 * SEASON + 20 * rng.random((12, h, w))).astype(np.float32),
            "vegetation": rng.choice([6, 9, 10], size=(h, w)).astype(np.float32)}


def _nep(d):
    from carbon_balance.grid.evaluate import carbon_arrays

    return carbon_arrays(d["ndvi"], d["temperature"], d["precipitation"], d["radiation"],
                         d["vegetation"], bounds=BOUNDS)[2].astype(float)


@pytest.mark.parametrize("driver", DRIVERS)
def test_one_input_changes_it_takes_the_whole_change(driver):
    from carbon_balance.grid.attribution import INPUT_OF

    first = _year(1)
    second = dict(first, **{INPUT_OF[driver]: _year(2)[INPUT_OF[driver]]})
    out = dict(zip(LAYERS, attribution_arrays(first, second, bounds=BOUNDS).astype(float)))
    change = _nep(second) - _nep(first)
    assert np.abs(change).max() > 1          # the change is not nothing
    np.testing.assert_allclose(out["nep_change"], change, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(out[driver], change, rtol=1e-6, atol=1e-3)
    for other in DRIVERS:
        if other != driver:
            assert (out[other] == 0).all(), other
    assert np.abs(out["interaction"]).max() < 1e-3


def test_built_up_cell_gives_its_nep_to_land_cover_and_nodata_counts_zero():
    first = _year(3)
    second = {k: v.copy() for k, v in first.items()}
    second["vegetation"][0, 0] = 0            # cropland/forest -> built-up (casa type 0)
    second["ndvi"][:, 1, 1] = np.nan          # no NDVI in year 2 at (1, 1)
    for d in (first, second):                 # no data in either year at (2, 3)
        d["temperature"][:, 2, 3] = np.nan
    nep1 = _nep(first)
    out = dict(zip(LAYERS, attribution_arrays(first, second, bounds=BOUNDS).astype(float)))
    assert out["land_cover"][0, 0] == pytest.approx(-nep1[0, 0], rel=1e-6)
    assert out["nep_change"][0, 0] == pytest.approx(-nep1[0, 0], rel=1e-6)
    assert out["ndvi"][1, 1] == pytest.approx(-nep1[1, 1], rel=1e-6)
    assert out["nep_change"][1, 1] == pytest.approx(-nep1[1, 1], rel=1e-6)
    assert all(np.isnan(out[k][2, 3]) for k in LAYERS)
    np.testing.assert_allclose(out["nep_from"], nep1, rtol=1e-6)
    # elsewhere nothing changed
    mask = np.ones(nep1.shape, bool)
    mask[0, 0] = mask[1, 1] = mask[2, 3] = False
    assert (out["nep_change"][mask] == 0).all()


def test_grids_add_up_and_match_the_nep_grids(tmp_path):
    path, _ = write_study(tmp_path / "s", years=(2005, 2010))
    study = load_study(path)
    grids = write_grids(study, tmp_path / "nep", progress=False)
    files = write_attribution(study, tmp_path / "a", 2005, 2010, progress=False)
    assert sorted(files) == sorted(LAYERS)
    assert files["ndvi"] == tmp_path / "a" / "attribution" / "2005_2010" / "ndvi.tif"
    layers = {k: read(p, 1).astype(float) for k, p in files.items()}
    for v in layers.values():
        v[v == -9999] = np.nan
    n1, n2 = (read(grids[y]["nep"], 1).astype(float) for y in (2005, 2010))
    n1[n1 == -9999] = np.nan
    n2[n2 == -9999] = np.nan
    both = np.isnan(n1) & np.isnan(n2)
    assert both.any() and not both.all()
    assert np.isnan(layers["nep_change"][both]).all()
    np.testing.assert_allclose(layers["nep_from"], n1, atol=1e-3)   # NaN where n1 is
    expected = np.where(np.isnan(n2), 0, n2) - np.where(np.isnan(n1), 0, n1)
    np.testing.assert_allclose(layers["nep_change"][~both], expected[~both], atol=2e-3)
    total = sum(layers[k] for k in (*DRIVERS, "interaction"))
    np.testing.assert_allclose(total[~both], layers["nep_change"][~both], atol=2e-3)
    # every driver differs between the generated years: each contributes somewhere
    for k in DRIVERS:
        assert np.nanmax(np.abs(layers[k])) > 1, k
    # another chunk size (edges of 7 x 7 chunks) gives the same grids
    other = write_attribution(study, tmp_path / "b", 2005, 2010, progress=False, chunks=(7, 7))
    for k in LAYERS:
        np.testing.assert_array_equal(read(other[k], 1), read(files[k], 1), err_msg=k)
