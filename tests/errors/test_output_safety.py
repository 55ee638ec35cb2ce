"""Outputs never destroy inputs or other results (issue 15, item 1), tried as users do it:
``--out .`` from the study's folder, ``--out`` on an input folder, ``--overwrite`` on a
folder that is not a result, two runs into one folder, a killed run's leftovers, and
worker processes of a killed run."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from shapely.geometry import box

from carbon_balance.output_guard import OutputConflictError
from carbon_balance.outputs import atomic_output, write_manifest

from .studies import cli, flat, full_study


def _tree(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return full_study(tmp_path_factory.mktemp("safety") / "s")


def _env():
    return dict(os.environ, CARBON_BALANCE_ARIMA_CACHE="0")


# ------------------------------------------------------------ where --out may be

@pytest.mark.parametrize("out, relation", [
    (".", "is the study file's folder"),            # the data loss, exit 0 before
    ("ndvi", "contains an input of the study"),
    ("..", "contains the study file's folder"),
    ("ndvi/ndvi_2005.tif", "is an input of the study"),
    ("emissions.csv", "is the [emissions] table"),
])
def test_out_on_the_inputs_is_refused_and_nothing_changes(study, out, relation):
    before = _tree(study.parent)
    r = cli("run", study.name, "--out", out, "--overwrite", cwd=study.parent, timeout=120)
    err = flat(r.stderr)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert f"the output folder {relation}" in err and "--out" in err
    assert err.count("error:") == 1
    assert _tree(study.parent) == before


def test_out_inside_the_study_folder_is_allowed(study, tmp_path):
    """``results/`` next to study.toml is the usual layout: it holds no input."""
    study_copy = full_study(tmp_path / "s")
    r = cli("run", study_copy.name, "--out", "results", "--no-report", cwd=study_copy.parent,
            env=_env())
    assert r.returncode == 0, r.stderr[-2000:]
    assert (study_copy.parent / "results" / "tables" / "units.csv").exists()


def test_overwrite_replaces_only_an_output_folder(study, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.docx").write_bytes(b"years of work")
    r = cli("run", study, "--out", notes, "--overwrite", timeout=120)
    err = flat(r.stderr)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--overwrite replaces only an output folder of carbon-balance" in err
    assert str(notes) in err
    assert (notes / "thesis.docx").read_bytes() == b"years of work"


def test_zoning_refuses_to_overwrite_its_own_input(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("unit_id,year,ce,cs,gdp\nA,2005,10,5,100\n")
    r = cli("zoning", table, "--out", table, "--overwrite", timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "the output file is the input table" in flat(r.stderr)
    assert table.read_text() == "unit_id,year,ce,cs,gdp\nA,2005,10,5,100\n"


# ------------------------------------------------------------ the commit re-checks

def test_folder_written_meanwhile_is_kept_and_result_kept_beside(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputConflictError) as caught:
        with atomic_output(out) as folder:
            (folder / "mine.txt").write_text("second run")
            out.mkdir()                                   # another run finished first
            (out / "manifest.json").write_text('{"tool": "carbon-balance"}')
    kept = out.with_name(f"out.new-{os.getpid()}")
    assert str(kept) in str(caught.value) and "changed while this run" in str(caught.value)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert (kept / "mine.txt").read_text() == "second run"
    assert not list(tmp_path.glob(".out.*"))


def test_overwrite_keeps_a_result_that_replaced_the_earlier_one_meanwhile(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_manifest(out, command="run", parameters={"run": 1})
    with pytest.raises(OutputConflictError):
        with atomic_output(out, overwrite=True) as folder:
            (folder / "mine.txt").write_text("third run")
            other = tmp_path / "other"                      # a second run commits first
            other.mkdir()
            write_manifest(other, command="run", parameters={"run": 2})
            out.rename(tmp_path / "gone")
            other.rename(out)
    assert '"run": 2' in (out / "manifest.json").read_text()
    assert (out.with_name(f"out.new-{os.getpid()}") / "mine.txt").exists()


def test_two_runs_into_one_folder_lose_nothing(study, tmp_path):
    """Before: both exited 0 and the second silently replaced the first."""
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-m", "carbon_balance", "run", str(study),
                               "--out", str(out), "--no-report"], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    err = flat(next(e for code, e in results if code == 2))
    assert "Traceback" not in err
    assert "already exists" in err or "changed while this run" in err
    assert (out / "manifest.json").exists()
    if "changed while this run" in err:   # the second finished too: its result is kept
        assert len(list(tmp_path.glob("out.new-*/manifest.json"))) == 1


# ------------------------------------------------------------ leftovers of killed runs

def _killed_partial(tmp_path: Path, out: Path) -> Path:
    """A ``.out.partial-<pid>`` left by a run killed with kill -9."""
    started = tmp_path / "started"
    script = textwrap.dedent(f"""
        import pathlib, time
        from carbon_balance.outputs import atomic_output
        with atomic_output({str(out)!r}) as folder:
            (folder / "tables").mkdir()
            pathlib.Path({str(started)!r}).write_text("1")
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(600):
        if started.exists():
            break
        time.sleep(0.05)
    return proc


