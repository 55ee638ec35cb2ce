"""Byte-identical reruns (issue 15, item 7): two runs of one study give the same bytes in
every file, the GeoPackage and the SVG figures included; only the manifest (its run
time), the log and the run time the report quotes differ. Generated data."""

from __future__ import annotations

import hashlib
import os
import re
import time

from .studies import cli, full_study

#: The run time as the manifest and the report write it.
RUN_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def _digests(folder) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name not in ("manifest.json", "run.log"):
            data = p.read_bytes()
            if p.name == "report.html":
                data = RUN_TIME.sub(b"<run time>", data)
            out[str(p.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


def test_two_runs_give_the_same_bytes(tmp_path):
    study = full_study(tmp_path / "s")
    env = dict(os.environ, CARBON_BALANCE_ARIMA_CACHE="0")
    runs = []
    for name in ("first", "second"):
        res = cli("run", study, "--out", tmp_path / name, env=env)
        assert res.returncode == 0, res.stderr[-2000:]
        runs.append(_digests(tmp_path / name))
        time.sleep(1.1)   # a clock that moves on: the timestamps GDAL writes would differ
    first, second = runs
    assert {"units.gpkg", "report.html", "tables/units.csv"} <= set(first)
    assert any(k.endswith(".svg") for k in first) and any(k.startswith("grids/") for k in first)
    assert first.keys() == second.keys()
    differ = sorted(k for k in first if first[k] != second[k])
    assert differ == [], f"differ between identical runs: {differ}"
