"""``validate`` reports everything it can in one run (issue 15, item 4): schema errors do
not hide the files' problems, a fault repeated over many files is one line, and the run
ends with a paragraph saying what the study is. Also the path placeholders refused in the
study file (item 5). All data here are generated."""

from __future__ import annotations

import re

import pytest

from tests.grid.synthetic import climate, write_raster

from .studies import cli, flat, full_study


def _blocks(stderr: str, label: str = "error") -> list[str]:
    return [flat(b) for b in re.split(r"^(?=error: |warning: )", stderr, flags=re.M)
            if b.startswith(f"{label}: ")]


def test_schema_errors_do_not_hide_the_files_problems(tmp_path):
    """The issue's case: before, only the unknown key was listed."""
    study = full_study(tmp_path)
    study.write_text(study.read_text()
                     .replace("chunk_size = 16", "chunk_size = 16\ncolour = \"green\"")
                     .replace('units = "degC"', 'units = "F"'))
    (tmp_path / "gdp.csv").unlink()
    (tmp_path / "climate" / "pre_2005.tif").unlink()
    res = cli("validate", study, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    errors = _blocks(res.stderr)
    expected = [("[grid.colour]", "unknown key 'colour'"),
                ("'F' is not one of",),
                ("gdp.csv", "table not found"),
                ("pre_2005.tif", "file not found")]
    for needles in expected:
        assert sum(all(n in e for n in needles) for e in errors) == 1, (needles, errors)
    assert len(errors) == len(expected), errors
    # the paragraph at the end
    out = flat(res.stdout)
    assert "Study 'generated test study': year 2005" in out and "EPSG:4326" in out
    assert "2 units" in out


def test_a_fault_of_every_monthly_file_is_one_line(tmp_path):
    """Before: a missing NDVI scale gave one line per monthly file (72 for six years)."""
    years = (2005, 2006)
    study = full_study(tmp_path, years=years)
    for i, year in enumerate(years):
        ndvi = climate(1 + i)["ndvi"]
        for m in range(12):
            write_raster(tmp_path / f"ndvi/{year}/ndvi_{m + 1:02d}.tif", ndvi[m], nodata=-3000)
    study.write_text(study.read_text().replace(
        'path = "ndvi/ndvi_{year}.tif"\nscale = 0.0001',
        'path = "ndvi/{year}/ndvi_{month:02d}.tif"'))
    res = cli("validate", study, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    errors = _blocks(res.stderr)
    ndvi = [e for e in errors if "[inputs.ndvi.scale]" in e]
    assert len(ndvi) == 1, errors
    assert "the same in 24 files" in ndvi[0]
    assert "ndvi/{2005..2006}/ndvi_{01..12}.tif" in ndvi[0]


@pytest.mark.parametrize("pattern, needle", [
    ("ndvi/ndvi_{yr}.tif", "unknown placeholder(s) {yr}"),
    ("ndvi/ndvi_{year:s}.tif", "cannot be filled in"),
    ("ndvi/ndvi_{year.tif", "unbalanced braces"),
    ("ndvi/ndvi_{0}.tif", "unknown placeholder(s) {0}"),
])
def test_path_placeholders_refused_in_the_study_file(tmp_path, pattern, needle):
    """Before: a KeyError or ValueError traceback when the paths were filled in."""
    study = full_study(tmp_path)
    study.write_text(study.read_text().replace('"ndvi/ndvi_{year}.tif"', f'"{pattern}"'))
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "[inputs.ndvi.path]" in err and needle in err
