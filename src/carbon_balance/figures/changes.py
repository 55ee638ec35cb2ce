"""Change of a quantity between two study years, per unit (``changes.csv``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._style import WIDTH, mark_generated, new_figure, style, text
from .maps import QUANTITY_STYLES


#: Most bars drawn; above, the largest decreases and increases (half each).
MAX_BARS = 30


def change_chart(changes: pd.DataFrame, quantity: str, *, level: str = "unit",
                 year_from: int | None = None, year_to: int | None = None,
                 generated: bool | str = False) -> Figure:
    """Horizontal bars of ``change_percent`` [%] of ``quantity`` per unit (or group).

    The change is (v2 - v1) / |v1| x 100 % (METHOD.md section 6). By default the first
    and last study years of the table are compared. Bars are sorted by the change. With
    more than :data:`MAX_BARS` units, the largest decreases and increases are drawn.
    """
    t = changes[(changes["quantity"] == quantity) & (changes["level"] == level)].copy()
    if t.empty:
        raise ValueError(f"changes has no rows for quantity={quantity!r}, level={level!r}")
    year_from = int(t["year_from"].min()) if year_from is None else year_from
    year_to = int(t["year_to"].max()) if year_to is None else year_to
    t = t[(t["year_from"].astype(int) == year_from) & (t["year_to"].astype(int) == year_to)]
    t["change"] = pd.to_numeric(t["change_percent"], errors="coerce")
    t = t.sort_values("change", na_position="first")
    n_all = len(t)
    if n_all > MAX_BARS:  # the largest decreases and increases; all are in the table
        finite = t[t["change"].notna()]
        t = pd.concat([finite.head(MAX_BARS // 2), finite.tail(MAX_BARS // 2)])
    qs = QUANTITY_STYLES.get(quantity)
    title = qs.title if qs else quantity
    with style():
        fig = new_figure(WIDTH, 1.8 + 0.32 * len(t))
        ax = fig.subplots()
        y = np.arange(len(t))
        v = t["change"].to_numpy(dtype=float)
        ax.barh(y, np.nan_to_num(v), color=np.where(v >= 0, "#d95f02", "#1b9e77"))
        for yi, vi in zip(y, v):
            if not np.isfinite(vi):  # e.g. CBI where CS <= 0 in one of the years
                ax.text(0, yi, " n/a", va="center", ha="left", fontsize=11, color="#666666")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, [text(n) for n in t["name"]])
        ax.set_ylim(-0.7, len(t) - 0.3)
        ax.grid(axis="x", color="#dddddd")
        label = f"change {year_from} -> {year_to} [%]"
        if n_all > len(t):
            label += f"; the {MAX_BARS // 2} largest decreases and increases of {n_all} units"
            ax.axhline(MAX_BARS // 2 - 0.5, color="#999999", linewidth=0.8, linestyle=":")
        ax.set_xlabel(label)
        fig.suptitle(f"Change of {text(title)} {year_from}-{year_to} [%]")
        mark_generated(fig, generated)
    return fig
