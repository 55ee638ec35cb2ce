"""Carbon emissions per unit and year: inventories, unit conversion, gap filling, backtest.

Inventories (``[emissions]`` in the study file): the CEADs county workbook (Chen et al.
2020, Sci. Data 7:391, doi:10.1038/s41597-020-00736-3) summed to city codes, or any wide
or long unit x year table (CSV or XLSX). Values are converted to t CO2. Study years the
inventory lacks are estimated per unit by :mod:`.forecast`; every value carries its 95 %
interval, its method and an ``estimated`` flag.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import CO2_PER_C
from ..errors import InputError
from ..workers import process_pool
from . import forecast as fc
from .table_readers import read_unit_year_table

log = logging.getLogger(__name__)

#: Factors to t CO2.
TO_T_CO2 = {"Mt CO2": 1e6, "t CO2": 1.0, "t C": CO2_PER_C}
FILL_METHODS = ("arima", "naive", "drift", "ets", "best")
BACKTEST_METHODS = ("arima", "naive", "drift", "ets", "best")
#: ``fill_verdict`` warns when the fill method's backtest error is at least this many
#: times that of the best other method.
FILL_WARN_RATIO = 2.0
#: ... and at least this large [% MAPE]: an error below it is within what any of the
#: methods can be trusted to (the inventories' own uncertainty is several per cent;
#: Shan et al. 2018, doi:10.1038/sdata.2017.201), so 0.01 % against 0.0 % is no warning.
FILL_WARN_MIN_MAPE = 1.0

COLUMNS = ["unit_id", "year", "ce_t_co2", "ce_low_t_co2", "ce_high_t_co2", "ce_method",
           "ce_estimated"]


def load_emissions(study) -> pd.DataFrame:
    """The study's inventory as a wide frame [t CO2]: index unit_id, columns years."""
    sec = study.emissions
    wide = read_unit_year_table(sec, study.resolve(sec.path), key="emissions.path")
    return wide * TO_T_CO2[sec.units]


def _series_forecasts(args) -> list[tuple]:
    """Worker: estimates for one unit (picklable for the process pool)."""
    uid, years, values, targets, method, confidence = args
    years = np.asarray(years)
    values = np.asarray(values, dtype=float)
    rows = []
    # targets sharing the same history share one fit
    groups: dict[int, list[int]] = {}
    for t in targets:
        before = years[(years < t) & np.isfinite(values)]
        if before.size == 0:
            rows.append((uid, t, np.nan, np.nan, np.nan, "no data before this year", True))
            continue
        groups.setdefault(int(before.max()), []).append(t)
    for last, ts in groups.items():
        mask = (years <= last)
        hist_years, hist = years[mask], values[mask]
        first = hist_years[np.isfinite(hist)].min()
        hist = hist[hist_years >= first]
        if np.isnan(hist).any():  # interior gaps: linear interpolation keeps the spacing
            idx = np.arange(hist.size)
            ok = np.isfinite(hist)
            hist = np.interp(idx, idx[ok], hist[ok])
        h = max(ts) - last
        f = fc.forecast(hist, h, method, confidence=confidence)
        for t in ts:
            k = t - last - 1
            rows.append((uid, t, f.mean[k], f.low[k], f.high[k], f.method, True))
    return rows


