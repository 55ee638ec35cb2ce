"""The source registry: one CSV row per variable of a source (package data ``registry.csv``).

A new source is a row (and, for a new kind of cadence or container, a small function in
:mod:`.read`). The columns are described in the CSV's header and in docs/inputs.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from ..errors import InputError

#: Study inputs ``fetch`` fills, and the roles that feed each one.
ROLES = ("ndvi", "temperature_max", "temperature_min", "precipitation", "radiation",
         "vegetation", "reference_npp")
CADENCES = ("16-day", "monthly", "annual")


@dataclass(frozen=True)
class Source:
    """One variable of one source (a row of ``registry.csv``)."""

    name: str
    role: str
    default: bool
    collection: str
    asset: str
    scale: float
    offset: float
    nodata: float | None
    valid_min: float | None
    valid_max: float | None
    units: str
    cadence: str
    resampling: str
    quality_asset: str | None
    quality_nodata: float | None
    quality_keep: tuple[int, ...]
    classes: str | None
    licence: str
    citation: str


def _opt(v):
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else v


@cache
def registry() -> dict[str, Source]:
    """All registered sources by name."""
    with resources.files(__package__).joinpath("registry.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f, comment="#", dtype={"quality_keep": str, "classes": str,
                                                "quality_asset": str})
    out = {}
    for r in df.to_dict("records"):
        keep = _opt(r["quality_keep"])
        out[r["name"]] = Source(
            name=r["name"], role=r["role"], default=bool(r["default"]),
            collection=r["collection"], asset=r["asset"], scale=float(r["scale"]),
            offset=float(r["offset"]), nodata=_opt(r["nodata"]),
            valid_min=_opt(r["valid_min"]), valid_max=_opt(r["valid_max"]),
            units=str(r["units"]), cadence=r["cadence"], resampling=r["resampling"],
            quality_asset=_opt(r["quality_asset"]), quality_nodata=_opt(r["quality_nodata"]),
            quality_keep=tuple(int(v) for v in keep.split()) if keep else (),
            classes=_opt(r["classes"]), licence=r["licence"], citation=r["citation"])
    return out


def select_sources(choices: dict[str, str] | None = None) -> dict[str, Source]:
    """{role: Source}: the default source of every role, replaced by ``choices``
    ({role: source name}, from ``fetch --source ROLE=NAME``)."""
    reg = registry()
    chosen = {s.role: s for s in reg.values() if s.default}
    for role, name in (choices or {}).items():
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}", key="--source",
                             fix=f"use one of {', '.join(ROLES)}, e.g. --source ndvi=modis-13q1-061")
        if name not in reg or reg[name].role != role:
            names = [s.name for s in reg.values() if s.role == role]
            raise InputError(f"no source {name!r} for {role}", key="--source",
                             fix=f"registered sources for {role}: {', '.join(names)}")
        chosen[role] = reg[name]
    return chosen
