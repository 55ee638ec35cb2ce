"""Spatial autocorrelation: global Moran's I by year and LISA cluster maps (Anselin 1995)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ._style import CLUSTER_COLOURS, WIDTH, mark_generated, new_figure, style, text
from .maps import QUANTITY_STYLES, categorical_maps

#: The significance level the cluster labels of ``spatial_local.csv`` were made with.
ALPHA = 0.05


def moran_chart(global_table: pd.DataFrame, *, alpha: float = ALPHA,
                generated: bool | str = False) -> Figure:
    """Global Moran's I [-] by year, one line per quantity (``spatial_global.csv``).

    Filled markers are significant (permutation ``p_sim`` < ``alpha``); the dashed line
    is the expectation under no autocorrelation, E[I] = -1/(n-1).
    """
    t = global_table.copy()
    for c in ("moran_i", "expected_i", "p_sim"):
        t[c] = pd.to_numeric(t[c], errors="coerce")
    with style():
        fig = new_figure(WIDTH, 4.6)
        ax = fig.subplots()
        for (q, g), colour in zip(t.groupby("quantity", sort=True), ("#d95f02", "#7570b3",
                                                                    "#1b9e77", "#e7298a")):
            g = g.sort_values("year")
            qs = QUANTITY_STYLES.get(q)
            label = qs.title.split(" = ")[0].split()[-1] if qs else q  # "CB", "CBI"
            ax.plot(g["year"], g["moran_i"], color=colour, linewidth=2, label=text(label))
            sig = (g["p_sim"] < alpha).to_numpy()
            ax.scatter(g["year"][sig], g["moran_i"][sig], color=colour, s=70, zorder=3)
            ax.scatter(g["year"][~sig], g["moran_i"][~sig], facecolor="white",
                       edgecolor=colour, s=70, zorder=3, linewidth=2)
        if t["expected_i"].notna().any():
            ax.axhline(float(t["expected_i"].mean()), color="grey", linestyle="--",
                       label="E[I] (no autocorrelation)")
        # whole years, at most about 8 labels: 20 years do not run together
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
        years = t["year"].astype(int)
        if years.nunique() == 1:  # one year: a narrow axis around it, not 1920-2130
            ax.set_xlim(years.iloc[0] - 1, years.iloc[0] + 1)
            ax.set_xticks([years.iloc[0]])
        ax.set_ylabel("Moran's I [-]")
        ax.set_xlabel("year")
        handles, _ = ax.get_legend_handles_labels()
        handles += [Line2D([], [], marker="o", color="black", linestyle="",
                           label=f"p_sim < {alpha:g}"),
                    Line2D([], [], marker="o", markerfacecolor="white", color="black",
                           linestyle="", label="not significant")]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle("Global Moran's I (queen contiguity) [-]")
        mark_generated(fig, generated)
    return fig


def lisa_maps(units, local_table: pd.DataFrame, quantity: str, *,
              years: Sequence[int] | None = None, generated: bool | str = False,
              fdr: bool = True, permutations: int | None = None,
              credit: str | None = None) -> Figure:
    """LISA cluster maps of ``quantity``, one panel per year (``spatial_local.csv``).

    HH/LL: a high (low) value among high (low) neighbours; HL/LH: spatial outliers.
    ``units`` is a long GeoDataFrame (unit_id, year, geometry). ``fdr`` and
    ``permutations`` only word the title: the labels come from the table
    (``spatial_global.csv`` column ``significance``).
    """
    loc = local_table[local_table["quantity"] == quantity][["unit_id", "year", "cluster"]]
    geo = units[["unit_id", "year", "geometry"]].copy()
    geo["unit_id"] = geo["unit_id"].astype(str)
    loc = loc.assign(unit_id=loc["unit_id"].astype(str), year=loc["year"].astype(int))
    merged = geo.assign(year=geo["year"].astype(int)).merge(loc, on=["unit_id", "year"],
                                                             how="left")
    ys = years if years is not None else sorted(loc["year"].unique())
    qs = QUANTITY_STYLES.get(quantity)
    name = qs.title.split(" = ")[0] if qs else quantity
    rule = f"FDR-adjusted p < {ALPHA:g}" if fdr else f"p < {ALPHA:g}, unadjusted"
    if permutations:
        rule += f", {permutations:,} permutations"
    return categorical_maps(merged, "cluster", CLUSTER_COLOURS,
                            title=f"LISA clusters of {name}\n({rule})",
                            legend_title="cluster (value - neighbours)", years=ys,
                            generated=generated, credit=credit)

