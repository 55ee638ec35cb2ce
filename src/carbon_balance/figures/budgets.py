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


def budget_totals(region: pd.DataFrame, groups: pd.DataFrame | None = None, *,
                  basis: str = "CO2", generated: bool | str = False) -> Figure:
    """Bars of CE, CS and CB by year for the region and for each group.

    Parameters
    ----------
    region : ``region.csv`` (year, ce_t_co2, cs_t_co2, cb_t, ...), one row per year
    groups : ``groups.csv`` (group, year, ...) or None
    basis : ``"CO2"`` (default) or ``"C"``: the unit the bars are drawn in
    generated : label the figure as made from generated inputs (CS depends on NEP)
    """
    panels = [("Region", region)]
    if groups is not None and "group" in groups and len(groups):
        panels += [(str(g), t) for g, t in groups.groupby("group", sort=True)]
    all_values = pd.concat([budget_columns(t, basis) for _, t in panels]).to_numpy().ravel()
    factor, unit = display_scale(all_values, basis_unit(basis))
    with style():
        fig, axes = small_multiples(len(panels), 3.2, 1.4)
        for ax, (name, t) in zip(axes, panels):
            t = t.sort_values("year")
            vals = budget_columns(t, basis) * factor
            x = np.arange(len(t))
            width = 0.27
            for j, q in enumerate(("CE", "CS", "CB")):
                ax.bar(x + (j - 1) * width, vals[q], width, color=BAR_COLOURS[q], label=q)
            ax.axhline(0, color="black", linewidth=0.8)
            ax.set_xticks(x, [str(int(y)) for y in t["year"]])
            ax.set_title(text(textwrap.fill(name, 26)), fontsize=12)  # long group names
            ax.set_ylabel(unit)
        handles = [Patch(color=c, label=q) for q, c in BAR_COLOURS.items()]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False,
                   title="CE emissions, CS sequestration, CB = CE - CS")
        fig.suptitle(f"Carbon budget by year [{unit}]")
        mark_generated(fig, generated)
    return fig
