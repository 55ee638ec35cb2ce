"""Too little valid data inside the units is an error naming the file (issue 15, item 3).
Before, an all-nodata NDVI year or climate file turned the year "unclassified" without
naming the culprit (exit 0). Generated data."""

from __future__ import annotations

import numpy as np
import pytest

from carbon_balance.grid import valid_share
from tests.grid.synthetic import SHAPE, climate, write_raster

from .studies import cli, flat, full_study

#: Rows and columns covering both generated units (110.05-110.55 E, 29.65-29.95 N on the
#: 0.01° grid from 110 E, 30 N) with one cell to spare on every side.
AROUND_UNITS = (slice(4, 36), slice(4, 56))


def test_count_and_message_by_hand():
    values = np.ones((12, 2, 3), np.float32)
    values[:3, 0, 0] = np.nan                     # 3 missing months in a cell inside
    values[:, 1, 2] = np.inf                      # not finite, but outside
    inside = np.array([[True, True, False], [False, False, False]])
    assert valid_share.count(values, inside) == (21, 24)
    assert valid_share.count(values, None) == (57, 72)
    assert valid_share.add({"t": (21, 24)}, {"t": (0, 8)}) == {"t": (21, 32)}
    assert valid_share.share_problem("temperature", 21, 32, files=["t.tif"], year=2005,
                                     threshold=0.5) is None
    p = valid_share.share_problem("temperature", 5, 20, files=["t.tif"], year=2005,
                                  threshold=0.5)
    assert p.fatal and p.file == "t.tif" and p.key == "inputs.temperature.path"
    assert "only 25.0% of the temperature values (cell-months) inside the units are valid" \
        in p.message and "in 2005" in p.message and "min_valid_fraction" in p.fix
    monthly = [f"ndvi/ndvi_2005_{m:02d}.tif" for m in range(1, 13)]
    p = valid_share.share_problem("ndvi", 0, 10, files=monthly, year=2005, threshold=0.5)
    assert p.file == "ndvi/ndvi_2005_{01..12}.tif" and p.message.startswith("none of the NDVI")


def _all_nodata_ndvi(study):
    write_raster(study.parent / "ndvi/ndvi_2005.tif", np.full((12, *SHAPE), -3000, np.int16),
                 nodata=-3000)


@pytest.mark.parametrize("command", ["validate", "run"])
def test_all_nodata_ndvi_year_names_the_file(tmp_path, command):
    study = full_study(tmp_path / "s")
    _all_nodata_ndvi(study)
    args = [command, study] + (["--out", tmp_path / "out"] if command == "run" else [])
    res = cli(*args, timeout=180)
    err = flat(res.stderr)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert "ndvi_2005.tif [inputs.ndvi.path]: no valid ndvi value in the file" in err
    assert not (tmp_path / "out").exists()


def _monthly_ndvi(study, ndvi):
    for m in range(12):
        write_raster(study.parent / f"ndvi/ndvi_2005_{m + 1:02d}.tif", ndvi[m], nodata=-3000)
    study.write_text(study.read_text().replace('"ndvi/ndvi_{year}.tif"',
                                               '"ndvi/ndvi_{year}_{month:02d}.tif"'))


def test_ndvi_missing_inside_the_units_stops_nep_naming_the_pattern(tmp_path):
    """Valid around the units (so validate's sample sees data), nodata inside them."""
    study = full_study(tmp_path / "s")
    ndvi = climate(1)["ndvi"]
    ndvi[(slice(None), *AROUND_UNITS)] = -3000
    _monthly_ndvi(study, ndvi)
    assert cli("validate", study, timeout=120).returncode == 0
    res = cli("nep", study, "--out", tmp_path / "out", timeout=180)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "ndvi/ndvi_2005_{01..12}.tif [inputs.ndvi.path]: none of the NDVI values" in err
    assert "inside the units are valid (not nodata, finite) in 2005" in err
    assert not (tmp_path / "out").exists()
    # the threshold is the study's: with 0 the same study runs
    study.write_text(study.read_text() + "\n[checks]\nmin_valid_fraction = 0\n")
    res = cli("nep", study, "--out", tmp_path / "out", timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]


def test_temperature_missing_inside_the_units_stops_run(tmp_path):
    study = full_study(tmp_path / "s")
    t = climate(1)["temperature"]
    t[(slice(None), *AROUND_UNITS)] = -9999
    write_raster(study.parent / "climate/tmp_2005.tif", t, nodata=-9999)
    res = cli("run", study, "--out", tmp_path / "out", timeout=240)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "tmp_2005.tif [inputs.temperature.path]: none of the temperature values " \
        "(cell-months) inside the units are valid" in err
    assert not (tmp_path / "out").exists()


def test_min_valid_fraction_is_a_share(tmp_path):
    study = full_study(tmp_path / "s")
    study.write_text(study.read_text() + "\n[checks]\nmin_valid_fraction = 50\n")
    res = cli("validate", study, timeout=120)
    assert res.returncode == 2 and "[checks.min_valid_fraction]" in flat(res.stderr)
