"""The one-screen summary that opens the report: the numbers a planner reads first.

Built from the tables of an output folder only (``region.csv``, ``groups.csv``,
``units.csv``, ``zone_shares.csv``, ``emissions_backtest.csv`` and, after
``uncertainty``, ``zone_probabilities.csv``); every part is left out when its table is.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .format import display_unit, fmt_amount, fmt_change, significant

#: Most changed and least certain units listed in the summary (the rest in the tables).
MAX_LISTED = 12

#: Accuracy classes of a forecast by its mean absolute percentage error [%]
#: (Lewis C.D. 1982, Industrial and business forecasting methods, Butterworths, p. 40):
#: < 10 highly accurate, 10-20 good, 20-50 reasonable, > 50 inaccurate.
MAPE_CLASSES = ((10.0, "highly accurate"), (20.0, "good"), (50.0, "reasonable"),
                (math.inf, "inaccurate"))


def _num(t: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(t[column], errors="coerce") if column in t else pd.Series(
        np.nan, index=t.index)


def _true(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])


def _estimated_years(units: pd.DataFrame | None, members: set[str] | None = None) -> dict:
    """{year: number of units whose CE that year is estimated} (among ``members``)."""
    if units is None or "ce_estimated" not in units:
        return {}
    u = units if members is None else units[units["group"].astype(str).isin(members)]
    est = u[_true(u["ce_estimated"])]
    return {int(y): int(n) for y, n in est.groupby("year").size().items()}


def budget_rows(name: str, table: pd.DataFrame, basis_unit: str, estimated: dict) -> dict | None:
    """CE, CS, CB, CBI of one level (region or group): first year, last year, change."""
    t = table.assign(year=pd.to_numeric(table["year"], errors="coerce")).dropna(subset=["year"])
    if t.empty:
        return None
    t = t.sort_values("year")
    first, last = t.iloc[0], t.iloc[-1]
    cs_col = "cs_t_c" if basis_unit == "t C" else "cs_t_co2"
    ce_col = "ce_t_c" if basis_unit == "t C" and "ce_t_c" in t else "ce_t_co2"
    row = {"name": name, "year_first": int(first["year"]), "year_last": int(last["year"]),
           "quantities": []}
    for label, col in (("CE", ce_col), ("CS", cs_col), ("CB", "cb_t"), ("CBI", "cbi")):
        if col not in t:
            continue
        a, b = float(_num(t, col).iloc[0]), float(_num(t, col).iloc[-1])
        du = display_unit(col if col != "cb_t" else "cb_t", _num(t, col), basis_unit)
        change = (b - a) / abs(a) * 100 if a and np.isfinite(a) and np.isfinite(b) else np.nan
        fmt = (lambda x: f"{x:.2f}") if label == "CBI" else (
            lambda x, f=du.factor: significant(x * f, 4))
        row["quantities"].append({
            "label": label, "unit": "–" if label == "CBI" else du.unit,
            "first": fmt(a) if np.isfinite(a) else "n/a",
            "last": fmt(b) if np.isfinite(b) else "n/a",
            "change": fmt_change(change),
            "estimated_first": label in ("CE", "CB", "CBI")
            and estimated.get(int(first["year"]), 0) > 0,
            "estimated_last": label in ("CE", "CB", "CBI")
            and estimated.get(int(last["year"]), 0) > 0,
        })
    return row


def zone_overview(shares: pd.DataFrame | None, zone_order) -> dict | None:
    """Zone counts and area shares per year: {years, rows: [{zone, cells: [...]}]}."""
    if shares is None or shares.empty:
        return None
    s = shares.assign(year=pd.to_numeric(shares["year"]).astype(int),
                      n_units=_num(shares, "n_units"), share=_num(shares, "share_percent"))
    years = sorted(s["year"].unique())
    zones = [z for z in zone_order if z in set(s["zone"])] + sorted(
        set(s["zone"]) - set(zone_order))
    rows = []
    for z in zones:
        cells = []
        for y in years:
            g = s[(s["zone"] == z) & (s["year"] == y)]
            n = int(g["n_units"].sum()) if len(g) else 0
            share = float(g["share"].sum()) if len(g) else 0.0
            cells.append(f"{n} ({share:.1f} %)" if n else "–")
        if any(c != "–" for c in cells):  # a zone no unit ever had is left out
            rows.append({"zone": z, "cells": cells})
    return {"years": years, "rows": rows}


def zone_changes(units: pd.DataFrame | None) -> dict | None:
    """Units whose zone in the last year differs from the first year."""
    if units is None or "zone" not in units:
        return None
    u = units.assign(year=pd.to_numeric(units["year"]).astype(int))
    years = sorted(u["year"].unique())
    if len(years) < 2:
        return None
    a = u[u["year"] == years[0]].set_index("unit_id")
    b = u[u["year"] == years[-1]].set_index("unit_id")
    both = a.index.intersection(b.index)
    moved = [(str(a.at[i, "name"]), str(a.at[i, "zone"]), str(b.at[i, "zone"]))
             for i in both if a.at[i, "zone"] != b.at[i, "zone"]]
    moved.sort()
    return {"year_first": years[0], "year_last": years[-1], "n": len(moved),
            "n_units": len(both), "rows": moved[:MAX_LISTED], "more": max(0, len(moved) - MAX_LISTED)}


def least_certain(probs: pd.DataFrame | None) -> dict | None:
    """Units of the last year whose plain-run zone is least probable over the draws."""
    if probs is None or "plain_zone" not in probs:
        return None
    p = probs.assign(year=pd.to_numeric(probs["year"]).astype(int))
    year = int(p["year"].max())
    p = p[p["year"] == year].copy()
    p["p_zone"] = [float(r[z]) if z in p.columns and pd.notna(r[z]) else np.nan
                   for z, (_, r) in zip(p["plain_zone"], p.iterrows())]
    p = p.dropna(subset=["p_zone"]).sort_values(["p_zone", "name"]).head(MAX_LISTED // 2)
    draws = int(pd.to_numeric(probs["draws"]).max()) if "draws" in probs else None
    return {"year": year, "draws": draws,
            "rows": [(str(r["name"]), str(r["plain_zone"]), f"{100 * r['p_zone']:.0f} %")
                     for _, r in p.iterrows()]}


def backtest_verdict(backtest: pd.DataFrame | None, units: pd.DataFrame | None) -> dict | None:
    """Which method filled the emission gaps, its backtest error and how it ranks."""
    if backtest is None or backtest.empty or "mape_percent" not in backtest:
        return None
    b = backtest.assign(mape=_num(backtest, "mape_percent")).dropna(subset=["mape"])
    if b.empty:
        return None
    best = b.loc[b["mape"].idxmin()]
    used = None
    if units is not None and "ce_method" in units and "ce_estimated" in units:
        est = units[_true(units["ce_estimated"])]
        if len(est):
            used = est["ce_method"].astype(str).value_counts().idxmax()
    n_est = int(_true(units["ce_estimated"]).sum()) if units is not None and \
        "ce_estimated" in units else 0
    row = b[b["method"].astype(str) == used] if used else b.iloc[0:0]
    mape = float(row["mape"].iloc[0]) if len(row) else None
    klass = next(label for bound, label in MAPE_CLASSES if (mape if mape is not None
                                                              else best["mape"]) < bound)
    return {"used": used, "n_estimated": n_est, "mape": None if mape is None else f"{mape:.1f}",
            "class": klass, "best": str(best["method"]), "best_mape": f"{best['mape']:.1f}",
            "used_is_best": used == str(best["method"]),
            "holdout": str(b["holdout_years"].iloc[0]) if "holdout_years" in b else ""}


def headline(region: pd.DataFrame | None, basis_unit: str, estimated: dict) -> str | None:
    """One sentence on the region's last year: CE, CS, the deficit or surplus and CBI."""
    if region is None or region.empty or "cb_t" not in region:
        return None
    t = region.assign(year=pd.to_numeric(region["year"], errors="coerce")).sort_values("year")
    last = t.iloc[-1]
    unit = basis_unit
    ce_col = "ce_t_c" if unit == "t C" and "ce_t_c" in t else "ce_t_co2"
    cs_col = "cs_t_c" if unit == "t C" else "cs_t_co2"
    ce, cs, cb = (float(pd.to_numeric(pd.Series([last.get(c)]), errors="coerce").iloc[0])
                  for c in (ce_col, cs_col, "cb_t"))
    if not np.isfinite(cb):
        return None
    year = int(last["year"])
    state = "deficit" if cb > 0 else "surplus"
    cbi = pd.to_numeric(pd.Series([last.get("cbi")]), errors="coerce").iloc[0]
    est = " (emissions partly estimated)" if estimated.get(year) else ""
    return (f"In {year} the region emitted {fmt_amount(ce, unit)}{est} and its vegetation "
            f"took up {fmt_amount(cs, unit)}: a carbon {state} of {fmt_amount(abs(cb), unit)}"
            + (f", CBI {cbi:.2f}." if np.isfinite(cbi) and cs > 0 else "."))


def build_summary(res, *, zone_order, basis_unit: str) -> dict:
    """Everything the summary shows, as plain values (any part may be None)."""
    units, region, groups = res.table("units"), res.table("region"), res.table("groups")
    budgets = []
    if region is not None and len(region):
        budgets.append(budget_rows("Region", region, basis_unit, _estimated_years(units)))
    if groups is not None and "group" in groups and groups["group"].nunique() > 1:
        for g, t in groups.groupby("group", sort=True):
            budgets.append(budget_rows(str(g), t, basis_unit, _estimated_years(units, {str(g)})))
    return {
        "headline": headline(region, basis_unit, _estimated_years(units)),
        "budgets": [b for b in budgets if b],
        "zones": zone_overview(res.table("zone_shares"), zone_order),
        "changes": zone_changes(units),
        "uncertain": least_certain(res.table("zone_probabilities")),
        "backtest": backtest_verdict(res.table("emissions_backtest"), units),
    }
