"""``carbon-balance validate``: every problem of a study in one run (issue 6, item 1).
All data here are generated."""

from __future__ import annotations

import re

import pandas as pd

from tests.grid.synthetic import climate, write_raster

from .studies import cli, flat, full_study


def _blocks(stderr: str) -> list[str]:
    """The printed problems, one 'error: ...' or 'warning: ...' block each."""
    return [b.strip() for b in re.split(r"^(?=error: |warning: )", stderr, flags=re.M)
            if b.startswith(("error: ", "warning: "))]


def test_several_faults_all_reported_in_one_run(tmp_path):
    study = full_study(tmp_path)
    root = tmp_path
    f = climate(1)
    write_raster(root / "climate/tmp_2005.tif", f["temperature"] + 273.15)   # kelvin as degC
    (root / "climate/pre_2005.tif").unlink()                                  # missing file
    veg = f["vegetation"].copy()
    veg[5, 5] = 77                                                             # unknown class
    write_raster(root / "lc/lc_2005.tif", veg)
    pd.DataFrame({"code": ["A1"], "2005": [3.0]}).to_csv(root / "emissions.csv", index=False)
    pd.DataFrame({"code": ["A1", "B2"], "2005": [0.0, 5.0]}).to_csv(root / "gdp.csv", index=False)

    res = cli("validate", study, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    errors = [flat(b) for b in _blocks(res.stderr) if b.startswith("error: ")]
    expected = [("tmp_2005.tif", "[inputs.temperature.units]", "kelvin"),
                ("pre_2005.tif", "[inputs.precipitation.path]", "file not found"),
                ("lc_2005.tif", "[inputs.vegetation.classes]", "77"),
                ("emissions.csv", "[emissions.id]", "units missing from the table: B2"),
                ("gdp.csv", "[gdp.path]", "GDP <= 0 for: A1")]
    for needles in expected:
        hits = [e for e in errors if all(n in e for n in needles)]
        assert len(hits) == 1, (needles, errors)
        assert "fix:" in hits[0]
    assert len(errors) == len(expected), errors


def test_several_study_file_faults_all_reported(tmp_path):
    study = full_study(tmp_path)
    text = study.read_text().replace("[2005]", "[2010, 2005]").replace(
        'units = "degC"', 'units = "F"').replace("chunk_size = 16", "chunk_sise = 16")
    study.write_text(text)
    res = cli("validate", study, timeout=120)
    err = flat(res.stderr)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "[study.years]" in err and "ascending" in err
    assert "'F' is not one of" in err
    assert "unknown key 'chunk_sise'" in err and "did you mean 'chunk_size'?" in err


def test_clean_study_exits_0_and_warnings_do_not_fail(tmp_path):
    study = full_study(tmp_path, names={"A1": "a<b>"})
    res = cli("validate", study, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "no fatal problems" in flat(res.stdout)
    warnings = _blocks(res.stderr)
    assert len(warnings) == 1 and warnings[0].startswith("warning: ") and "a<b>" in warnings[0]
