"""CBI, ECC and ESC by unit and year as dot charts (study Figures 5 and 6)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ._style import WIDTH, mark_generated, new_figure, style, text
from .maps import QUANTITY_STYLES


#: Above this many units one row per unit no longer fits a page: the chart shows the
#: distribution of the units in each year instead (every value in the table).
MAX_ROWS = 40


def _distribution_chart(t: pd.DataFrame, quantity: str, years: list[int], threshold,
                        use_log: bool, title: str, generated) -> Figure:
    """One row per year: every unit as a dot (jittered), a box of the quartiles."""
    rng = np.random.default_rng(0)  # fixed jitter: the same figure on every run
    with style():
        fig = new_figure(WIDTH, 1.9 + 0.42 * max(len(years), 3))
        ax = fig.subplots()
        data = []
        for i, year in enumerate(years):
            v = t.loc[t["year"] == year, "value"].to_numpy(dtype=float)
            v = v[np.isfinite(v) & ((v > 0) if use_log else True)]
            data.append(v)
            ax.scatter(v, i + rng.uniform(-0.28, 0.28, v.size), s=7, color="#3b528b",
                       alpha=0.45, linewidth=0, zorder=2)
        ax.boxplot(data, positions=range(len(years)), orientation="horizontal", widths=0.6,
                   showfliers=False, patch_artist=True, zorder=3,
                   boxprops={"facecolor": "none", "edgecolor": "black"},
                   medianprops={"color": "#d95f02", "linewidth": 2})
        if threshold is not None:
            ax.axvline(threshold, color="#a50026", linestyle="--", linewidth=1.2,
                       label=f"threshold {threshold:g}")
        if use_log:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        step = 1 if len(years) <= 25 else 2
        ax.set_yticks(range(0, len(years), step), [str(y) for y in years[::step]])
        ax.set_ylim(len(years) - 0.5, -0.5)
        ax.grid(axis="x", color="#dddddd", zorder=0)
        n = t["unit_id"].nunique()
        ax.set_xlabel(f"{quantity.upper()} [-] of {n} units" + (" (log scale)" if use_log
                                                                 else "")
                      + "\ndots: units; box: quartiles; line: median")
        fig.legend(loc="outside lower center", frameon=False)
        fig.suptitle(f"{text(title)} [-]")
        mark_generated(fig, generated)
    return fig


def indicator_chart(units: pd.DataFrame, quantity: str, *, threshold: float | None = 1.0,
                    log: bool | str = "auto", generated: bool | str = False) -> Figure:
    """One row per unit, one dot per year: values of ``quantity`` against its threshold.

    Parameters
    ----------
    units : ``units.csv`` (unit_id, name, year, ``quantity``; ``group`` orders the rows)
    quantity : ``cbi``, ``ecc`` or ``esc`` (any numeric column works)
    threshold : drawn as a vertical line (the zoning threshold, 1 by default)
    log : log x axis; ``"auto"`` when all values are positive and span > 50x

    With more than :data:`MAX_ROWS` units the chart shows each year's distribution
    (every unit a dot, the quartiles as a box) instead of one row per unit.
    generated : label the figure as made from generated inputs
    """
    t = units.copy()
    t["value"] = pd.to_numeric(t[quantity], errors="coerce")
    keys = ["group", "name"] if "group" in t else ["name"]
    order = (t.drop_duplicates("unit_id").sort_values(keys, ascending=False)[["unit_id", "name"]])
    pos = {u: i for i, u in enumerate(order["unit_id"])}
    years = sorted(int(y) for y in t["year"].unique())
    colours = mpl.colormaps["viridis"](np.linspace(0, 0.9, max(len(years), 1)))
    v = t["value"].to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    use_log = log is True or (log == "auto" and finite.size > 0 and finite.min() > 0
                              and finite.max() / finite.min() > 50)
    qs = QUANTITY_STYLES.get(quantity)
    title = qs.title if qs else quantity
    if len(order) > MAX_ROWS:
        return _distribution_chart(t, quantity, years, threshold, use_log, title, generated)
    with style():
        fig = new_figure(WIDTH, 1.8 + 0.32 * len(order))
        ax = fig.subplots()
        for year, c in zip(years, colours):
            g = t[t["year"] == year]
            ax.scatter(g["value"], g["unit_id"].map(pos), color=c, s=42, label=str(year),
                       edgecolor="white", linewidth=0.5, zorder=3)
        if threshold is not None:
            ax.axvline(threshold, color="#a50026", linestyle="--", linewidth=1.2,
                       label=f"threshold {threshold:g}")
        if use_log:
            ax.set_xscale("log")
            # plain numbers (0.5, 1, 10), not powers of ten, for readers of any background
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yticks(range(len(order)), [text(n) for n in order["name"]])
        ax.set_ylim(-0.7, len(order) - 0.3)
        ax.grid(axis="x", color="#dddddd", zorder=0)
        ax.set_xlabel(f"{quantity.upper()} [-]" + (" (log scale)" if use_log else ""))
        missing = int(t["value"].isna().sum())
        if missing:
            ax.text(0.99, 0.01, f"{missing} value(s) undefined (e.g. CS <= 0), not drawn",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=10)
        fig.legend(loc="outside lower center", ncols=min(5, len(years) + 1), frameon=False)
        fig.suptitle(f"{text(title)} [-]")
        mark_generated(fig, generated)
    return fig
