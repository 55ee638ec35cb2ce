"""Carbon emissions, sequestration and budget of the region and its groups (study Figure 3)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ._style import (
    display_scale,
    mark_generated,
    small_multiples,
    style,
    text,
)
from .maps import basis_unit

#: t C per t CO2 (molar masses 12 and 44), for studies on a carbon basis.
C_PER_CO2 = 12.0 / 44.0
BAR_COLOURS = {"CE": "#d95f02", "CS": "#1b9e77", "CB": "#525252"}


def budget_columns(table: pd.DataFrame, basis: str = "CO2") -> pd.DataFrame:
    """CE, CS and CB of each row in the basis unit (METHOD.md section 3, "Units basis").

    Uses ``ce_t_co2``, ``cs_t_co2`` (or ``cs_t_c``) and ``cb_t`` of a units, groups or
    region table; missing columns give NaN.
    """
    out = pd.DataFrame(index=table.index)
    num = lambda c: pd.to_numeric(table[c], errors="coerce") if c in table else np.nan
    if str(basis).upper() == "C":
        out["CE"] = table["ce_t_c"] if "ce_t_c" in table else num("ce_t_co2") * C_PER_CO2
        out["CS"] = num("cs_t_c")
    else:
        out["CE"] = num("ce_t_co2")
        out["CS"] = num("cs_t_co2")
    out["CB"] = num("cb_t") if "cb_t" in table else out["CE"] - out["CS"]
    return out


#: Up to this many years the three quantities are grouped bars; beyond, CE and CS are
#: lines and CB bars, so that 25 years stay readable in a phone-wide panel.
MAX_GROUPED_YEARS = 8
ESTIMATED_HATCH = "////"


def estimated_years(units: pd.DataFrame | None) -> dict[str, set[int]]:
    """{"Region": years with any estimated CE, group: years, ...} from ``units.csv``."""
    if units is None or "ce_estimated" not in units:
        return {}
    flag = units["ce_estimated"].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    est = units[flag]
    out = {"Region": {int(y) for y in est["year"]}}
    if "group" in est:
        for g, t in est.groupby("group"):
            out[str(g)] = {int(y) for y in t["year"]}
    return out


def _year_ticks(ax, years: list[int], x: np.ndarray) -> None:
    """Every year up to 8, then every 2nd, 5th ...: labels never run together."""
    step = 1 if len(years) <= 8 else next(s for s in (2, 5, 10) if len(years) / s <= 7)
    keep = [i for i, y in enumerate(years) if (y - years[0]) % step == 0]
    ax.set_xticks(x[keep], [str(years[i]) for i in keep])
    if len(years) > 8:
        ax.set_xticks(x, minor=True)


def budget_totals(region: pd.DataFrame, groups: pd.DataFrame | None = None, *,
                  basis: str = "CO2", generated: bool | str = False,
                  estimated: dict[str, set[int]] | None = None) -> Figure:
    """CE, CS and CB by year for the region and for each group (study Figure 3).

    Parameters
    ----------
    region : ``region.csv`` (year, ce_t_co2, cs_t_co2, cb_t, ...), one row per year
    groups : ``groups.csv`` (group, year, ...) or None; with a single group its panel
        would repeat the region's and is left out
    basis : ``"CO2"`` (default) or ``"C"``: the unit the bars are drawn in
    generated : label the figure as made from generated inputs (CS depends on NEP)
    estimated : {"Region" or group: years whose CE includes estimated (forecast) values},
        see :func:`estimated_years`; those CE (and CB) bars are hatched
    """
    estimated = estimated or {}
    panels = [("Region", region)]
    if groups is not None and "group" in groups and groups["group"].nunique() > 1:
        panels += [(str(g), t) for g, t in groups.groupby("group", sort=True)]
    all_values = pd.concat([budget_columns(t, basis) for _, t in panels]).to_numpy().ravel()
    factor, unit = display_scale(all_values, basis_unit(basis))
    n_years = int(region["year"].nunique())
    grouped = n_years <= MAX_GROUPED_YEARS
    any_est = False
    with style():
        cols = 1 if len(panels) == 1 else 2
        fig, axes = small_multiples(len(panels), 3.6 if cols == 1 else 3.2, 1.6, max_cols=cols)
        for ax, (name, t) in zip(axes, panels):
            t = t.sort_values("year")
            years = [int(y) for y in t["year"]]
            vals = budget_columns(t, basis) * factor
            x = np.arange(len(t))
            est = np.array([y in estimated.get(name, set()) for y in years])
            any_est |= bool(est.any())
            hatch = [ESTIMATED_HATCH if e else "" for e in est]
            if grouped:
                width = 0.27
                for j, q in enumerate(("CE", "CS", "CB")):
                    bars = ax.bar(x + (j - 1) * width, vals[q], width, color=BAR_COLOURS[q],
                                  label=q, edgecolor="white", linewidth=0.5)
                    if q != "CS":  # CB = CE - CS carries the estimate of CE
                        for bar, h in zip(bars, hatch):
                            bar.set_hatch(h)
            else:
                bars = ax.bar(x, vals["CB"], 0.75, color=BAR_COLOURS["CB"], alpha=0.85,
                              edgecolor="white", linewidth=0.5)
                for bar, h in zip(bars, hatch):
                    bar.set_hatch(h)
                ax.plot(x, vals["CE"], color=BAR_COLOURS["CE"], linewidth=2)
                ax.plot(x, vals["CS"], color=BAR_COLOURS["CS"], linewidth=2)
                ax.scatter(x[~est], vals["CE"][~est], color=BAR_COLOURS["CE"], s=14, zorder=3)
                ax.scatter(x[est], vals["CE"][est], facecolor="white",
                           edgecolor=BAR_COLOURS["CE"], s=18, zorder=3, linewidth=1.4)
            ax.axhline(0, color="black", linewidth=0.8)
            _year_ticks(ax, years, x)
            if len(years) < 3:  # bars keep their width with one or two years
                ax.set_xlim(-1.2, len(years) + 0.2)
            ax.set_title(text(textwrap.fill(name, 34 if cols == 1 else 26)), fontsize=12)
            ax.set_ylabel(unit)
            ax.grid(axis="y", color="#e5e5e5", zorder=0)
            ax.set_axisbelow(True)
        if grouped:
            handles = [Patch(color=c, label=q) for q, c in BAR_COLOURS.items()]
        else:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], color=BAR_COLOURS["CE"], linewidth=2, label="CE"),
                       Line2D([], [], color=BAR_COLOURS["CS"], linewidth=2, label="CS"),
                       Patch(color=BAR_COLOURS["CB"], label="CB")]
        labels = [h.get_label() for h in handles]
        if any_est:
            hatch = Patch(facecolor="white", edgecolor="#333333", hatch=ESTIMATED_HATCH)
            if grouped:
                handles.append(hatch)
            else:  # hollow CE markers and hatched CB bars
                from matplotlib.lines import Line2D

                handles.append((hatch, Line2D([], [], marker="o", linestyle="",
                                              markerfacecolor="white",
                                              markeredgecolor=BAR_COLOURS["CE"])))
            labels.append("CE estimated (forecast)")
        fig.legend(handles=handles, labels=labels, loc="outside lower center", ncols=min(4, len(handles)),
                   frameon=False, title="CE emissions, CS sequestration, CB = CE - CS")
        fig.suptitle(f"Carbon budget by year [{unit}]")
        mark_generated(fig, generated)
    return fig
