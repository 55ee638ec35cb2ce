"""Carbon balance zones: maps per year, area shares and transitions (study Figure 7).

The five zones and "unclassified" always have the same colours and legend
(:data:`~carbon_balance.figures._style.ZONE_COLOURS`), whatever the study.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ._style import (
    WIDTH,
    ZONE_COLOURS,
    ZONE_ORDER,
    ZONE_SHORT,
    grid_shape,
    mark_generated,
    new_figure,
    style,
)
from .maps import categorical_maps


def zone_maps(units, *, years: Sequence[int] | None = None,
              generated: bool | str = False) -> Figure:
    """Map of the carbon balance zone of every unit, one panel per year, fixed legend.

    ``units`` is a long GeoDataFrame with ``year``, ``zone`` and ``geometry``.
    """
    return categorical_maps(units, "zone", ZONE_COLOURS, title="Carbon balance zones",
                            legend_title="Zone (rules of Fan et al. 2024)", years=years,
                            generated=generated)


def zone_share_chart(zone_shares: pd.DataFrame, *, generated: bool | str = False) -> Figure:
    """Stacked bars of each zone's share of the study area [%] by year (``zone_shares.csv``)."""
    t = zone_shares.copy()
    t["share_percent"] = pd.to_numeric(t["share_percent"], errors="coerce").fillna(0.0)
    wide = t.pivot_table(index="year", columns="zone", values="share_percent", aggfunc="sum")
    wide = wide.reindex(columns=[z for z in ZONE_ORDER if z in wide.columns]
                        + [z for z in wide.columns if z not in ZONE_ORDER]).fillna(0.0)
    years = [str(int(y)) for y in wide.index]
    with style():
        fig = new_figure(WIDTH, 1.0 + 0.55 * len(years) + 2.2)
        ax = fig.subplots()
        left = np.zeros(len(years))
        for zone in wide.columns:
            share = wide[zone].to_numpy()
            ax.barh(years, share, left=left, color=ZONE_COLOURS.get(zone, "#ffffff"),
                    edgecolor="white", label=zone)
            for i, (l, s) in enumerate(zip(left, share)):
                if s >= 8:  # label only bars wide enough to hold the number
                    ax.text(l + s / 2, i, f"{s:.0f}", ha="center", va="center", fontsize=11)
            left += share
        ax.set_xlim(0, 100)
        ax.set_xlabel("share of the study area [%]")
        ax.invert_yaxis()
        handles = [Patch(color=c, label=z) for z, c in ZONE_COLOURS.items()]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle("Zone area shares by year [%]")
        mark_generated(fig, generated)
    return fig


def zone_transition_chart(transitions: pd.DataFrame, *, by: str = "n_units",
                          generated: bool | str = False) -> Figure:
    """Transition matrices of zones between years (``zone_transitions.csv``).

    One heat map per (year_from, year_to) pair in the table; rows are the zone in the
    first year, columns the zone in the second, cells the number of units (``by="n_units"``)
    or their area (``by="area_km2"`` [km2]). The diagonal is the units that kept their zone.
    """
    t = transitions.copy()
    t[by] = pd.to_numeric(t[by], errors="coerce").fillna(0.0)
    pairs = sorted({(int(a), int(b)) for a, b in zip(t["year_from"], t["year_to"])})
    zones = list(ZONE_ORDER) + sorted(set(t["zone_from"]).union(t["zone_to"]) - set(ZONE_ORDER))
    short = [ZONE_SHORT.get(z, z[:10]) for z in zones]
    unit = "units" if by == "n_units" else "km2"
    with style():
        rows, cols = grid_shape(len(pairs), max_cols=1)
        fig = new_figure(WIDTH, rows * 5.2 + 1.2)
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, (a, b) in zip(axes, pairs):
            g = t[(t["year_from"].astype(int) == a) & (t["year_to"].astype(int) == b)]
            m = (g.pivot_table(index="zone_from", columns="zone_to", values=by, aggfunc="sum")
                 .reindex(index=zones, columns=zones).fillna(0.0).to_numpy())
            ax.imshow(m, cmap="Blues", vmin=0, vmax=max(m.max(), 1))
            for i in range(len(zones)):
                for j in range(len(zones)):
                    if m[i, j]:
                        ax.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center", fontsize=11,
                                color="white" if m[i, j] > 0.6 * m.max() else "black")
            ax.set_xticks(range(len(zones)), short, rotation=45, ha="right")
            ax.set_yticks(range(len(zones)), short)
            ax.set_xlabel(f"zone in {b}")
            ax.set_ylabel(f"zone in {a}")
            ax.set_title(f"{a} -> {b}")
        fig.suptitle(f"Zone transitions [{unit}]")
        mark_generated(fig, generated)
    return fig