def _map(func, tasks, workers: int | None):
    """Run ``func`` over ``tasks``, in processes when there is more than one core to use."""
    workers = workers if workers is not None else min(len(tasks), os.cpu_count() or 1, 4)
    if workers <= 1 or len(tasks) <= 1:
        return [func(t) for t in tasks]
    with process_pool(workers) as pool:
        return list(pool.map(func, tasks, chunksize=max(1, len(tasks) // (4 * workers))))


def fill_years(wide: pd.DataFrame, years, method: str, *, units=None,
               confidence: float = fc.CONFIDENCE, workers: int | None = None) -> pd.DataFrame:
    """Long table for ``years``: observed values and estimates for the missing ones.

    Returns :data:`COLUMNS` (values in the units of ``wide``). ``method`` ``"none"`` leaves
    missing years NaN. Estimates for year t use only observations before t. The
    estimates do not depend on the unit of ``wide`` (see :mod:`.forecast`).
    """
    units = list(wide.index) if units is None else list(units)
    years = [int(y) for y in years]
    rows, tasks = [], []
    all_years = sorted(set(int(c) for c in wide.columns))
    for uid in units:
        series = wide.loc[uid] if uid in wide.index else pd.Series(dtype=float)
        missing = []
        for y in years:
            v = series.get(y, np.nan)
            if np.isfinite(v):
                rows.append((uid, y, v, v, v, "inventory", False))
            else:
                missing.append(y)
        if not missing:
            continue
        if method == "none" or series.empty:
            rows += [(uid, y, np.nan, np.nan, np.nan, "missing", False) for y in missing]
            continue
        values = series.reindex(all_years).to_numpy(dtype=float)
        tasks.append((uid, all_years, values, missing, method, confidence))
    for part in _map(_series_forecasts, tasks, workers):
        rows += part
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = {u: i for i, u in enumerate(units)}
    return out.sort_values(["unit_id", "year"], key=lambda s: s.map(order) if s.name == "unit_id"
                           else s).reset_index(drop=True)


def estimate_emissions(study, unit_ids, *, workers: int | None = None) -> pd.DataFrame:
    """Emissions of the study's units and years [t CO2] with intervals and flags."""
    wide = load_emissions(study)
    missing = [u for u in unit_ids if u not in wide.index]
    if missing:
        raise InputError(f"units not in the emission table: {', '.join(missing)}",
                         file=study.resolve(study.emissions.path), key="emissions.id",
                         fix="check that emissions.id holds the same codes as units.id")
    out = fill_years(wide, study.study.years, study.emissions.fill, units=unit_ids,
                     workers=workers)
    gaps = out[out.ce_t_co2.isna()]
    if len(gaps):
        raise InputError("emissions missing for " + _unit_years(gaps),
                         file=study.resolve(study.emissions.path), key="emissions.fill",
                         fix="set emissions.fill (arima, naive, drift, ets or best) or add the values")
    return out


def _unit_years(frame: pd.DataFrame) -> str:
    parts = [f"{u} ({', '.join(map(str, g.year))})" for u, g in frame.groupby("unit_id", sort=False)]
    return "; ".join(parts[:20]) + (" ..." if len(parts) > 20 else "")


def _backtest_unit(args) -> list[tuple]:
    uid, values, holdout, methods = args
    y = np.asarray(values, dtype=float)
    y = y[np.isfinite(y)]
    if y.size < holdout + 3:
        return []
    train, test = y[:-holdout], y[-holdout:]
    out = []
    for m in methods:
        f = fc.forecast(train, holdout, m)  # 'best' selects on train only
        out.append((uid, m, fc.mape(f.mean, test), f.method))
    return out


def backtest(wide: pd.DataFrame, *, holdout: int = 3, methods=BACKTEST_METHODS,
             units=None, workers: int | None = None) -> pd.DataFrame:
    """Per method, the MAPE [%] of forecasting each unit's last ``holdout`` observed years.

    Every method, ``best`` included, sees only the years before the held-out ones.
    Returns ``method, mape_percent, n_units, holdout_years`` (MAPE over all units and years).
    """
    units = list(wide.index) if units is None else [u for u in units if u in wide.index]
    tasks = [(u, wide.loc[u].to_numpy(dtype=float), holdout, tuple(methods)) for u in units]
    rows = [r for part in _map(_backtest_unit, tasks, workers) for r in part]
    per_unit = pd.DataFrame(rows, columns=["unit_id", "method", "mape_percent", "chosen"])
    last = [int(c) for c in wide.columns][-holdout:]
    table = (per_unit.groupby("method", sort=False)
             .agg(mape_percent=("mape_percent", "mean"), n_units=("unit_id", "nunique"))
             .reindex(list(methods)).reset_index())
    table["holdout_years"] = f"{last[0]}-{last[-1]}" if last else ""
    table["mape_percent"] = table["mape_percent"].round(3)
    return table


@dataclass(frozen=True)
class FillVerdict:
    """How the study's fill method did in its own backtest, against the other methods.

    ``mape_percent``: the fill method's backtest MAPE [%]; ``other`` and
    ``other_mape_percent``: the best other method scored and its MAPE [%]; ``ratio``:
    mape_percent / other_mape_percent; ``warn``: ratio >= ``threshold`` and
    mape_percent >= :data:`FILL_WARN_MIN_MAPE`. NaN and None
    where the table does not score the method or no other method.
    """

    method: str
    mape_percent: float
    other: str | None
    other_mape_percent: float
    ratio: float
    threshold: float
    warn: bool
    holdout_years: str

    @property
    def message(self) -> str:
        """One sentence for the log and the report; empty when there is nothing to say."""
        if not np.isfinite(self.mape_percent) or self.other is None:
            return ""
        years = f" on {self.holdout_years}" if self.holdout_years else ""
        if self.warn:
            return (f"emissions.fill = '{self.method}' misses the held-out years{years} by "
                    f"{self.mape_percent:.1f} % (MAPE), {self.ratio:.1f} times the "
                    f"{self.other_mape_percent:.1f} % of '{self.other}': the estimated years "
                    f"are likely less accurate than with fill = '{self.other}'")
        return (f"emissions.fill = '{self.method}' misses the held-out years{years} by "
                f"{self.mape_percent:.1f} % (MAPE); the best other method, "
                f"'{self.other}', by {self.other_mape_percent:.1f} %")


def fill_verdict(table: pd.DataFrame, method: str, ratio: float = FILL_WARN_RATIO,
                 min_mape_percent: float = FILL_WARN_MIN_MAPE) -> FillVerdict:
    """Judge the fill ``method`` by a :func:`backtest` ``table`` of the study's own data.

    ``warn`` is set when its MAPE is at least ``ratio`` times the lowest MAPE of the other
    methods in the table and at least ``min_mape_percent`` [%] (so a series every method
    follows to a fraction of a per cent raises nothing). A
    method the table does not score (``none``; ``best`` when it was not backtested)
    gives NaN figures and no warning.
    """
    mapes = dict(zip(table["method"], pd.to_numeric(table["mape_percent"], errors="coerce")))
    held = table["holdout_years"].dropna() if "holdout_years" in table else pd.Series(dtype=str)
    years = str(held.iloc[0]) if len(held) else ""
    own = float(mapes.get(method, np.nan))
    others = {m: float(v) for m, v in mapes.items() if m != method and np.isfinite(v)}
    if not np.isfinite(own) or not others:
        return FillVerdict(method, own, None, np.nan, np.nan, ratio, False, years)
    other = min(others, key=others.get)
    best_other = others[other]
    r = own / best_other if best_other > 0 else (np.inf if own > 0 else 1.0)
    warn = bool(r >= ratio and own >= min_mape_percent)
    return FillVerdict(method, own, other, best_other, float(r), ratio, warn, years)


def backtest_study(study_path, holdout: int = 3, out=None, *, workers: int | None = None) -> pd.DataFrame:
    """``carbon-balance emissions backtest``: per-method MAPE on the study's inventory.

    Limited to the study's units when the study declares them. Writes ``out`` (CSV) if given.
    """
    from ..study import load_study
    from .boundaries import load_units

    study = load_study(study_path)
    if study.emissions is None:
        from ..errors import StudyError
        raise StudyError("the study has no [emissions] section", file=study_path,
                         key="emissions", fix="add [emissions] path, format, units")
    wide = load_emissions(study)
    units = None
    if study.units is not None:
        u = study.units
        units = list(load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group,
                                layer=u.layer).unit_id)
    table = backtest(wide, holdout=holdout, units=units, workers=workers)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    return table
