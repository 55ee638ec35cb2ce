"""``carbon-balance validate``: every problem a run would meet, found without computing.

The checks live beside the code that reads each input (:mod:`carbon_balance.grid.raster_checks`
for rasters, :mod:`carbon_balance.accounting.table_checks` for polygons and tables); this module
collects them, so that ``validate``, ``nep``, ``run`` and ``demo`` refuse the same things
with the same messages, all at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .errors import CarbonBalanceError, Problem, ProblemsError
from .problem_groups import group_problems
from .study import Study, load_study
from .study_salvage import salvage_study
from .study_summary import study_summary

log = logging.getLogger(__name__)


def study_problems(study: Study, *, for_run: bool = True) -> list[Problem]:
    """Problems of a parsed study's inputs: rasters (if any), units and tables.

    ``for_run=False`` (``validate``): missing [units], [emissions] or [gdp] are notes,
    not fatal (a study written by ``fetch`` lacks the tables until the user adds them).
    """
    from .accounting.table_checks import table_problems
    from .accounting.reference import reference_problems

    problems: list[Problem] = []
    if study.inputs is not None:
        from .grid.raster_checks import raster_problems

        problems += raster_problems(study)
    problems += table_problems(study, required=for_run)
    problems += reference_problems(study)
    return group_problems(problems)


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
    """Return every problem found in the study file and its inputs (fatal and warnings).

    After schema errors, the inputs are still checked, with the defaults in place of the
    refused keys (:func:`carbon_balance.study_salvage.salvage_study`)."""
    try:
        study = load_study(path)
    except ProblemsError as exc:
        partial = salvage_study(path)
        return list(exc.problems) + (study_problems(partial, for_run=False) if partial is not None else [])
    except CarbonBalanceError as exc:
        return list(exc.problems)
    return study_problems(study, for_run=False)


def summary(path: str | Path) -> str | None:
    """The paragraph describing the study (None if its file cannot be read at all)."""
    try:
        study = load_study(path)
    except ProblemsError:
        study = salvage_study(path)
    except CarbonBalanceError:
        study = None
    return None if study is None else study_summary(study)


def print_problems(problems: list[Problem], console) -> None:
    """Print problems, fatal ones first, one block each."""
    for p in sorted(problems, key=lambda p: not p.fatal):
        label = "error" if p.fatal else "warning"
        console.print(f"{label}: {p}", highlight=False, markup=False)
