"""Issue 6 item 2: each error case not already tested elsewhere, through the command line:
exit status 2, no traceback, the file named, and a fix.

Already tested elsewhere (API level, same messages reach the CLI through the same
``Problem``): missing/corrupt/CRS-less/non-covering rasters, band count, NDVI range,
Kelvin / 0.1 °C, negative precipitation, radiation units, vegetation codes
(tests/grid/test_checks.py; the Kelvin case also through ``nep`` in tests/grid/test_cli.py);
TOML syntax (tests/test_cli.py); unknown key (tests/test_study.py, here through the CLI);
duplicate ids, units without CRS, invalid polygons repaired with a warning
(tests/accounting/test_units.py); units missing from tables, years without a fill rule,
GDP <= 0 in the tables, units outside the grid (tests/accounting/test_units.py).
All data here are generated."""

from __future__ import annotations


import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from shapely.geometry import Point, Polygon, box

from carbon_balance.cli import main
from carbon_balance.errors import CarbonBalanceError
from tests.grid.synthetic import ORIGIN, RES, SHAPE, climate, write_raster

from .studies import UNITS, cli, flat, full_study


@pytest.fixture(autouse=True)
def _no_arima_disk_cache(monkeypatch):
    monkeypatch.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")


def run_cli(capsys, *args) -> tuple[int, str]:
    """``carbon-balance ARGS`` in this process: (exit status, stderr without wrapping).

    Any exception other than the CLI's own exit propagates and fails the test."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    code = exit_.value.code
    return (0 if code is None else code), flat(capsys.readouterr().err)


def refused(capsys, study, *needles) -> str:
    """``validate STUDY`` exits 2 and its message holds every needle and a fix."""
    code, err = run_cli(capsys, "validate", study)
    assert code == 2, err
    assert "Traceback" not in err and "fix:" in err
    for n in needles:
        assert n in err, (n, err)
    return err


@pytest.fixture
def study(tmp_path):
    return full_study(tmp_path / "s")


def test_clean_study_validates(study, capsys):
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err


# --- missing or unreadable files ----------------------------------------------------------

def test_study_file_not_text(tmp_path, capsys):
    bad = tmp_path / "study.toml"
    bad.write_bytes(b"\xff\xfe\x00\x81 binary")
    refused(capsys, bad, "study.toml", "cannot read the study file", "UTF-8")


def test_study_path_is_a_folder(tmp_path, capsys):
    refused(capsys, tmp_path, str(tmp_path), "cannot read the study file")


def test_units_file_missing(study, capsys):
    (study.parent / "units.gpkg").unlink()
    refused(capsys, study, "units.gpkg", "[units.path]", "units file not found", "check the path")


def test_unreadable_tables_reported_with_the_units_problem(study, capsys):
    """Units, emissions and GDP all broken: every one is reported in the same run."""
    (study.parent / "units.gpkg").unlink()
    (study.parent / "emissions.csv").write_bytes(bytes(range(256)) * 3)
    (study.parent / "gdp.csv").unlink()
    err = refused(capsys, study, "units file not found", "emissions.csv",
                  "cannot read the table", "gdp.csv", "table not found")
    assert "[emissions.path]" in err and "[gdp.path]" in err


def test_raster_path_is_a_folder(study, capsys):
    tif = study.parent / "climate" / "pre_2005.tif"
    tif.unlink()
    tif.mkdir()
    refused(capsys, study, "pre_2005.tif", "[inputs.precipitation.path]", "cannot read the raster")


def test_truncated_geotiff(study, capsys):
    """A valid header with the pixel data cut off: the values cannot be read."""
    tif = study.parent / "climate" / "sol_2005.tif"
    data = tif.read_bytes()
    tif.write_bytes(data[: len(data) // 2])
    refused(capsys, study, "sol_2005.tif", "[inputs.radiation.path]", "corrupt",
            "re-download or re-export")


# --- the study file -----------------------------------------------------------------------

def test_unknown_key_through_the_cli(study):
    study.write_text(study.read_text().replace("[zoning]", "").replace(
        'fill = "naive"', 'fill = "naive"\nfil_rule = "arima"'))
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "study.toml" in err and "unknown key 'fil_rule'" in err and "did you mean 'fill'?" in err


# --- months --------------------------------------------------------------------------------

def test_monthly_files_with_a_month_missing(study, capsys):
    f = climate(1)
    for m in range(1, 12):                     # December is missing
        write_raster(study.parent / f"t/tmp_2005_{m:02d}.tif", f["temperature"][m - 1])
    study.write_text(study.read_text().replace('"climate/tmp_{year}.tif"',
                                               '"t/tmp_{year}_{month:02d}.tif"'))
    err = refused(capsys, study, "tmp_2005_12.tif", "file not found", "{month:02d}")
    assert "tmp_2005_11.tif" not in err


def test_netcdf_with_eleven_months(study, capsys):
    lat = ORIGIN[1] - RES * (np.arange(SHAPE[0]) + 0.5)
    lon = ORIGIN[0] + RES * (np.arange(SHAPE[1]) + 0.5)
    da = xr.DataArray(climate(1)["precipitation"][:11], dims=("time", "lat", "lon"),
                      coords={"time": np.arange(11), "lat": lat, "lon": lon}, name="pre")
    da.lat.attrs.update(units="degrees_north", standard_name="latitude")
    da.lon.attrs.update(units="degrees_east", standard_name="longitude")
    da.to_dataset().rio.write_crs("EPSG:4326").to_netcdf(study.parent / "pre_2005.nc")
    study.write_text(study.read_text().replace('"climate/pre_{year}.tif"', '"pre_{year}.nc"'))
    err = refused(capsys, study, "pre_2005.nc", "11 band(s) / time steps; 12 needed")
    assert "coordinate reference system" not in err


# --- polygons ------------------------------------------------------------------------------

def _units(study, geoms: dict, names=None):
    g = gpd.GeoDataFrame({"code": list(geoms), "label": names or [f"u{k}" for k in geoms]},
                         geometry=list(geoms.values()), crs="EPSG:4326")
    g.to_file(study.parent / "units.gpkg", driver="GPKG")


def test_empty_polygons_refused(study, capsys):
    _units(study, {**UNITS, "E5": Polygon(), "N6": None})
    refused(capsys, study, "units.gpkg", "empty geometry for unit(s) E5, N6",
            "remove these features")


def test_points_are_not_units(study, capsys):
    _units(study, {**UNITS, "P7": Point(110.2, 29.8)})
    refused(capsys, study, "units.gpkg", "not a polygon", "P7 (Point)")


def test_invalid_polygon_repaired_is_a_warning_only(study, capsys):
    bowtie = Polygon([(110.3, 29.65), (110.55, 29.95), (110.55, 29.65), (110.3, 29.95)])
    _units(study, {"A1": UNITS["A1"], "B2": bowtie})
    code, err = run_cli(capsys, "validate", study)
    assert code == 0 and "warning:" in err and "repaired with make_valid: B2" in err


def test_special_names_are_a_warning_only(study, capsys):
    _units(study, UNITS, names=['../<b>&"x"', "a/b\\c:*?|"])
    code, err = run_cli(capsys, "validate", study)
    assert code == 0 and "special in paths or HTML" in err and '../<b>&"x"' in err


# --- the zoning command ---------------------------------------------------------------------

def test_zoning_gdp_not_positive(tmp_path, capsys):
    t = pd.DataFrame({"unit_id": ["a", "b"], "year": 2020, "ce": [1.0, 2.0], "cs": [1.0, 1.0],
                      "gdp": [5.0, 0.0]})
    t.to_csv(tmp_path / "in.csv", index=False)
    code, err = run_cli(capsys, "zoning", tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    assert code == 2 and "in.csv" in err and "GDP <= 0 for unit(s) b" in err
    assert "fix: GDP must be positive" in err and not (tmp_path / "out.csv").exists()


def test_zoning_empty_table_and_missing_year(tmp_path, capsys):
    (tmp_path / "in.csv").write_text("unit_id,year,ce,cs,gdp\n")
    code, err = run_cli(capsys, "zoning", tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    assert code == 2 and "in.csv" in err and "no rows" in err
    (tmp_path / "in.csv").write_text("unit_id,year,ce,cs,gdp\na,2020,1,1,1\nb,,1,1,1\n")
    code, err = run_cli(capsys, "zoning", tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    assert code == 2 and "year missing on line(s) 3" in err and "fix:" in err


# --- run, nep and demo validate before computing ---------------------------------------------

def test_run_with_a_fatal_problem_exits_2_before_computing(study, tmp_path):
    (study.parent / "climate" / "sol_2005.tif").unlink()
    (study.parent / "gdp.csv").write_text("code,2005\nA1,-3\nB2,4\n")
    out = tmp_path / "out"
    res = cli("run", study, "--out", out, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    # both problems, each with its file and fix, in one message
    assert "sol_2005.tif" in err and "GDP <= 0 for: A1" in err and err.count("fix:") >= 2
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))
    assert "NPP, Rh, NEP" not in res.stdout + res.stderr   # the grid engine never started


def test_nep_with_a_fatal_problem_exits_2(study, tmp_path, capsys):
    write_raster(study.parent / "climate/tmp_2005.tif", climate(1)["temperature"], crs=None)
    code, err = run_cli(capsys, "nep", study, "--out", tmp_path / "grids")
    assert code == 2 and "tmp_2005.tif" in err and "coordinate reference system" in err
    assert not (tmp_path / "grids").exists()


def test_demo_validates_first(study, tmp_path):
    """run_demo on a (cached) demo study with a fatal problem refuses before computing."""
    from carbon_balance.demo import run_demo

    (study.parent / "lc" / "lc_2005.tif").unlink()
    (study.parent / ".complete").write_text("test\n")     # the cache marker: reuse as is
    with pytest.raises(CarbonBalanceError) as err:
        run_demo(tmp_path / "results", inputs=study.parent)
    assert "lc_2005.tif" in str(err.value) and "not found" in str(err.value)
    assert not (tmp_path / "results").exists()


# --- a finished run: a unit with no valid pixels, and names special in paths or HTML --------

@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")
    root = tmp_path_factory.mktemp("finished")
    # C3 lies in the generated NDVI's nodata corner (rows 0-1, columns 0-2)
    units = {**UNITS, "C3": box(ORIGIN[0], ORIGIN[1] - 2 * RES, ORIGIN[0] + 3 * RES, ORIGIN[1])}
    names = {"A1": '../<b>&"x"', "B2": "a/b\\c:*?|"}
    study = full_study(root / "s", units=units, names=names)
    res = cli("run", study, "--out", root / "out")
    mp.undo()
    assert res.returncode == 0, res.stderr
    return root / "out", res.stderr


def test_unit_with_no_valid_pixels_is_flagged_not_zoned(finished_run):
    out, log = finished_run
    u = pd.read_csv(out / "tables" / "units.csv", dtype={"unit_id": str}).set_index("unit_id")
    c3 = u.loc["C3"]
    # nodata is not "no carbon": CS is empty (not 0) and the unit is not zoned
    assert np.isnan(c3.cs_t_c) and np.isnan(c3.nep_mean_g_c_m2) and np.isnan(c3.cbi)
    assert c3.zone == "unclassified" and c3.zone_reason.startswith("no valid pixels")
    assert "C3" in flat(log) and "no valid pixels" in flat(log)
    # the other units are zoned as usual
    assert u.loc[["A1", "B2"], "zone"].ne("unclassified").all()
    assert np.isfinite(u.loc[["A1", "B2"], "cs_t_c"]).all()


def test_special_names_escaped_and_never_paths(finished_run):
    out, _ = finished_run
    u = pd.read_csv(out / "tables" / "units.csv", dtype={"unit_id": str}).set_index("unit_id")
    assert u.at["A1", "name"] == '../<b>&"x"'          # the CSV keeps the name as it is
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<b>&"x"' not in html and "&lt;b&gt;&amp;" in html
    files = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert all(".." not in f and "<" not in f and "?" not in f for f in files)
    assert not (out.parent / "<b>&\"x\"").exists() and out.parent.joinpath("out").is_dir()
