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
    mark_generated,
    new_figure,
    style,
)
from .maps import categorical_maps


def zone_maps(units, *, years: Sequence[int] | None = None,
              generated: bool | str = False, credit: str | None = None) -> Figure:
    """Map of the carbon balance zone of every unit, one panel per year, fixed legend.

    ``units`` is a long GeoDataFrame with ``year``, ``zone`` and ``geometry``.
    """
    return categorical_maps(units, "zone", ZONE_COLOURS, title="Carbon balance zones",
                            legend_title="Zone (rules of Fan et al. 2024)", years=years,
                            generated=generated, credit=credit)


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


#: Vertical gap between the zone blocks of a year [share of the total].
ALLUVIAL_GAP = 0.025
#: Width of a year's stacked block [share of the distance between two years].
ALLUVIAL_BAR = 0.18


def _consecutive_pairs(t: pd.DataFrame) -> list[tuple[int, int]]:
    """The (year_from, year_to) pairs of consecutive years (a first->last pair is skipped)."""
    pairs = sorted({(int(a), int(b)) for a, b in zip(t["year_from"], t["year_to"])})
    years = sorted({y for p in pairs for y in p})
    nxt = {a: b for a, b in zip(years, years[1:])}
    chain = [p for p in pairs if nxt.get(p[0]) == p[1]]
    return chain or pairs[:1]


def _band(ax, x0: float, x1: float, y0: tuple[float, float], y1: tuple[float, float],
          colour: str) -> None:
    """A band from the interval ``y0`` at ``x0`` to ``y1`` at ``x1``, smooth (a cosine ease)."""
    xs = np.linspace(x0, x1, 40)
    w = (1 - np.cos(np.linspace(0, np.pi, 40))) / 2
    lower = y0[0] + (y1[0] - y0[0]) * w
    upper = y0[1] + (y1[1] - y0[1]) * w
    ax.fill_between(xs, lower, upper, color=colour, alpha=0.45, linewidth=0)


def zone_transition_chart(transitions: pd.DataFrame, *, by: str = "n_units",
                          generated: bool | str = False) -> Figure:
    """Alluvial chart of the zones between consecutive study years (``zone_transitions.csv``).

    Each year is a stacked column of its zones (height: number of units, ``by="n_units"``,
    or their area, ``by="area_km2"`` [km2]); bands join a zone in one year to the zones
    the same units have in the next, coloured by the zone they leave. A unit that keeps
    its zone is a straight band. One compact figure for 2 to 25 years, where a matrix per
    pair of years was a page each.
    """
    t = transitions.copy()
    t[by] = pd.to_numeric(t[by], errors="coerce").fillna(0.0)
    t["year_from"], t["year_to"] = t["year_from"].astype(int), t["year_to"].astype(int)
    pairs = _consecutive_pairs(t)
    t = t[[(a, b) in set(pairs) for a, b in zip(t["year_from"], t["year_to"])]]
    years = sorted({y for p in pairs for y in p})
    zones = [z for z in ZONE_ORDER if z in set(t["zone_from"]) | set(t["zone_to"])] + sorted(
        (set(t["zone_from"]) | set(t["zone_to"])) - set(ZONE_ORDER))
    rank = {z: i for i, z in enumerate(zones)}
    # totals of each zone in each year: outgoing flows, and incoming flows for the last year
    totals = {y: {} for y in years}
    for (a, _), g in t.groupby(["year_from", "year_to"]):
        for z, v in g.groupby("zone_from")[by].sum().items():
            totals[a][z] = v
    last_pair = t[t["year_to"] == years[-1]]
    for z, v in last_pair.groupby("zone_to")[by].sum().items():
        totals[years[-1]][z] = v
    grand = max(sum(v.values()) for v in totals.values()) or 1.0
    gap = ALLUVIAL_GAP * grand

    def blocks(year):  # zone -> (bottom, top), first zone on top
        out, top = {}, grand + gap * (len(zones) - 1)
        for z in zones:
            h = totals[year].get(z, 0.0)
            out[z] = (top - h, top)
            top -= h + (gap if h else 0)
        return out

    unit = "units" if by == "n_units" else "km2"
    half = ALLUVIAL_BAR / 2
    with style():
        fig = new_figure(WIDTH if len(years) <= 12 else 9.0, 5.6)
        ax = fig.subplots()
        pos = {y: blocks(y) for y in years}
        for a, b in pairs:
            g = t[(t["year_from"] == a) & (t["year_to"] == b)]
            out_next = {z: pos[a][z][1] for z in zones}
            in_next = {z: pos[b][z][1] for z in zones}
            rows = sorted(g.itertuples(), key=lambda r: (rank[r.zone_from], rank[r.zone_to]))
            # incoming bands are stacked in the order of the zone they come from
            incoming = sorted(rows, key=lambda r: (rank[r.zone_to], rank[r.zone_from]))
            in_pos = {}
            for r in incoming:
                v = getattr(r, by)
                in_pos[(r.zone_from, r.zone_to)] = (in_next[r.zone_to] - v, in_next[r.zone_to])
                in_next[r.zone_to] -= v
            xa, xb = years.index(a) + half, years.index(b) - half
            for r in rows:
                v = getattr(r, by)
                if v <= 0:
                    continue
                src = (out_next[r.zone_from] - v, out_next[r.zone_from])
                out_next[r.zone_from] -= v
                _band(ax, xa, xb, src, in_pos[(r.zone_from, r.zone_to)],
                      ZONE_COLOURS.get(r.zone_from, "#999999"))
        min_label = 0.06 * grand
        for i, y in enumerate(years):
            for z, (lo, hi) in pos[y].items():
                if hi - lo <= 0:
                    continue
                ax.bar(i, hi - lo, bottom=lo, width=ALLUVIAL_BAR,
                       color=ZONE_COLOURS.get(z, "#999999"), edgecolor="white", linewidth=0.6)
                if hi - lo >= min_label and len(years) <= 12:
                    ax.text(i, (lo + hi) / 2, f"{hi - lo:.0f}", ha="center", va="center",
                            fontsize=10 if len(years) <= 6 else 8, color="black")
        step = 1 if len(years) <= 12 else 2
        ax.set_xticks(range(0, len(years), step), [str(y) for y in years[::step]])
        ax.set_xlim(-0.5, len(years) - 0.5)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_ylabel(f"{unit}, stacked ({grand:,.0f} in all)")
        handles = [Patch(color=ZONE_COLOURS[z], label=z) for z in ZONE_ORDER if z in zones]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(f"Zone transitions between study years [{unit}]")
        mark_generated(fig, generated)
    return fig
