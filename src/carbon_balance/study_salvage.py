"""A study file with schema errors, made checkable (issue 15, item 4).

``validate`` lists the schema errors of a study file (unknown keys, values out of range,
units not accepted) and then still checks every file and table it can locate. For that
it needs a :class:`~carbon_balance.study.Study`: :func:`salvage_study` removes each
offending key (the default takes its place) and repeats until the rest validates.
Keys that are required and wrong cannot be replaced; then the section goes, if it is
optional (e.g. ``[inputs]``, so that the tables are still checked), or nothing is
salvaged.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from .study import Study

#: A model validator's message naming the key it refuses, e.g. "inputs.radiation.units = ...".
_NAMED_KEY = re.compile(r"(inputs\.\w+\.\w+)")


def _delete(data: dict, loc: tuple) -> bool:
    node = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    last = loc[-1]
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    return False


def _repair(data: dict, err: dict) -> bool:
    """Remove (or, for the years, repair) what ``err`` refuses; whether anything changed."""
    loc = tuple(err["loc"])
    if loc == ("study", "years") and isinstance(data.get("study", {}).get("years"), list):
        years = data["study"]["years"]
        fixed = sorted({y for y in years if isinstance(y, int) and 1900 <= y <= 2100})
        if fixed and fixed != years:
            data["study"]["years"] = fixed
            return True
        return False
    named = _NAMED_KEY.search(err.get("msg", ""))
    if named and _delete(data, tuple(named.group(1).split("."))):
        return True
    if err["type"] == "missing":
        # a required key: drop the optional section that lacks it
        return len(loc) > 1 and loc[0] in ("inputs", "units", "emissions", "gdp") and \
            _delete(data, loc[:1])
    if _delete(data, loc):
        return True
    # an error of a whole section (a model validator): drop the section if optional
    return len(loc) >= 1 and loc[0] in ("inputs", "units", "emissions", "gdp") and \
        _delete(data, loc[:1])


def salvage_study(path: str | Path, *, rounds: int = 20) -> Study | None:
    """The study of ``path`` with its invalid keys removed, or None if none validates."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for _ in range(rounds):
        try:
            return Study(**data, root=path.resolve().parent, source=path)
        except ValidationError as exc:
            if not any([_repair(data, e) for e in exc.errors()]):
                return None
        except TypeError:
            return None
    return None
