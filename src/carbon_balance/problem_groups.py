"""One line for a problem repeated over many files (issue 15, item 4).

A fault of a whole input (a missing NDVI ``scale``) shows in each of its files: 72 lines
for six years of monthly files. :func:`group_problems` merges problems that differ only
in the file (and in the numbers of their message, e.g. each file's value range) into
one, naming the files' pattern and their count.
"""

from __future__ import annotations

import os
import re

from .errors import Problem

_DIGITS = re.compile(r"(\d+)")
_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?", re.I)


def files_pattern(files: list[str]) -> str:
    """A short name for several paths: differing digit runs as ``{first..last}``, e.g.
    ``ndvi/{2005..2010}/ndvi_{01..12}.tif``; else the common prefix and ``*``."""
    parts = [_DIGITS.split(f) for f in files]
    if len({len(p) for p in parts}) == 1 and all(
            len({p[i] for p in parts}) == 1 for i in range(0, len(parts[0]), 2)):
        out = []
        for i, first in enumerate(parts[0]):
            values = sorted({p[i] for p in parts}, key=lambda v: (int(v), v) if i % 2 else v)
            out.append(values[0] if len(values) == 1 else "{" + values[0] + ".." + values[-1] + "}")
        return "".join(out)
    prefix = os.path.commonprefix(files)
    return prefix + "*"


def group_problems(problems: list[Problem], *, at_least: int = 3) -> list[Problem]:
    """Problems in order, those repeated over ``at_least`` files or more merged into one."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        shape = (_NUMBER.sub("#", p.message), p.key, p.fix, p.fatal) if p.file else (id(p),)
        groups.setdefault(shape, []).append(p)
    out, done = [], set()
    for p in problems:
        shape = (_NUMBER.sub("#", p.message), p.key, p.fix, p.fatal) if p.file else (id(p),)
        if shape in done:
            continue
        done.add(shape)
        members = groups[shape]
        files = list(dict.fromkeys(m.file for m in members))
        if len(files) < at_least:
            out += members
            continue
        messages = list(dict.fromkeys(m.message for m in members))
        message = messages[0] if len(messages) == 1 else \
            f"{messages[0]} (first file; the values differ in the others)"
        out.append(Problem(f"{message} — the same in {len(files)} files",
                           files_pattern(files), p.key, p.fix, p.fatal))
    return out
