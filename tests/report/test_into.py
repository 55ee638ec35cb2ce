"""`uncertainty --into`: the uncertainty results join a run's folder atomically."""

import json
import os

import pandas as pd
import pytest

from carbon_balance.errors import InputError
from carbon_balance.outputs import write_manifest
from carbon_balance.report import into


def _uncertainty_folder(path, name="Test & study", years=(2005, 2010)):
    (path / "tables").mkdir(parents=True)
    (path / "figures").mkdir()
    zones = ["carbon sink functional zone", "low-carbon economic zone",
             "low-carbon optimization zone", "carbon intensity control zone",
             "high-carbon optimization zone", "unclassified"]
    row = {z: 0.0 for z in zones}
    row.update({"unit_id": "420000", "name": "Alpha", "year": 2010,
                "high-carbon optimization zone": 0.62, "carbon intensity control zone": 0.38,
                "plain_zone": "high-carbon optimization zone",
                "most_likely_zone": "high-carbon optimization zone",
                "most_likely_probability": 0.62, "draws": 200})
    pd.DataFrame([row]).to_csv(path / "tables" / "zone_probabilities.csv", index=False)
    from PIL import Image

    Image.new("RGB", (20, 10), "white").save(path / "figures" / "uncertainty_tornado.png")
    write_manifest(path, command="carbon-balance uncertainty study.toml --draws 200",
                   parameters={"study": {"name": name, "years": list(years)},
                               "uncertainty": {"draws": 200, "seed": 7}})
    return path


def _listing(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size)
                  for p in folder.rglob("*") if p.is_file())


def test_results_join_the_run_and_the_report(copy_folder, tmp_path):
    run = copy_folder()
    log_before = (run / "run.log").read_text() if (run / "run.log").exists() else ""
    unc = _uncertainty_folder(tmp_path / "unc")
    into.add_uncertainty(run, unc)
    assert (run / "tables" / "zone_probabilities.csv").exists()
    assert (run / "figures" / "uncertainty_tornado.png").exists()
    html = (run / "report.html").read_text(encoding="utf-8")
    assert '<section id="uncertainty">' in html
    assert "Least certain zones, 2010" in html and "Alpha</strong>: high-carbon optimization zone, 62 %" in html
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["uncertainty"]["parameters"] == {"draws": 200, "seed": 7}
    assert manifest["command"].startswith("carbon-balance run")  # the run's own entry kept
    assert "tables/zone_probabilities.csv" in manifest["outputs"]
    assert (run / "run.log").read_text().startswith(log_before)
    assert not [p for p in run.parent.iterdir() if p.name.startswith(f".{run.name}.")]


def test_grids_are_linked_not_copied(copy_folder, tmp_path):
    run = copy_folder()
    grid = run / "grids" / "2005" / "nep.tif"
    before = grid.stat()
    into.add_uncertainty(run, _uncertainty_folder(tmp_path / "unc"))
    after = (run / "grids" / "2005" / "nep.tif").stat()
    assert after.st_size == before.st_size
    if os.name == "posix":
        assert after.st_ino == before.st_ino


def test_other_study_is_refused_and_nothing_changes(copy_folder, tmp_path):
    run = copy_folder()
    before = _listing(run)
    unc = _uncertainty_folder(tmp_path / "unc", name="Another study")
    with pytest.raises(InputError, match="Another study"):
        into.add_uncertainty(run, unc)
    assert _listing(run) == before


def test_failure_midway_leaves_the_run_as_it_was(copy_folder, tmp_path, monkeypatch):
    import carbon_balance.report as report

    run = copy_folder()
    before = _listing(run)

    def broken(folder):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "build_report", broken)
    with pytest.raises(RuntimeError):
        into.add_uncertainty(run, _uncertainty_folder(tmp_path / "unc"))
    assert _listing(run) == before
    assert not [p for p in run.parent.iterdir() if p.name.startswith(f".{run.name}.")]


def test_not_a_run_or_not_an_uncertainty_folder(tmp_path, copy_folder):
    with pytest.raises(InputError, match="units.csv"):
        into.add_uncertainty(tmp_path, tmp_path)
    with pytest.raises(InputError, match="zone_probabilities"):
        into.add_uncertainty(copy_folder(), tmp_path)


def test_cli_needs_out_or_into_and_checks_into_first(tmp_path, capsys):
    from carbon_balance.cli import main

    study = tmp_path / "study.toml"
    study.write_text("[study]\nname = 'x'\nyears = [2005]\n")
    for args in ([], ["--out", str(tmp_path / "a"), "--into", str(tmp_path)]):
        with pytest.raises(SystemExit) as exc:
            main(["uncertainty", str(study), *args])
        assert exc.value.code == 2
        assert "either --out DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # refused before any draw is computed
        main(["uncertainty", str(study), "--into", str(tmp_path)])
    assert exc.value.code == 2 and "no tables/units.csv" in capsys.readouterr().err
