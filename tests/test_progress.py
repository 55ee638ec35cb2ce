"""The progress display (carbon_balance.progress) and the quiet console (carbon_balance.logs):
the stages of a command in order, and no dask.distributed INFO lines without --verbose."""

from __future__ import annotations

import io
import logging
import re

import pytest
from rich.console import Console

from carbon_balance import progress
from tests.errors.studies import cli, full_study

#: Messages dask.distributed logs at INFO while a LocalCluster starts and stops.
DISTRIBUTED_INFO = ("Scheduler at", "Start Nanny", "Register worker", "Starting worker",
                    "Receive client connection", "Lost all workers", "Closing scheduler")

RUN_STAGES = ["grids", "zonal sums", "emissions fitting", "indicators and zones", "attribution",
              "figures", "report"]


def _stage_lines(stderr: str) -> list[tuple[str, str]]:
    """(position, stage) of every "[i/n] stage ..." start line, in order."""
    return re.findall(r"^INFO \[(\d+/\d+)\] (.+?)(?: \(\d+ \w+\))?$", stderr, re.M)


def test_run_off_a_terminal_logs_its_stages_in_order_and_no_distributed_info(tmp_path):
    study = full_study(tmp_path / "s", years=(2004, 2005))
    res = cli("run", study, "--out", tmp_path / "out", "--workers", "1")
    assert res.returncode == 0, res.stderr
    started = [(pos, name) for pos, name in _stage_lines(res.stderr) if "done in" not in name]
    n = len(RUN_STAGES)
    assert started == [(f"{i}/{n}", name) for i, name in enumerate(RUN_STAGES, 1)]
    for i, name in enumerate(RUN_STAGES, 1):
        assert re.search(rf"^INFO \[{i}/{n}\] {name} done in \d:\d\d:\d\d$", res.stderr, re.M)
    # items named by year, passes named within them, in the order they ran
    lines = res.stderr.splitlines()
    order = [lines.index(f"INFO {x}") for x in
             ("grids · 2004", "grids · 2004 · NDVI histograms", "grids · 2005 · NDVI histograms",
              "grids · 2004 · NPP, Rh, NEP", "grids · 2005 · NPP, Rh, NEP",
              "zonal sums · 2004", "zonal sums · 2005")]
    assert order == sorted(order)
    assert not [m for m in DISTRIBUTED_INFO if m in res.stderr]
    assert "1/1" not in res.stdout + res.stderr      # no chunk counters
    assert res.stdout.strip().startswith("done")     # stdout holds the result line only
    assert "[1/7] grids (4 passes)" in (tmp_path / "out" / "run.log").read_text()


def test_verbose_shows_distributed_info_and_quiet_shows_no_progress(tmp_path):
    study = full_study(tmp_path / "s")
    loud = cli("--verbose", "nep", study, "--out", tmp_path / "loud", "--workers", "1")
    assert loud.returncode == 0, loud.stderr
    assert [m for m in DISTRIBUTED_INFO if m in loud.stderr]
    quiet = cli("--quiet", "nep", study, "--out", tmp_path / "quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "[1/1] grids (2 passes)" in (tmp_path / "quiet" / "run.log").read_text()


def test_stages_items_and_passes_are_logged_in_order(caplog):
    with caplog.at_level(logging.INFO, logger="carbon_balance.progress"):
        with progress.command("run", mode="lines"):
            progress.plan("grids", "figures")
            with progress.stage("grids", total=2, unit="years"):
                for year in (2004, 2005):
                    progress.item(year)
                    progress.step("NDVI histograms")
            with progress.stage("figures"):
                progress.item("nep_maps")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:5] == ["[1/2] grids (2 years)", "grids · 2004",
                            "grids · 2004 · NDVI histograms", "grids · 2005",
                            "grids · 2005 · NDVI histograms"]
    assert re.fullmatch(r"\[1/2\] grids done in 0:00:\d\d", messages[5])
    assert messages[6:] == ["[2/2] figures", "figures · nep_maps",
                            messages[-1]]
    assert re.fullmatch(r"\[2/2\] figures done in 0:00:\d\d", messages[-1])
    assert not progress.active()


def test_without_a_command_every_call_is_a_no_op(caplog):
    with caplog.at_level(logging.DEBUG):
        with progress.stage("grids", total=3, unit="years"):
            progress.item(2004)
            progress.step("NDVI histograms")
    assert caplog.records == []


def test_live_display_leaves_one_line_per_finished_stage():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with progress.command("run", mode="live", console=console):
        progress.plan("grids", "zonal sums")
        with progress.stage("grids", total=2, unit="years"):
            progress.item(2004)
            progress.item(2005)
        with progress.stage("zonal sums", total=1, unit="years"):
            progress.item(2004)
    text = out.getvalue()
    assert "✓ grids  2 years" in text and "✓ zonal sums  1 year" in text
    assert text.index("✓ grids") < text.index("✓ zonal sums")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="progress mode"):
        with progress.command("run", mode="fancy"):
            pass


def test_one_line_forms_iterate_and_begin_close_their_stages(caplog):
    with caplog.at_level(logging.INFO, logger="carbon_balance.progress"):
        with progress.command("report", mode="lines"):
            assert list(progress.iterate([3, 4], "figures", unit="figures")) == [3, 4]
            progress.begin("report")
            progress.item("report.html")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:3] == ["[1/1] figures (2 figures)", "figures · 3", "figures · 4"]
    assert messages[4:6] == ["[2/2] report", "report · report.html"]
    assert re.fullmatch(r"\[2/2\] report done in 0:00:\d\d", messages[6])   # at the command's end


def test_a_failed_stage_is_not_reported_done(caplog):
    with caplog.at_level(logging.INFO, logger="carbon_balance.progress"):
        with pytest.raises(RuntimeError), progress.command("run", mode="lines"):
            with progress.stage("grids", total=2, unit="years"):
                progress.item(2004)
                raise RuntimeError("input refused")
    assert [r.getMessage() for r in caplog.records] == ["[1/1] grids (2 years)", "grids · 2004"]
    assert not progress.active()
