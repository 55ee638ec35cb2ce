"""Errors a user can act on.

Every problem with the user's input is raised as a :class:`CarbonBalanceError` (or a
subclass) that names the file, the key or column, what is wrong and how to fix it. The
command line turns these into one message and exit status 2, without a traceback; any
other exception is a bug in carbon-balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in the inputs.

    ``fatal`` problems stop a run; the others are warnings (for example a polygon that
    was repaired).
    """

    message: str
    file: str | None = None
    key: str | None = None
    fix: str | None = None
    fatal: bool = True

    def __str__(self) -> str:
        where = ""
        if self.file:
            where += f"{self.file}"
        if self.key:
            where += f" [{self.key}]" if where else f"[{self.key}]"
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class CarbonBalanceError(Exception):
    """A problem with the user's input, explained (exit status 2 on the command line)."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None,
                 key: str | None = None, fix: str | None = None):
        self.problem = Problem(message, None if file is None else str(file), key, fix)
        super().__init__(str(self.problem))

    @property
    def problems(self) -> list[Problem]:
        return [self.problem]


class InputError(CarbonBalanceError):
    """An input file, table or parameter is missing, unreadable or implausible."""


class StudyError(CarbonBalanceError):
    """The study file is malformed or inconsistent."""


class ProblemsError(CarbonBalanceError):
    """Several problems found at once (from validation)."""

    def __init__(self, problems: list[Problem]):
        self._problems = list(problems)
        fatal = [p for p in self._problems if p.fatal]
        Exception.__init__(self, f"{len(fatal)} problem(s) found:\n" +
                           "\n".join(f"- {p}" for p in fatal))
        self.problem = fatal[0] if fatal else Problem("no problems")

    @property
    def problems(self) -> list[Problem]:
        return self._problems


class OutputExistsError(CarbonBalanceError):
    """The output folder exists and ``--overwrite`` was not given."""
