"""``carbon-balance validate``: every problem a run would meet, found without computing.

(Issue 6 extends the checks; this module is the single place they are collected.)
"""

from __future__ import annotations

from pathlib import Path

from .errors import CarbonBalanceError, Problem
from .study import load_study


def validate_study(path: str | Path) -> list[Problem]:
    """Return every problem found in the study file and its inputs (fatal and warnings)."""
    try:
        load_study(path)
    except CarbonBalanceError as exc:
        return list(exc.problems)
    return []


def print_problems(problems: list[Problem], console) -> None:
    """Print problems, fatal ones first, one block each."""
    for p in sorted(problems, key=lambda p: not p.fatal):
        label = "error" if p.fatal else "warning"
        console.print(f"{label}: {p}", highlight=False, markup=False)
