"""Add the results of ``uncertainty`` to an existing run's folder and rebuild its report.

``carbon-balance uncertainty STUDY.toml --into DIR`` computes into a temporary folder as
usual (:func:`carbon_balance.analysis.uncertainty.run_uncertainty`), then
:func:`add_uncertainty` moves its tables and figures into the run folder ``DIR``:

- the run folder is rebuilt next to itself inside :func:`outputs.atomic_output` (the
  grids, which can be large, hard-linked rather than copied where the file system
  allows; every other file copied), so a failure at any point leaves ``DIR`` as it was;
- ``tables/zone_probabilities.csv``, ``intervals.csv``, ``sensitivity.csv`` and
  ``figures/uncertainty_*.png`` of the uncertainty folder replace those of an earlier
  uncertainty run;
- the report is rebuilt; the manifest keeps the run's inputs and parameters and gains an
  ``uncertainty`` entry (command, time, draws, seed, its own inputs' hashes).

The two folders must come from the same study (same name and years), else the message
says so and nothing is written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import InputError
from ..outputs import MANIFEST, atomic_output

#: What an uncertainty folder contributes to a run folder.
UNCERTAINTY_TABLES = ("zone_probabilities.csv", "intervals.csv", "sensitivity.csv")
UNCERTAINTY_FIGURES = "uncertainty_*.png"
#: Folders whose files never change once written: hard-linked into the rebuilt folder.
LINKED = ("grids",)
LOG = "run.log"


def _manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"manifest is not valid JSON ({exc})", file=path,
                         fix="rerun the command that wrote this folder") from None


def _study_key(manifest: dict) -> tuple:
    study = (manifest.get("parameters") or {}).get("study") or {}
    return study.get("name"), tuple(study.get("years") or ())


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed: copy
        shutil.copy2(src, dst)


def _copy_run(run: Path, dest: Path) -> None:
    for item in run.iterdir():
        target = dest / item.name
        if item.name == LOG:
            # the new log (already opened by atomic_output) continues the run's log
            with open(target, "a", encoding="utf-8") as out:
                out.write(item.read_text(encoding="utf-8", errors="replace"))
        elif item.is_dir():
            copy = _link_or_copy if item.name in LINKED else shutil.copy2
            shutil.copytree(item, target, copy_function=copy, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)


def add_uncertainty(run_dir: str | Path, uncertainty_dir: str | Path) -> Path:
    """Move the uncertainty results of ``uncertainty_dir`` into the run folder ``run_dir``.

    Atomic: ``run_dir`` is replaced by a complete new folder, or left as it was. Returns
    ``run_dir``. Raises :class:`InputError` when ``run_dir`` is not a run folder, when
    ``uncertainty_dir`` holds no zone probabilities, or when they are of other studies.
    """
    from . import build_report

    run, src = Path(run_dir), Path(uncertainty_dir)
    if not (run / "tables" / "units.csv").exists():
        raise InputError("not the output folder of a run (no tables/units.csv)", file=run,
                         fix="give the folder written by `carbon-balance run` or `demo`")
    if not (src / "tables" / "zone_probabilities.csv").exists():
        raise InputError("no tables/zone_probabilities.csv", file=src,
                         fix="give the folder written by `carbon-balance uncertainty`")
    run_manifest, unc_manifest = _manifest(run), _manifest(src)
    if run_manifest and unc_manifest and _study_key(run_manifest) != _study_key(unc_manifest):
        (a_name, a_years), (b_name, b_years) = _study_key(run_manifest), _study_key(unc_manifest)
        raise InputError(f"the run is of study {a_name!r} {list(a_years)}, the uncertainty "
                         f"of {b_name!r} {list(b_years)}", file=run,
                         fix="run `uncertainty --into` with the study file of that run")
    with atomic_output(run, overwrite=True) as tmp:
        _copy_run(run, tmp)
        (tmp / "tables").mkdir(exist_ok=True)
        for name in UNCERTAINTY_TABLES:
            if (src / "tables" / name).exists():
                shutil.copy2(src / "tables" / name, tmp / "tables" / name)
        figures = tmp / "figures"
        figures.mkdir(exist_ok=True)
        for old in figures.glob(UNCERTAINTY_FIGURES):
            old.unlink()
        for png in sorted((src / "figures").glob(UNCERTAINTY_FIGURES)):
            shutil.copy2(png, figures / png.name)
        build_report(tmp)
        manifest = dict(run_manifest)
        params = (unc_manifest.get("parameters") or {}).get("uncertainty") or {}
        manifest["uncertainty"] = {
            "command": unc_manifest.get("command", "uncertainty"),
            "created_utc": unc_manifest.get("created_utc", ""),
            "version": unc_manifest.get("version", ""),
            "parameters": params,
            "inputs": unc_manifest.get("inputs", []),
        }
        manifest["outputs"] = sorted(
            str(p.relative_to(tmp)).replace(os.sep, "/")
            for p in tmp.rglob("*") if p.is_file() and p.name != MANIFEST)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                    encoding="utf-8")
    return run
