"""Unit conversions from declared input units to the units of the CASA model.

Model units (METHOD.md section 1): temperature [°C], precipitation [mm month-1],
radiation [MJ m-2 month-1], NDVI [-]. Conversions are applied after the raw values
have been scaled (``value = raw * scale + offset``).
"""

from __future__ import annotations

import calendar

import numpy as np

from ..constants import KELVIN_AT_0C, MJ_PER_KWH, MJ_PER_W_DAY


MODEL_UNITS = {"ndvi": "1", "temperature": "degC", "precipitation": "mm/month",
               "radiation": "MJ/m2/month", "vegetation": "class"}
DEFAULT_UNITS = {"temperature": "degC", "precipitation": "mm/month", "radiation": "MJ/m2/month"}


def days_in_months(year: int) -> np.ndarray:
    """Number of days of each of the 12 months of ``year`` (leap years honoured)."""
    return np.array([calendar.monthrange(year, m)[1] for m in range(1, 13)], dtype=np.float64)


def monthly_factors(name: str, units: str | None, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-month ``(factor, offset)`` so that ``model = value * factor + offset``.

    Parameters
    ----------
    name : input name (``temperature``, ``precipitation``, ``radiation``, ``ndvi``)
    units : declared units of the scaled values; None means the model units
    year : calendar year (radiation in W m-2 needs the days of each month)

    Returns two arrays of shape (12,).
    """
    ones, zeros = np.ones(12), np.zeros(12)
    if name not in DEFAULT_UNITS or units is None or units == DEFAULT_UNITS[name]:
        return ones, zeros
    if name == "temperature":
        if units == "0.1 degC":
            return ones * 0.1, zeros
        if units == "K":
            return ones, zeros - KELVIN_AT_0C
    elif name == "precipitation":
        if units == "0.1 mm/month":
            return ones * 0.1, zeros
    elif name == "radiation":
        if units == "W/m2":
            # mean flux over the month [W m-2] x seconds in the month -> J m-2 -> MJ m-2
            return days_in_months(year) * MJ_PER_W_DAY, zeros
        if units == "kWh/m2/month":
            return ones * MJ_PER_KWH, zeros
    raise ValueError(f"unknown units {units!r} for {name}")


def to_model_units(values: np.ndarray, name: str, units: str | None, year: int,
                   months: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Convert a (month, ...) stack (or the selected ``months``) to model units, in place
    when the array is floating point. Returns the array."""
    factor, offset = monthly_factors(name, units, year)
    factor, offset = factor[months], offset[months]
    shape = (-1,) + (1,) * (values.ndim - 1)
    # each step is a pass over the whole stack: skip the ones that change nothing
    if not np.all(factor == 1):
        values *= factor.reshape(shape).astype(values.dtype)
    if not np.all(offset == 0):
        values += offset.reshape(shape).astype(values.dtype)
    return values
