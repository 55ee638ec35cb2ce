"""Reading unit x year tables (emissions, GDP): CEADs county workbook, wide and long, CSV or XLSX."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .boundaries import id_text
from .table_values import NumberFormat, refuse_duplicates, to_numbers

#: CEADs county workbook (Chen et al. 2020, Sci. Data 7:391, doi:10.1038/s41597-020-00736-3):
#: county code column and year columns C1997 ... C2017.
CEADS_CODE_PREFIX = "DISTCODE"
CEADS_YEAR = re.compile(r"^C(\d{4})$")


def read_table(path: str | Path, *, sheet: str | int | None = None, key: str) -> pd.DataFrame:
    """A CSV or XLSX file as a DataFrame (XLSX: ``sheet``, default the first)."""
    path = Path(path)
    if not path.exists():
        raise InputError("table not found", file=path, key=key,
                         fix="check the path (relative to the study file)")
    try:
        # every cell as text: ids keep their leading zeros (read_excel would otherwise turn
        # a text cell "0101" into the number 101), numbers are parsed strictly
        # (table_values.to_numbers); a byte-order mark is not part of the first header
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            table = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=str)
        else:
            table = pd.read_csv(path, dtype=str, encoding="utf-8-sig", sep=_separator(path))
    except Exception as exc:
        raise InputError(f"cannot read the table ({exc.__class__.__name__}: {exc})", file=path,
                         key=key, fix="give a CSV (UTF-8) or an XLSX file") from None
    if not isinstance(table.index, pd.RangeIndex):
        # pandas makes the first column the index when every row has one cell more than
        # the header: the columns would be shifted against their names
        raise InputError(f"every row has more cells than the header ({len(table.columns)} "
                         "names)", file=path, key=key,
                         fix="name every column in the header row, or remove the separator "
                             "at the end of each row (or inside a value: quote it)")
    return table


def _separator(path: Path) -> str:
    """``;`` for the semicolon CSVs of spreadsheets set to a decimal comma, else ``,``."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    return ";" if header.count(";") > header.count(",") else ","


def city_code(county_code) -> str | None:
    """City (prefecture) code of a 6-digit county code [text].

    Counties are summed to ``XXXX00``, except the county-level units directly under a
    province (``XX90YY``, e.g. Xiantao 429004), which are their own city.
    Codes such as '320211（2）' (split districts in CEADs) use their first six digits.
    """
    digits = re.match(r"\s*(\d{6})", str(county_code))
    if digits is None:
        return None
    code = digits.group(1)
    return code if code[2:4] == "90" else code[:4] + "00"


def read_ceads_county(path: str | Path, *, id: str | None = None, sheet=None,
                      key: str = "emissions.path", fmt: NumberFormat = NumberFormat()) -> pd.DataFrame:
    """CEADs county workbook summed to cities: wide frame, index unit id, columns years [Mt CO2].

    ``id`` names a column holding the city code; when it is absent (the published workbook
    has none) the city code is derived from the county code column (see :func:`city_code`).
    Rows without a county code (the closing note) are dropped.
    """
    raw = read_table(path, sheet=sheet, key=key)
    years = {c: int(m.group(1)) for c in raw.columns if (m := CEADS_YEAR.match(str(c)))}
    if not years:
        raise InputError("no year columns C1997 ... found", file=path, key="emissions.format",
                         fix="use format = 'wide' or 'long' for other tables")
    if id and id in raw.columns:
        codes = id_text(raw[id].where(raw[id].notna()))
        codes = codes.where(raw[id].notna().to_numpy())
    else:
        code_cols = [c for c in raw.columns if str(c).startswith(CEADS_CODE_PREFIX)]
        if not code_cols:
            raise InputError("no county code column (DISTCODE...) found", file=path,
                             key="emissions.id", fix="name the city code column in emissions.id")
        codes = raw[code_cols[0]].map(lambda v: city_code(v) if pd.notna(v) else None)
        county = raw[code_cols[0]].astype(str).str.strip()
        listed = codes.notna().to_numpy()
        refuse_duplicates(county[listed].to_frame(), file=path, key="emissions.path",
                          what="county code")
    keep = codes.notna().to_numpy()
    values = to_numbers(raw.loc[keep, list(years)], file=path, key=key, fmt=fmt)
    values.columns = list(years.values())
    out = values.groupby(codes[keep].to_numpy()).sum(min_count=1)
    out.index.name = "unit_id"
    return out


def read_wide(path, *, id: str, sheet=None, key: str,
              fmt: NumberFormat = NumberFormat()) -> pd.DataFrame:
    """Wide table: an id column and one column per year (names like 2015 or C2015)."""
    raw = read_table(path, sheet=sheet, key=key)
    if id not in raw.columns:
        raise InputError(f"id column '{id}' not found", file=path, key=key.replace("path", "id"),
                         fix=f"use one of: {', '.join(map(str, raw.columns))}")
    years = {}
    for c in raw.columns:
        m = re.fullmatch(r"[A-Za-z_]*(\d{4})(\.0)?", str(c).strip())
        if m and c != id:
            years[c] = int(m.group(1))
    if not years:
        raise InputError("no year columns found", file=path, key=key.replace("path", "format"),
                         fix="a wide table needs one column per year, e.g. 2015, 2016")
    ids = id_text(raw[id])
    refuse_duplicates(ids.to_frame(), file=path, key=key.replace("path", "id"), what="unit id")
    out = to_numbers(raw[list(years)], file=path, key=key, fmt=fmt)
    out.columns = list(years.values())
    out.index = ids.to_numpy()
    out.index.name = "unit_id"
    return out


def read_long(path, *, id: str, year: str, value: str, sheet=None, key: str,
              fmt: NumberFormat = NumberFormat()) -> pd.DataFrame:
    """Long table (id, year, value) pivoted to wide."""
    raw = read_table(path, sheet=sheet, key=key)
    for col, k in ((id, "id"), (year, "year"), (value, "value")):
        if col not in raw.columns:
            raise InputError(f"column '{col}' not found", file=path, key=key.replace("path", k),
                             fix=f"use one of: {', '.join(map(str, raw.columns))}")
    numbers = to_numbers(raw[[year, value]], file=path, key=key, fmt=fmt)
    df = pd.DataFrame({"unit_id": id_text(raw[id]).to_numpy(),
                       "year": numbers[year].to_numpy(),
                       "value": numbers[value].to_numpy()}).dropna(subset=["year"])
    df["year"] = df["year"].astype(int)
    refuse_duplicates(df[["unit_id", "year"]], file=path, key=key, what="(unit id, year)")
    return df.set_index(["unit_id", "year"])["value"].unstack("year")


def read_unit_year_table(section, path: Path, *, key: str) -> pd.DataFrame:
    """Dispatch on ``section.format``; wide frame, index unit_id (text), int year columns."""
    fmt = NumberFormat.of(section)
    if section.format == "ceads-county":
        wide = read_ceads_county(path, id=section.id, sheet=section.sheet, key=key, fmt=fmt)
    elif section.format == "wide":
        wide = read_wide(path, id=section.id, sheet=section.sheet, key=key, fmt=fmt)
    else:
        wide = read_long(path, id=section.id, year=section.year, value=section.value,
                         sheet=section.sheet, key=key, fmt=fmt)
    wide = wide.reindex(sorted(wide.columns), axis=1).astype(float)
    return wide.replace([np.inf, -np.inf], np.nan)
