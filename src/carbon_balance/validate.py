"""``carbon-balance validate``: every problem a run would meet, found without computing.

The checks live beside the code that reads each input (:mod:`carbon_balance.grid.checks`
for rasters, :mod:`carbon_balance.accounting.checks` for polygons and tables); this module
collects them, so that ``validate``, ``nep``, ``run`` and ``demo`` refuse the same things
with the same messages, all at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .errors import CarbonBalanceError, Problem, ProblemsError
from .study import Study, load_study

log = logging.getLogger(__name__)


def study_problems(study: Study) -> list[Problem]:
    """Problems of a parsed study's inputs: rasters (if any), units and tables."""
    from .accounting.checks import table_problems

    problems: list[Problem] = []
    if study.inputs is not None:
        from .grid.checks import raster_problems

        problems += raster_problems(study)
    problems += table_problems(study)
    return problems


def validate_for_run(study: Study) -> None:
    """Raise :class:`ProblemsError` if the grid or table checks find a fatal problem;
    log the warnings (the same checks as ``carbon-balance validate``)."""
    problems = study_problems(study)
    for p in problems:
        if not p.fatal:
            log.warning("%s", p)
    if any(p.fatal for p in problems):
        raise ProblemsError(problems)


def validate_study(path: str | Path) -> list[Problem]:
    """Return every problem found in the study file and its inputs (fatal and warnings)."""
    try:
        study = load_study(path)
    except CarbonBalanceError as exc:
        return list(exc.problems)
    return study_problems(study)


def print_problems(problems: list[Problem], console) -> None:
    """Print problems, fatal ones first, one block each."""
    for p in sorted(problems, key=lambda p: not p.fatal):
        label = "error" if p.fatal else "warning"
        console.print(f"{label}: {p}", highlight=False, markup=False)
