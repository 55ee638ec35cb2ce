"""Gross domestic product per unit and year [yuan] (``[gdp]`` in the study file)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .emissions import fill_years, _unit_years
from .tables import read_unit_year_table

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
    return pd.DataFrame({"unit_id": filled.unit_id, "year": filled.year,
                         "gdp_yuan": filled.ce_t_co2.to_numpy(dtype=float),
                         "gdp_estimated": filled.ce_estimated.to_numpy(dtype=bool)})
