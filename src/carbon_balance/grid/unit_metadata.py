"""Declared units against a file's own (issue 15, item 3).

A NetCDF variable's CF ``units`` attribute and a GeoTIFF band's unit type (both read by
GDAL as the band's unit) say what the values are. When they name a unit of the same
quantity other than the one the study declares (``K`` in the file, ``degC`` declared;
``W m-2`` in the file, ``MJ/m2/month`` declared), the study is refused with the unit to
declare. Unit strings this module does not know, and files whose values the study
rescales (an explicit ``scale`` or ``offset``), are not judged.
"""

from __future__ import annotations

import re

from ..errors import Problem

#: Spellings of each declarable unit, normalised (lower case, no spaces, "**" and "^" gone).
SPELLINGS = {
    "temperature": {
        "K": {"k", "kelvin", "kelvins", "degk", "deg_k"},
        "degC": {"degc", "celsius", "°c", "deg_c", "degreesc", "degrees_celsius", "degree_celsius",
                 "c"},
        "0.1 degC": {"0.1degc", "0.1°c", "0.1celsius", "degc/10", "0.1deg_c"},
    },
    "precipitation": {
        "mm/month": {"mm", "mm/month", "mmmonth-1", "mm/mon", "kgm-2", "kgm-2month-1",
                     "kg/m2", "kg/m2/month"},
        "0.1 mm/month": {"0.1mm", "0.1mm/month", "0.1mmmonth-1", "mm/10"},
    },
    "radiation": {
        "W/m2": {"wm-2", "w/m2", "w/m^2", "w.m-2", "wattm-2", "watts/m2", "wattsperm2"},
        "MJ/m2/month": {"mjm-2month-1", "mj/m2/month", "mj/m2/mon", "mjm-2mon-1"},
        "kWh/m2/month": {"kwhm-2month-1", "kwh/m2/month", "kwh/m2/mon"},
    },
}


def _normal(unit: str) -> str:
    return re.sub(r"\s+|\*\*|\^", "", unit.strip().lower())


def file_unit(name: str, unit: str | None) -> str | None:
    """The declarable unit a file's unit string names, or None if unknown."""
    if not unit:
        return None
    text = _normal(unit)
    for declared, spellings in SPELLINGS.get(name, {}).items():
        if text in spellings:
            return declared
    return None


def unit_metadata_problems(name: str, units_in_file, declared: str, *, rescaled: bool,
                           file: str, key: str) -> list[Problem]:
    """A problem if the file's own units contradict the declared ``declared``."""
    if rescaled or name not in SPELLINGS:
        return []
    found = {file_unit(name, u) for u in units_in_file if u} - {None}
    if len(found) != 1:
        return []
    own = found.pop()
    if own == declared:
        return []
    shown = next(u for u in units_in_file if u)
    return [Problem(f"the file's own units are '{shown}', but units = \"{declared}\" is "
                    "declared", file, key, f'set units = "{own}" (or, if the file\'s units '
                    "are wrong, correct its metadata)")]
