"""Strict reading of the unit x year tables (issue 15, item 2).

A table that reads "fine" but means something else gives plausible wrong numbers, so:

- **numbers**: every cell of a value column is a number or empty (or a usual missing
  marker such as ``NA``); anything else is an error naming the row, the column and the
  cell, with a hint when it looks like a decimal comma (``55,05``) or thousands
  separators (``1,234.5``). Tables that use them say so with ``decimal = ","`` and/or
  ``thousands = "."`` (or ``","``, ``" "``) in their section;
- **ids** are read as text, so ``0101`` stays ``0101`` (see ``table_readers.read_table``);
- **duplicates**: a unit listed twice in a wide table, or an (id, year) pair repeated
  in a long one, is an error naming the rows (they used to be summed);
- **magnitudes**: emissions <= 0 are an error; emissions and GDP per km² of the unit
  beyond any city on record are an error, implausibly small ones a warning, each with
  the unit mistake that would explain it (:func:`magnitude_problems`).

Row numbers are those a spreadsheet shows: the header is row 1, the first data row 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, Problem

#: Cell texts read as "missing" (lower case; pandas' default NA markers among them).
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "<na>", "-nan"})
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,. '\u00a0]\d{3})+([.,]\d+)?$")
#: How many offending cells or rows a message lists.
LISTED = 8

#: Plausible emissions per unit area [t CO2 km-2 yr-1]. Upper: 1e7 is 50 times the
#: densest units on record (Macao, Hong Kong, Singapore are 3e4-7e4; a district hosting
#: a large steel works ~2e5), so that a small unit around a power plant still passes,
#: while t CO2 declared as Mt CO2 (x 1e6) is caught for any unit above 10 t km-2.
#: Values above it are an error. Lower: 0.01 is below any inhabited unit (Greenland's
#: whole territory is ~0.2); values below it are a warning.
EMISSIONS_T_CO2_PER_KM2 = (0.01, 1e7)
#: Plausible GDP per unit area [yuan km-2 yr-1]. Upper: the densest financial districts
#: (Macao, Shanghai Huangpu) are ~1e10; above 1e11 is an error. Lower: the most remote
#: prefectures (Ngari, Tibet) are ~2e4; below 1e3 is a warning.
GDP_YUAN_PER_KM2 = (1e3, 1e11)


@dataclass(frozen=True)
class NumberFormat:
    """How a table writes its numbers: ``decimal`` mark and ``thousands`` separator."""

    decimal: str = "."
    thousands: str | None = None

    @classmethod
    def of(cls, section) -> "NumberFormat":
        return cls(getattr(section, "decimal", ".") or ".", getattr(section, "thousands", None))


def _hint(cell: str, fmt: NumberFormat) -> str:
    if _DECIMAL_COMMA.match(cell) and fmt.decimal != ",":
        return (f"'{cell}' looks like a decimal comma: add decimal = \",\" to the table's "
                "section (and thousands = \".\" if it also groups digits)")
    if _THOUSANDS.match(cell):
        return ("the cell looks like a number with thousands separators: add thousands = "
                "\",\" (or \".\", \" \") and the matching decimal to the table's section")
    return "write a plain number (e.g. 55.05), or leave the cell empty if the value is missing"


def to_numbers(frame: pd.DataFrame, *, file, key: str, fmt: NumberFormat = NumberFormat(),
               rows=None) -> pd.DataFrame:
    """The cells of ``frame`` as floats; empty and missing markers are NaN.

    ``rows``: the spreadsheet row number of each row (default: index + 2). A cell that is
    not a number raises :class:`InputError` naming row, column and cell.
    """
    rows = np.asarray(frame.index + 2 if rows is None else rows)
    out = {}
    bad: list[tuple[int, str, str]] = []
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            out[col] = values.astype(float).to_numpy()
            continue
        parsed = np.full(len(values), np.nan)
        for i, v in enumerate(values.to_numpy()):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                continue
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                parsed[i] = float(v)
                continue
            text = str(v).strip()
            if text.lower() in MISSING_TEXT:
                continue
            t = text
            if fmt.thousands:
                t = t.replace(fmt.thousands, "")
            if fmt.decimal != ".":
                t = t.replace(fmt.decimal, ".")
            try:
                parsed[i] = float(t)
            except ValueError:
                bad.append((int(rows[i]), str(col), text))
        out[col] = parsed
    if bad:
        listing = "; ".join(f"row {r} column '{c}': '{t}'" for r, c, t in bad[:LISTED])
        more = f" (and {len(bad) - LISTED} more)" if len(bad) > LISTED else ""
        raise InputError(f"{len(bad)} cell(s) are not numbers: {listing}{more}", file=file,
                         key=key, fix=_hint(bad[0][2], fmt))
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def refuse_duplicates(keys: pd.DataFrame, *, file, key: str, what: str, rows=None) -> None:
    """Raise :class:`InputError` if a row of ``keys`` (id, or id and year) repeats."""
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    rows = np.asarray(keys.index + 2 if rows is None else rows)
    groups: dict[tuple, list[int]] = {}
    for k, r in zip(map(tuple, keys[dup].to_numpy()), rows[dup]):
        groups.setdefault(k, []).append(int(r))
    listing = "; ".join(f"{', '.join(map(str, k))} on rows {', '.join(map(str, r))}"
                        for k, r in list(groups.items())[:LISTED])
    more = f" (and {len(groups) - LISTED} more)" if len(groups) > LISTED else ""
    raise InputError(f"{what} listed more than once: {listing}{more}", file=file, key=key,
                     fix="keep one row per " + what.split(" ")[0] +
                         " (they would otherwise be added up)")


def leading_zero_hint(absent, table_ids) -> str:
    """A hint when ids differ from the table's only by leading zeros (0101 vs 101)."""
    stripped = {str(t).lstrip("0"): t for t in table_ids}
    pairs = [(a, stripped[a.lstrip("0")]) for a in absent if a.lstrip("0") in stripped]
    if not pairs:
        return ""
    a, t = pairs[0]
    return (f" (the ids differ in leading zeros, e.g. '{a}' in the units and '{t}' in the "
            "table: write them the same way in both, as text)")


