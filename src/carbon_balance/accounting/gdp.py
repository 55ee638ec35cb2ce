"""Gross domestic product per unit and year [yuan] (``[gdp]`` in the study file)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .emissions import _unit_years, fill_years
from .table_readers import read_unit_year_table

#: Factors to yuan.
TO_YUAN = {"yuan": 1.0, "1e4 yuan": 1e4, "1e8 yuan": 1e8}


def load_gdp(study) -> pd.DataFrame:
    """The study's GDP table as a wide frame [yuan]: index unit_id, columns years."""
    sec = study.gdp
    return read_unit_year_table(sec, study.resolve(sec.path), key="gdp.path") * TO_YUAN[sec.units]


def estimate_gdp(study, unit_ids, *, workers: int | None = None) -> pd.DataFrame:
    """GDP of the study's units and years: ``unit_id, year, gdp_yuan, gdp_estimated``.

    A missing unit-year is an :class:`InputError` naming the units and years, unless
    ``[gdp] fill = "arima"`` (then estimated from the years before it).
    """
    wide = load_gdp(study)
    fill = study.gdp.fill
    filled = fill_years(wide, study.study.years, fill, units=unit_ids, workers=workers)
    gaps = filled[filled.ce_t_co2.isna()]
    if len(gaps):
        raise InputError("GDP missing for " + _unit_years(gaps), file=study.resolve(study.gdp.path),
                         key="gdp.fill", fix='add the values, or set fill = "arima" in [gdp] '
                         "to estimate them (they are then flagged)")
    out = pd.DataFrame({"unit_id": filled.unit_id, "year": filled.year,
                        "gdp_yuan": filled.ce_t_co2.to_numpy(dtype=float),
                        "gdp_estimated": filled.ce_estimated.to_numpy(dtype=bool)})
    flagged = _flagged_in_table(study)
    if flagged:
        out["gdp_estimated"] = out["gdp_estimated"].to_numpy(bool) | np.array(
            [(u, int(y)) in flagged for u, y in zip(out.unit_id, out.year)], dtype=bool)
    return out


def _flagged_in_table(study) -> set[tuple[str, int]]:
    """(unit, year) pairs a long table itself marks as estimated (a column ``*estimated``).

    Values estimated before they reach carbon-balance keep their flag in every output.
    """
    sec = study.gdp
    if sec.format != "long":
        return set()
    from .table_readers import read_table
    from .boundaries import id_text

    raw = read_table(study.resolve(sec.path), sheet=sec.sheet, key="gdp.path")
    cols = [c for c in raw.columns if str(c).lower().endswith("estimated")]
    if not cols:
        return set()
    flag = raw[cols[0]].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    ids = id_text(raw[sec.id])
    years = pd.to_numeric(raw[sec.year], errors="coerce")
    return {(u, int(y)) for u, y, f in zip(ids, years, flag) if f and np.isfinite(y)}
