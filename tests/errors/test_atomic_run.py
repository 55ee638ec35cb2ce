"""Nothing lost, nothing half-written (issue 6, item 3), on a real ``carbon-balance run``
of a tiny generated study: killed at several points it never leaves a complete-looking
output folder, an existing folder is kept without ``--overwrite``, and two runs of the
same study give byte-identical tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .studies import cli, flat, full_study

#: Where to kill the run: a shared library the process has loaded (``lib:NAME``: numba's
#: LLVM, loaded while the command imports its numerical libraries and checks the inputs,
#: before any output folder exists), or the first file of a stage appearing in the
#: temporary folder ``.out.partial-<pid>`` (relative path). Events, not elapsed times.
STAGES = {
    "importing or validating": "lib:llvmlite",
    "temporary folder created": ".",
    "manifest written, report not yet": "manifest.json",
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return full_study(tmp_path_factory.mktemp("atomic") / "s")


def _start(study: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, CARBON_BALANCE_ARIMA_CACHE="0")
    return subprocess.Popen([sys.executable, "-m", "carbon_balance", "run", str(study),
                             "--out", str(out), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as at a terminal, even when the test runner ignores Ctrl-C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _reached(proc: subprocess.Popen, out: Path, stage: str) -> bool:
    if stage.startswith("lib:"):
        return _loaded(proc.pid, stage.removeprefix("lib:"))
    return (out.parent / f".{out.name}.partial-{proc.pid}" / stage).exists()


def _looks_complete(folder: Path) -> bool:
    return (folder / "manifest.json").exists() or (folder / "tables").exists()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_run_never_leaves_a_complete_looking_folder(study, tmp_path, stage):
    """SIGKILL into a fresh folder and SIGINT (Ctrl-C) over an existing folder with
    --overwrite, side by side, both killed when ``stage`` is reached."""
    fresh = tmp_path / "fresh"
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "earlier.txt").write_text("an earlier result\n")
    earlier_manifest = '{"tool": "carbon-balance", "command": "run"}\n'
    (kept / "manifest.json").write_text(earlier_manifest)   # --overwrite replaces only outputs
    runs = {signal.SIGKILL: (_start(study, fresh), fresh),
            signal.SIGINT: (_start(study, kept, "--overwrite"), kept)}
    t0 = time.monotonic()
    pending = dict(runs)
    while pending:
        for sig, (proc, out) in list(pending.items()):
            if proc.poll() is not None:
                pytest.fail(f"the run finished before '{stage}': {proc.stderr.read()[-2000:]}")
            if _reached(proc, out, STAGES[stage]):
                os.kill(proc.pid, sig)
                del pending[sig]
        assert time.monotonic() - t0 < 600, f"'{stage}' never reached (a hang guard)"
        time.sleep(0.01)
    for proc, _ in runs.values():
        proc.wait(timeout=60)

    proc, out = runs[signal.SIGKILL]
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    # kill -9 can leave only the hidden temporary folder, named as such
    for left in tmp_path.iterdir():
        assert left.name in ("fresh", "kept") or ".partial-" in left.name, left
    assert not fresh.exists()

    proc, out = runs[signal.SIGINT]
    err = proc.stderr.read()
    assert sorted(p.name for p in kept.iterdir()) == ["earlier.txt", "manifest.json"]
    assert (kept / "manifest.json").read_text() == earlier_manifest     # untouched
    # interrupted inside the command: the temporary folder removed, one message
    # 130, or killed by the SIGINT re-raised at interpreter exit (the shell shows 130 too)
    assert proc.returncode in (130, -signal.SIGINT), err[-2000:]
    assert "Traceback" not in err and "interrupted: no output folder was completed" in err
    assert not list(tmp_path.glob(".kept.partial-*"))


def test_existing_folder_kept_and_reruns_byte_identical(study, tmp_path):
    out = tmp_path / "out"
    first = cli("run", study, "--out", out, "--no-report",
                env=dict(os.environ, CARBON_BALANCE_ARIMA_CACHE="0"))
    assert first.returncode == 0, first.stderr
    tables = {p.name: p.read_bytes() for p in sorted((out / "tables").glob("*.csv"))}
    assert {"units.csv", "region.csv", "emissions.csv", "zone_shares.csv"} <= set(tables)
    manifest = (out / "manifest.json").read_bytes()

    refused = cli("run", study, "--out", out, "--no-report", timeout=120)
    err = flat(refused.stderr)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert str(out) in err and "already exists" in err and "--overwrite" in err
    assert (out / "manifest.json").read_bytes() == manifest

    again = cli("run", study, "--out", out, "--no-report", "--overwrite",
                env=dict(os.environ, CARBON_BALANCE_ARIMA_CACHE="0"))
    assert again.returncode == 0, again.stderr
    rerun = {p.name: p.read_bytes() for p in sorted((out / "tables").glob("*.csv"))}
    assert rerun.keys() == tables.keys()
    for name in tables:
        assert rerun[name] == tables[name], f"tables/{name} differs between identical runs"
    assert not list(tmp_path.glob(".out.*"))
