"""``carbon-balance demo --years``: any years 2000-2021 of the demo's data (issue 16).

All NDVI and climate inputs here are GENERATED (carbon_balance.demo.generate), on a
coarse 0.1 deg grid so that the tests take seconds."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import rasterio
from typer.testing import CliRunner

from carbon_balance import demo as demo_module
from carbon_balance.demo.generate import STUDY_YEARS, demo_years, make_demo_inputs
from carbon_balance.errors import InputError
from carbon_balance.study import load_study

RASTERS = ("ndvi/ndvi_{year}.tif", "climate/tmp_{year}.tif", "climate/pre_{year}.tif",
           "climate/sol_{year}.tif")
#: The ten Jiangxi cities, whose GDP the source leaves empty in 2017 and 2018.
JIANGXI = ("360100", "360200", "360300", "360400", "360500", "360600", "360800", "360900",
           "361000", "361100")


@pytest.fixture(scope="module")
def decade(tmp_path_factory):
    """The demo study of 2008-2017 on a 0.1 deg grid."""
    return make_demo_inputs(tmp_path_factory.mktemp("decade"), resolution=0.1,
                            years="2008-2017")


def test_the_demo_option_parses_and_reaches_run_demo(monkeypatch, tmp_path):
    from carbon_balance.cli import app

    seen = {}

    def fake_run_demo(out, *, overwrite, years):
        seen["years"] = years
        return out

    monkeypatch.setattr(demo_module, "run_demo", fake_run_demo)
    runner = CliRunner()
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "o"), "--years", "2001-2020"])
    assert res.exit_code == 0, res.output
    assert seen["years"] == tuple(range(2001, 2021))
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "o"), "--years",
                              "2005, 2008-2010"])
    assert res.exit_code == 0 and seen["years"] == (2005, 2008, 2009, 2010)
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0 and seen["years"] == (2005, 2010, 2015, 2020)


@pytest.mark.parametrize("years, says", [
    ("1999-2001", "no data for 1999"),
    ("2020-2022", "no data for 2022"),
    ("2001-20", "neither a four-digit year"),
])
def test_years_outside_the_data_or_malformed_name_the_option(years, says):
    with pytest.raises(InputError) as info:
        demo_years(years)
    assert info.value.problem.key == "--years" and says in str(info.value)
    assert "2000 to 2021" in str(info.value)


def test_bad_years_on_the_command_line_exit_2_without_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "carbon_balance", "demo", "--out",
                          str(tmp_path / "o"), "--years", "1990-2020"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--years" in res.stderr and "1990" in res.stderr
    assert not (tmp_path / "o").exists()


def test_the_study_file_has_the_years_and_their_generated_inputs(decade):
    study = load_study(decade)
    assert study.study.years == list(range(2008, 2018))
    assert '"2008-2017"' in decade.read_text(encoding="utf-8")
    assert study.study.generated_inputs and "GENERATED" in study.study.generated_note
    assert study.gdp.fill == "arima"      # the Jiangxi cities' 2017 is estimated, flagged
    for year in study.study.years:
        for pattern in RASTERS:
            with rasterio.open(decade.parent / pattern.format(year=year)) as src:
                assert src.count == 12 and src.tags()["generated"] == "true"
    assert not (decade.parent / "ndvi" / "ndvi_2005.tif").exists()


def test_a_year_is_generated_alike_whatever_the_other_years(decade, tmp_path):
    """The four study years are not changed by asking for a series: 2010 of the series
    equals 2010 of the default demo, pixel for pixel."""
    default = make_demo_inputs(tmp_path / "default", resolution=0.1)
    assert load_study(default).study.years == list(STUDY_YEARS)
    for pattern in RASTERS:
        name = pattern.format(year=2010)
        with rasterio.open(decade.parent / name) as a, rasterio.open(default.parent / name) as b:
            np.testing.assert_array_equal(a.read(), b.read())
    # and the years differ from each other (a series, not one year copied)
    with rasterio.open(decade.parent / "climate/pre_2010.tif") as a, \
            rasterio.open(decade.parent / "climate/pre_2011.tif") as b:
        assert not np.array_equal(a.read(), b.read())


@pytest.mark.slow   # ten ARIMA searches: about a minute on a busy machine
def test_the_gdp_gap_of_the_source_is_estimated_and_flagged(decade):
    from carbon_balance.accounting.gdp import estimate_gdp
    from carbon_balance.pipeline import study_units

    study = load_study(decade)
    units = study_units(study)
    gdp = estimate_gdp(study, list(units.unit_id), workers=1).set_index(["unit_id", "year"])
    raw = pd.read_csv(study.resolve(study.gdp.path), dtype={"adcode": str}).set_index(
        ["adcode", "year"])["gdp_1e8_yuan"]
    for adcode in JIANGXI:
        row = gdp.loc[(adcode, 2017)]
        assert bool(row.gdp_estimated)
        # between the reported 2016 and 2019 values, give or take a year of growth
        low = min(raw[(adcode, 2016)], raw[(adcode, 2019)]) * 0.8
        high = max(raw[(adcode, 2016)], raw[(adcode, 2019)]) * 1.2
        assert low * 1e8 < row.gdp_yuan < high * 1e8
        # a reported year is taken as it is, in yuan
        assert gdp.loc[(adcode, 2016)].gdp_yuan == pytest.approx(raw[(adcode, 2016)] * 1e8)
        assert not bool(gdp.loc[(adcode, 2016)].gdp_estimated)


@pytest.mark.long   # 4 min at load 5 on 2 cores (2 min CPU): ARIMA fits, zonal sums, spatial
def test_an_eight_year_demo_runs_end_to_end(tmp_path):
    """2008-2015 on the 0.1 deg grid, without the report and the Monte Carlo."""
    from carbon_balance.pipeline import run_study

    study = make_demo_inputs(tmp_path / "in", resolution=0.1, years="2008-2015")
    t0 = time.perf_counter()
    out = run_study(study, tmp_path / "out", report=False)
    print(f"8-year demo at 0.1 deg: {time.perf_counter() - t0:.1f} s")
    units = pd.read_csv(out / "tables" / "units.csv")
    assert sorted(units.year.unique()) == list(range(2008, 2016))
    assert len(units) == 31 * 8
    assert all((out / "grids" / str(y) / "nep.tif").exists() for y in range(2008, 2016))
    # emissions beyond the CEADs years would be estimated; these are all inventory years
    assert not units.ce_estimated.any()
    region = pd.read_csv(out / "tables" / "region.csv")
    assert sorted(region.year) == list(range(2008, 2016))
