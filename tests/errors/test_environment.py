"""Problems of the machine (issue 15, item 5): a full disk and a folder one may not write
end with one message and exit status 2, not a traceback, and leave nothing behind.
Generated data."""

from __future__ import annotations

import errno
import os
import pathlib

import pandas as pd
import pytest

from .studies import full_study
from .test_cases import run_cli


@pytest.fixture(autouse=True)
def _no_arima_disk_cache(monkeypatch):
    monkeypatch.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")


@pytest.fixture
def study(tmp_path):
    return full_study(tmp_path / "s")


def test_full_disk_while_writing_the_tables(study, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    real = pd.DataFrame.to_csv

    def to_csv(self, path=None, *args, **kwargs):
        if path is not None and ".out.partial-" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    code, err = run_cli(capsys, "run", study, "--out", out, "--no-report")
    assert code == 2, err
    assert "Traceback" not in err and err.count("error:") == 1
    assert f"no space left on the disk of {out}" in err and "MB free" in err
    assert "the run had written" in err and "fix:" in err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_output_parent_not_writable(study, tmp_path, monkeypatch, capsys):
    parent = tmp_path / "readonly"
    parent.mkdir()
    real = pathlib.Path.mkdir

    def mkdir(self, *args, **kwargs):   # as a read-only folder answers (tests may run as root)
        if self.parent == parent:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    code, err = run_cli(capsys, "run", study, "--out", parent / "out", "--no-report")
    assert code == 2, err
    assert "Traceback" not in err and "permission denied" in err and str(parent) in err
    assert "choose an --out folder you may write to" in err
    assert list(parent.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only folder")
def test_output_parent_really_read_only(study, tmp_path, capsys):
    parent = tmp_path / "readonly"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        code, err = run_cli(capsys, "run", study, "--out", parent / "out", "--no-report")
    finally:
        parent.chmod(0o755)
    assert code == 2 and "Traceback" not in err and "permission denied" in err