# ---------------------------------------------------------------- magnitudes

def _likely_unit(values_per_km2: np.ndarray, declared: str, factors: dict[str, float],
                 band) -> str | None:
    """A declared unit under which the offending values would be plausible."""
    raw = values_per_km2 / factors[declared]
    for name, f in factors.items():
        if name != declared and np.all((raw * f >= band[0]) & (raw * f <= band[1])):
            return name
    return None


def magnitude_problems(wide: pd.DataFrame, area_km2: pd.Series, *, table: str,
                       declared: str, file: str, factors: dict[str, float]) -> list[Problem]:
    """Emissions <= 0 (error), and values per km² outside the plausible band: above it
    an error, below it a warning, with the likely unit mistake named.

    ``wide``: index unit_id, columns years, in the base unit (t CO2 or yuan);
    ``area_km2``: the units' areas, by unit_id; ``factors``: declared unit -> factor to
    the base unit (``emissions.TO_T_CO2``, ``gdp.TO_YUAN``), the units a mistake is named in.
    """
    band = EMISSIONS_T_CO2_PER_KM2 if table == "emissions" else GDP_YUAN_PER_KM2
    base = "t CO2" if table == "emissions" else "yuan"
    ids = [i for i in wide.index if i in area_km2.index]
    if not ids:
        return []
    values = wide.loc[ids]
    area = area_km2.reindex(ids).to_numpy(float)[:, None]
    v = values.to_numpy(float)
    problems = []
    if table == "emissions":
        nonpos = np.isfinite(v) & (v <= 0)
        if nonpos.any():
            problems.append(Problem(
                f"emissions <= 0 for {_cells(values, nonpos, declared, factors[declared])}", file,
                "emissions.path", "an inventory's CO2 is positive; correct the cells, or leave "
                "a missing value empty (it is then estimated per emissions.fill)"))
    with np.errstate(divide="ignore", invalid="ignore"):
        density = v / area
    for side, mask, fatal in (("above", np.isfinite(density) & (density > band[1]), True),
                              ("below", np.isfinite(density) & (density > 0) &
                               (density < band[0]), False)):
        if not mask.any():
            continue
        likely = _likely_unit(density[mask], declared, factors, band)
        fix = (f"the values look like {likely}: set {table}.units = \"{likely}\"" if likely
               else f"check {table}.units = \"{declared}\" and the values")
        problems.append(Problem(
            f"{table} per km² of the unit {side} the plausible range "
            f"({band[0]:g}-{band[1]:g} {base} km-2 yr-1) for "
            f"{_cells(values, mask, declared, factors[declared])}", file, f"{table}.units", fix,
            fatal=fatal))
    return problems


def _cells(values: pd.DataFrame, mask: np.ndarray, declared: str, factor: float) -> str:
    r, c = np.nonzero(mask)
    listing = ", ".join(f"{values.index[i]} {values.columns[j]} "
                        f"({values.iat[i, j] / factor:g} {declared})"
                        for i, j in list(zip(r, c))[:LISTED])
    return listing + (f" (and {len(r) - LISTED} more)" if len(r) > LISTED else "")
