"""Numbers of the report formatted for people; the CSVs in ``tables/`` keep full precision.

A report cell reads ``97.10`` under the header ``CE [Mt CO₂]`` where ``units.csv`` holds
``97097328.41849312`` t CO2. Each column is shown in one display unit chosen from the
largest value of the column (t -> kt -> Mt, yuan -> billion yuan), with thousands
separators and a fixed number of significant figures, so that the values of a column line
up and compare at a glance. The exact value stays in the cell's ``title`` (shown on hover)
and in the CSV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Significant figures of quantities with a physical unit (a 0.1 % resolution: far finer
#: than the uncertainty of CASA NEP or of an emission inventory).
SIGNIFICANT = 4
#: Decimals of the dimensionless ratios (CBI, ECC, ESC; thresholds are 1).
RATIO_DECIMALS = 3
#: Decimals of p-values (the smallest with 999 permutations is 0.001).
P_DECIMALS = 3


@dataclass(frozen=True)
class DisplayUnit:
    """How one column is shown: multiply by ``factor``, label the header with ``unit``."""

    factor: float
    unit: str
    kind: str                 # "amount", "ratio", "percent", "p", "count", "year", "plain"


#: Columns in tonnes (of CO2 or C, by their name).
def _tonnes_unit(column: str, basis_unit: str) -> str | None:
    if column.endswith("_t_co2"):
        return "t CO₂"
    if column.endswith("_t_c"):
        return "t C"
    if column in ("cb_t", "region_cb_t"):
        return basis_unit.replace("CO2", "CO₂")
    return None


RATIOS = {"cbi", "ecc", "esc", "moran_i", "expected_i", "z", "local_i", "ndvi_min",
          "ndvi_max", "probability", "most_likely_probability", "tau", "mk_z"}
PERCENT = {"change_percent", "share_percent", "mape_percent"}
P_VALUES = {"p_sim", "p_fdr", "p_norm"}
COUNTS = {"n_units", "n_islands", "permutations", "n_pixels", "draws", "bytes", "n_years",
          "mk_s"}
YEARS = {"year", "year_from", "year_to"}


def display_unit(column: str, values, basis_unit: str = "t CO2") -> DisplayUnit:
    """The display unit of ``column`` for ``values`` (the whole column)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    big = float(np.max(np.abs(v))) if v.size else 0.0
    tonnes = _tonnes_unit(column, basis_unit)
    if tonnes:
        rest = tonnes[1:]  # " CO₂" or " C"
        if big >= 1e6:
            return DisplayUnit(1e-6, "Mt" + rest, "amount")
        if big >= 1e4:
            return DisplayUnit(1e-3, "kt" + rest, "amount")
        return DisplayUnit(1.0, tonnes, "amount")
    if column == "gdp_yuan":
        if big >= 1e9:
            return DisplayUnit(1e-9, "billion yuan", "amount")
        return DisplayUnit(1.0, "yuan", "amount")
    if column in RATIOS:
        return DisplayUnit(1.0, "–", "ratio")
    if column in PERCENT:
        return DisplayUnit(1.0, "%", "percent")
    if column in P_VALUES:
        return DisplayUnit(1.0, "–", "p")
    if column in COUNTS:
        return DisplayUnit(1.0, "count", "count")
    if column in YEARS:
        return DisplayUnit(1.0, "", "year")
    return DisplayUnit(1.0, "", "amount")


def significant(value: float, digits: int = SIGNIFICANT) -> str:
    """``value`` with ``digits`` significant figures, thousands separators, no exponent.

    Integer parts longer than ``digits`` are shown whole (``1,234,567``), never as
    ``1.235e+06``; small values keep ``digits`` significant figures (``0.01234``).
    """
    if not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0") else text


def format_value(value, du: DisplayUnit) -> str:
    """The text of one cell (``value`` may be a number or the CSV text of one)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)  # text cells (names, zones, methods) are shown as they are
    if not math.isfinite(x):
        return "n/a"
    if du.kind == "year":
        return f"{x:.0f}"
    if du.kind == "count":
        return f"{x:,.0f}"
    if du.kind == "ratio":
        return f"{x:.{RATIO_DECIMALS}f}"
    if du.kind == "p":
        return f"{x:.{P_DECIMALS}f}"
    if du.kind == "percent":
        return f"{x:,.1f}"
    return significant(x * du.factor)


def header_unit(label: str, du: DisplayUnit) -> str:
    """Replace the unit in brackets of a header (``CE [t CO₂]``) by the display unit."""
    if du.kind != "amount" or du.factor == 1.0 or "[" not in label:
        return label
    head = label[: label.rindex("[")]
    return f"{head}[{du.unit}]"


def format_column(column: str, values, basis_unit: str = "t CO2") -> tuple[DisplayUnit, list[str]]:
    """Display unit and cell texts of a whole column."""
    du = display_unit(column, values, basis_unit)
    return du, [format_value(v, du) for v in values]


def fmt_amount(value: float, unit: str) -> str:
    """A single amount in tonnes for prose: ``97.1 Mt CO₂``, ``850 kt CO₂``."""
    if not math.isfinite(value):
        return "n/a"
    du = display_unit("x" + ("_t_co2" if "CO" in unit else "_t_c"), [value])
    return f"{significant(value * du.factor, 3)} {du.unit}"


def fmt_change(percent: float) -> str:
    """A change in percent for prose, with its sign: ``+12.3 %``, ``−4.0 %``."""
    if not math.isfinite(percent):
        return "n/a"
    sign = "+" if percent > 0 else ("−" if percent < 0 else "±")
    return f"{sign}{abs(percent):,.1f} %"