def test_partial_folder_of_a_killed_run_removed_at_the_next_run(tmp_path, caplog):
    out = tmp_path / "out"
    proc = _killed_partial(tmp_path, out)
    partial = tmp_path / f".out.partial-{proc.pid}"
    assert partial.is_dir()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert partial.is_dir()                      # kill -9 leaves it
    with caplog.at_level(logging.INFO, logger="carbon_balance"):
        with atomic_output(out) as folder:
            (folder / "x").write_text("1")
    assert not partial.exists()
    assert any(str(partial) in r.getMessage() and "did not finish" in r.getMessage()
               for r in caplog.records)


def test_partial_folder_of_a_live_run_is_left_alone(tmp_path):
    proc = _killed_partial(tmp_path, tmp_path / "busy")
    try:
        partial = tmp_path / f".busy.partial-{proc.pid}"
        with atomic_output(tmp_path / "other") as folder:
            (folder / "x").write_text("1")
        assert (partial / "tables").is_dir()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_earlier_result_moved_aside_by_a_killed_swap_is_put_back(tmp_path):
    aside = tmp_path / ".out.old-999999999"      # killed between the two renames
    aside.mkdir()
    write_manifest(aside, command="run", parameters={"run": 1})
    out = tmp_path / "out"
    with pytest.raises(Exception, match="already exists"):
        with atomic_output(out):
            pass
    assert '"run": 1' in (out / "manifest.json").read_text()
    assert not aside.exists()


# ------------------------------------------------------------ worker processes

@pytest.fixture(scope="module")
def many_units(tmp_path_factory) -> Path:
    """100 units: the backtest's process pool runs for seconds."""
    units = {f"U{i:03d}": box(110.05 + 0.005 * i, 29.65, 110.054 + 0.005 * i, 29.7)
             for i in range(100)}
    return full_study(tmp_path_factory.mktemp("pool") / "s", units=units)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no worker processes")
@pytest.mark.parametrize("command", [
    "emissions backtest {study}",                 # a process pool (left two workers before)
    "nep {study} --workers 2 --out {out}",        # a dask LocalCluster
])
def test_no_worker_outlives_a_killed_command(many_units, tmp_path, command):
    args = command.format(study=many_units, out=tmp_path / "out").split()
    proc = subprocess.Popen([sys.executable, "-m", "carbon_balance", *args], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    workers: list[psutil.Process] = []
    deadline = time.monotonic() + 120
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            workers = [p for p in parent.children(recursive=True)
                       if "resource_tracker" not in " ".join(p.cmdline())]
        time.sleep(0.05)
    assert len(workers) >= 2, "the command never started its workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(workers, timeout=30)
    for p in alive:   # do not leave them to the next test
        p.kill()
    assert not alive, f"workers still running after kill -9: {[p.pid for p in alive]}"
