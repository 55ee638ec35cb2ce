"""``attribute`` on generated studies (issue 16 "done when"): where only one input differs
between the two years, the whole CS change goes to it; the per-unit tables add up."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from carbon_balance.analysis.attribution import DRIVERS
from carbon_balance.attribute import run_attribution
from carbon_balance.errors import InputError
from carbon_balance.grid.attribution import INPUT_OF

from .synthetic import STUDY, climate, write_raster

UNITS = """
[units]
path = "units.gpkg"
id = "code"
name = "name"
group = "agglomeration"
"""
# three generated units on the generated grid (110-110.6 E, 29.6-30 N); the third
# straddles the grid's nodata corner and has no group
BOXES = [("A1", "a", "North", box(110.05, 29.8, 110.3, 29.98)),
         ("A2", "b", "North", box(110.3, 29.75, 110.55, 29.95)),
         ("B1", "c", None, box(110.0, 29.6, 110.25, 29.8))]


def _study(root, fields):
    """A generated study of 2005 and 2020 with ``fields`` = {year: inputs} and three units."""
    for year, f in fields.items():
        write_raster(root / f"ndvi/ndvi_{year}.tif", f["ndvi"], nodata=-3000)
        write_raster(root / f"climate/tmp_{year}.tif", f["temperature"])
        write_raster(root / f"climate/pre_{year}.tif", f["precipitation"])
        write_raster(root / f"climate/sol_{year}.tif", f["radiation"])
        write_raster(root / f"lc/lc_{year}.tif", f["vegetation"])
    gpd.GeoDataFrame({"code": [b[0] for b in BOXES], "name": [b[1] for b in BOXES],
                      "agglomeration": [b[2] for b in BOXES]},
                     geometry=[b[3] for b in BOXES], crs="EPSG:4326").to_file(root / "units.gpkg")
    path = root / "study.toml"
    path.write_text(STUDY.format(years=sorted(fields)) + UNITS)
    return path


def _read(out, name):
    return pd.read_csv(out / "tables" / name, dtype={"unit_id": str})


@pytest.mark.parametrize("driver", DRIVERS)
def test_only_one_input_differs_it_gets_the_whole_cs_change(tmp_path, driver):
    first = climate(1)
    second = dict(first, **{INPUT_OF[driver]: climate(2)[INPUT_OF[driver]]})
    path = _study(tmp_path / "s", {2005: first, 2020: second})
    out = run_attribution(path, tmp_path / "out", year_from=2005, year_to=2020)
    t = _read(out, "attribution.csv")
    assert list(t.columns[:10]) == ["unit_id", "from_year", "to_year", "cs_change_t_c",
                                    "ndvi_t_c", "temperature_t_c", "precipitation_t_c",
                                    "radiation_t_c", "land_cover_t_c", "interaction_t_c"]
    assert list(t.unit_id) == ["A1", "A2", "B1"]
    change = t.cs_change_t_c.to_numpy()
    assert (np.abs(change) > 1).all()          # tonnes of C: the change is not nothing
    np.testing.assert_allclose(t[f"{driver}_t_c"], change, rtol=1e-5)
    for other in DRIVERS:
        if other != driver:
            np.testing.assert_allclose(t[f"{other}_t_c"], 0, atol=1e-9)
    np.testing.assert_allclose(t.interaction_t_c, 0, atol=1e-5 * np.abs(change).max())
    g = _read(out, "attribution_groups.csv")
    region = g[g.level == "region"].iloc[0]
    assert region[f"{driver}_t_c"] == pytest.approx(change.sum(), rel=1e-5)


def test_all_inputs_differ_tables_add_up_and_match_the_cs_of_each_year(tmp_path):
    from carbon_balance.accounting.boundaries import load_units
    from carbon_balance.accounting.zonal import zonal_carbon
    from carbon_balance.grid.nep import write_grids
    from carbon_balance.study import load_study

    path = _study(tmp_path / "s", {2005: climate(1), 2020: climate(2)})
    out = run_attribution(path, tmp_path / "out", year_from=2005, year_to=2020)
    t = _read(out, "attribution.csv")
    parts = t[[f"{d}_t_c" for d in DRIVERS] + ["interaction_t_c"]].sum(axis=1)
    np.testing.assert_allclose(parts, t.cs_change_t_c, rtol=1e-5)
    # the CS change is the difference of the zonal sums of the two years' NEP grids
    # (written by `nep`, summed as `run` sums CS)
    study = load_study(path)
    grids = write_grids(study, tmp_path / "nep", progress=False)
    units = load_units(tmp_path / "s" / "units.gpkg", id="code", name="name",
                       group="agglomeration")
    cs = zonal_carbon(units, grids).pivot(index="unit_id", columns="year", values="cs_t_c")
    np.testing.assert_allclose(t.cs_change_t_c, (cs[2020] - cs[2005]).to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(t.cs_from_t_c, cs[2005].to_numpy(), rtol=1e-5)
    # no [emissions]: the CB columns are empty
    assert t.ce_change_t_co2.isna().all() and t.cb_change_t.isna().all()
    g = _read(out, "attribution_groups.csv").set_index("level")
    north = t[t.unit_id.isin(["A1", "A2"])].cs_change_t_c.sum()
    assert g.loc["group"].group == "North"
    assert g.loc["group"].cs_change_t_c == pytest.approx(north)
    assert g.loc["region"].cs_change_t_c == pytest.approx(t.cs_change_t_c.sum())
    for layer in ("nep_change", "interaction", *DRIVERS):
        assert (out / "attribution" / "2005_2020" / f"{layer}.tif").exists()
    assert (out / "manifest.json").exists()
    for name in ("attribution_waterfall.png", "attribution_dominant_driver.png",
                 "attribution_dominant_driver.svg"):
        assert (out / "figures" / name).exists(), name


@pytest.mark.parametrize("years, match", [((2005, 2005), "same year"),
                                          ((2004, 2020), "2004 is not a year of the study")])
def test_years_must_be_two_study_years(tmp_path, years, match):
    path = _study(tmp_path / "s", {2005: climate(1), 2020: climate(2)})
    with pytest.raises(InputError, match=match):
        run_attribution(path, tmp_path / "out", year_from=years[0], year_to=years[1])
    assert not (tmp_path / "out").exists()
