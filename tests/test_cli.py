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
    for command in ("nep", "run", "zoning", "demo", "report", "validate", "uncertainty", "emissions"):
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
