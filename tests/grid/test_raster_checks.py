"""Each raster problem is found, named (file, key) and refused at run time too."""

import numpy as np
import pytest
from rasterio.transform import from_origin

from carbon_balance.errors import ProblemsError
from carbon_balance.grid.raster_checks import raster_problems
from carbon_balance.grid.nep import write_grids
from carbon_balance.study import load_study

from .synthetic import ORIGIN, write_raster, write_study


def _problems(path):
    return [p for p in raster_problems(load_study(path)) if p.fatal]


def _one(path, file_part, key):
    found = [p for p in _problems(path) if file_part in (p.file or "") and p.key == key]
    assert len(found) == 1, _problems(path)
    assert found[0].fix
    return found[0]


@pytest.fixture
def study(tmp_path):
    path, fields = write_study(tmp_path / "s")
    return path, fields, tmp_path / "s"


def test_clean_study_has_no_problems(study):
    assert _problems(study[0]) == []


def test_missing_file(study):
    path, _, root = study
    (root / "climate/pre_2005.tif").unlink()
    assert "not found" in _one(path, "pre_2005", "inputs.precipitation.path").message


def test_corrupt_geotiff(study):
    path, _, root = study
    (root / "climate/sol_2005.tif").write_bytes(b"II*\x00" + b"\x17" * 300)
    assert "corrupt" in _one(path, "sol_2005", "inputs.radiation.path").message


def test_missing_crs(study):
    path, f, root = study
    write_raster(root / "climate/tmp_2005.tif", f[2005]["temperature"], crs=None)
    assert "coordinate reference system" in _one(path, "tmp_2005", "inputs.temperature.path").message


def test_wrong_band_count(study):
    path, f, root = study
    write_raster(root / "climate/pre_2005.tif", f[2005]["precipitation"][:11])
    p = _one(path, "pre_2005", "inputs.precipitation.path")
    assert "11 band" in p.message and "12 needed" in p.message


def test_not_covering_the_grid(study):
    path, f, root = study
    write_raster(root / "climate/sol_2005.tif", f[2005]["radiation"][:, :20, :],
                 transform=from_origin(*ORIGIN, 0.01, 0.01))
    assert "does not cover" in _one(path, "sol_2005", "inputs.radiation.path").message


def test_ndvi_outside_range_after_scaling(study):
    path, _, _ = study
    path.write_text(path.read_text().replace("scale = 0.0001\n", ""))
    p = _one(path, "ndvi_2005", "inputs.ndvi.scale")
    assert "outside -1..1" in p.message and "0.0001" in p.fix


def test_kelvin_declared_celsius(study):
    path, f, root = study
    write_raster(root / "climate/tmp_2005.tif", f[2005]["temperature"] + 273.15)
    p = _one(path, "tmp_2005", "inputs.temperature.units")
    assert "kelvin" in p.fix and '"K"' in p.fix


def test_tenths_of_degree_declared_celsius(study):
    path, f, root = study
    write_raster(root / "climate/tmp_2005.tif", np.round(f[2005]["temperature"] * 10) - 100)
    assert '"0.1 degC"' in _one(path, "tmp_2005", "inputs.temperature.units").fix


def test_negative_precipitation(study):
    path, f, root = study
    p = f[2005]["precipitation"].copy()
    p[3, 5, 5] = -9999        # an undeclared fill value
    write_raster(root / "climate/pre_2005.tif", p)
    prob = _one(path, "pre_2005", "inputs.precipitation.nodata")
    assert "negative precipitation" in prob.message and "-9999" in prob.message


def test_implausible_radiation_for_declared_units(study):
    path, _, _ = study
    # MJ m-2 month-1 values (about 220..640) declared as a W m-2 mean flux: x 2.6 per month
    path.write_text(path.read_text().replace('units = "MJ/m2/month"', 'units = "W/m2"'))
    p = _one(path, "sol_2005", "inputs.radiation.units")
    assert "above 1300" in p.message and '"MJ/m2/month"' in p.fix


def test_daily_radiation_declared_monthly(study):
    path, f, root = study
    write_raster(root / "climate/sol_2005.tif", f[2005]["radiation"] / 30)   # MJ m-2 day-1
    assert "implausibly low" in _one(path, "sol_2005", "inputs.radiation.units").message


def test_vegetation_code_missing_from_table(study):
    path, f, root = study
    veg = f[2005]["vegetation"].copy()
    veg[7, 7] = 77
    write_raster(root / "lc/lc_2005.tif", veg)
    p = _one(path, "lc_2005", "inputs.vegetation.classes")
    assert "77" in p.message and "cas-lucc" in p.message


def test_refused_at_run_time_with_the_same_message(study, tmp_path):
    path, f, root = study
    veg = f[2005]["vegetation"].copy()
    veg[7, 7] = 77
    write_raster(root / "lc/lc_2005.tif", veg)
    p = f[2005]["precipitation"].copy()
    p[3, 5, 5] = -5
    write_raster(root / "climate/pre_2005.tif", p)
    checked = {(q.message, q.key) for q in _problems(path)}
    # the grid passes alone, without the up-front checks, must refuse the same things
    with pytest.raises(ProblemsError) as err:
        write_grids(load_study(path), tmp_path / "out", progress=False)
    assert {(q.message, q.key) for q in err.value.problems} <= checked
    assert any("77" in q.message for q in err.value.problems)
    write_raster(root / "lc/lc_2005.tif", f[2005]["vegetation"])
    with pytest.raises(ProblemsError) as err:
        write_grids(load_study(path), tmp_path / "out2", progress=False)
    assert [(q.message, q.key) for q in err.value.problems] == \
        [q for q in checked if "precipitation" in q[0]]
