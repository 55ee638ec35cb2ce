"""The command line: help, version, and clear errors with exit status 2."""

import subprocess
import sys

from carbon_balance import __version__


def _run(*args):
    return subprocess.run([sys.executable, "-m", "carbon_balance", *args],
                          capture_output=True, text=True, timeout=120)


def test_version_and_help():
    res = _run("--version")
    assert res.returncode == 0 and __version__ in res.stdout
    res = _run("--help")
    assert res.returncode == 0
    for command in ("nep", "run", "attribute", "zoning", "demo", "report", "validate", "uncertainty", "emissions"):
        assert command in res.stdout


def test_missing_study_file_is_one_clear_message(tmp_path):
    res = _run("validate", str(tmp_path / "missing.toml"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "missing.toml" in res.stderr and "not found" in res.stderr


def test_toml_syntax_error_exit_2(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text("[study\nname='x'\n")
    res = _run("validate", str(study))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "line 1" in res.stderr


def test_debug_shows_traceback(tmp_path):
    res = _run("--debug", "nep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o"))
    assert res.returncode != 0 and "Traceback" in res.stderr and "StudyError" in res.stderr


def test_usage_error_exit_2():
    res = _run("nep")
    assert res.returncode == 2


def test_attribute_years_not_of_the_study_exit_2(tmp_path):
    from errors.studies import flat, full_study

    study = full_study(tmp_path / "s", years=(2004, 2005))
    res = _run("attribute", str(study), "--from", "2004", "--to", "2020", "--out",
               str(tmp_path / "out"))
    assert res.returncode == 2, res.stderr
    text = flat(res.stderr)
    assert "[--to]: 2020 is not a year of the study (its years: 2004, 2005)" in text
    assert "fix: give two different study years, e.g. --from 2004 --to 2005" in text
    assert "Traceback" not in res.stderr
    res = _run("attribute", str(study), "--from", "2005", "--to", "2005", "--out",
               str(tmp_path / "out"))
    assert res.returncode == 2 and "same year (2005)" in flat(res.stderr)
    assert not (tmp_path / "out").exists()


def test_attribute_command_writes_the_tables(tmp_path):
    import pandas as pd
    from errors.studies import full_study

    study = full_study(tmp_path / "s", years=(2004, 2005))
    res = _run("attribute", str(study), "--from", "2004", "--to", "2005", "--out",
               str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(tmp_path / "out" / "tables" / "attribution.csv")
    assert (t.from_year == 2004).all() and (t.to_year == 2005).all()
    # the study has emissions: CB change = CE change - CS change (t CO2 basis)
    assert t.ce_change_t_co2.notna().all()
    expected = t.ce_change_t_co2 - t.cs_change_t_c * 44.0 / 12.0
    assert (abs(t.cb_change_t - expected) <= 1e-6 * abs(expected).max()).all()
