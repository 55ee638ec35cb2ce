"""CBI, ECC and ESC by unit and year as dot charts (study Figures 5 and 6)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ._style import WIDTH, mark_generated, new_figure, style, text
from .maps import QUANTITY_STYLES


def indicator_chart(units: pd.DataFrame, quantity: str, *, threshold: float | None = 1.0,
                    log: bool | str = "auto", generated: bool | str = False) -> Figure:
    """One row per unit, one dot per year: values of ``quantity`` against its threshold.

    Parameters
    ----------
    units : ``units.csv`` (unit_id, name, year, ``quantity``; ``group`` orders the rows)
    quantity : ``cbi``, ``ecc`` or ``esc`` (any numeric column works)
    threshold : drawn as a vertical line (the zoning threshold, 1 by default)
    log : log x axis; ``"auto"`` when all values are positive and span > 50x
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
