"""Figures of the uncertainty analysis: a tornado chart and most-likely-zone maps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ._style import (EDGE_COLOUR, WIDTH, ZONE_COLOURS, display_scale, mark_generated,
                     new_figure, style, text)
from .maps import _years, map_panels

#: Plain-language names of the parameters in ``sensitivity.csv``.
PARAMETER_LABELS = {
    "epsilon_max": "ε_max (±)",
    "rh_scale": "Rh scale 0.22 (±)",
    "rn_coefficient": "Rn coefficient (variants)",
    "rh_coefficient": "Rh exponent (variants)",
    "estimated_emissions": "estimated CE (95 % CI)",
    "ndvi_bounds": "NDVI bounds (scenario, not drawn)",
}


def tornado_chart(sensitivity: pd.DataFrame, *, year: int | None = None,
                  basis_unit: str = "t CO2", generated: bool | str = False) -> Figure:
    """One-at-a-time sensitivity of the regional CS [t C] and CB [basis] in ``year``.

    Each bar spans the regional value with the parameter at the low and the high end of
    its range (the other parameters plain); bars are sorted by their width.
    """
    year = int(sensitivity.year.max()) if year is None else year
    s = sensitivity[sensitivity.year == year]
    with style():
        fig = new_figure(WIDTH, 1.6 + 0.55 * len(s) * 2)
        axes = fig.subplots(2, 1)
        for ax, q, unit, title in ((axes[0], "cs_t_c", "t C", "Carbon sequestration CS"),
                                   (axes[1], "cb_t", basis_unit, "Carbon budget CB")):
            plain = float(s[f"region_{q}_plain"].iloc[0]) if len(s) else np.nan
            lo, hi = s[f"region_{q}_low"].to_numpy(float), s[f"region_{q}_high"].to_numpy(float)
            order = np.argsort(np.abs(hi - lo))
            f, shown = display_scale(np.r_[lo, hi, plain], unit)
            for k, i in enumerate(order):
                a, b = lo[i] * f, hi[i] * f
                ax.barh(k, b - plain * f, left=plain * f, color="#d6604d", height=0.6)
                ax.barh(k, a - plain * f, left=plain * f, color="#4393c3", height=0.6)
            ax.axvline(plain * f, color="black", linewidth=1)
            ax.set_yticks(range(len(order)),
                          [PARAMETER_LABELS.get(p, p) for p in s.parameter.to_numpy()[order]])
            ax.set_xlabel(f"regional {title.split()[-1]} [{shown}]")
            ax.set_title(f"{title}, {year}")
        fig.legend(handles=[Patch(color="#4393c3", label="parameter at low end"),
                            Patch(color="#d6604d", label="parameter at high end")],
                   loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(text("Sensitivity of the regional results (one at a time)"))
        mark_generated(fig, generated)
    return fig


def zone_probability_maps(units, probabilities: pd.DataFrame, *,
                          years: Sequence[int] | None = None,
                          generated: bool | str = False) -> Figure:
    """Each unit's most likely zone, its colour faded by the zone's probability.

    ``units``: a GeoDataFrame with ``unit_id`` and ``year`` (one row per unit and year);
    ``probabilities``: ``zone_probabilities.csv``.
    """
    p = probabilities.assign(unit_id=probabilities.unit_id.astype(str))
    g = units.assign(unit_id=units.unit_id.astype(str)).merge(
        p[["unit_id", "year", "most_likely_zone", "most_likely_probability"]],
        on=["unit_id", "year"], how="left")
    ys = _years(g, years)
    with style():
        fig, axes, frame, lw, cols = map_panels(g, len(ys), legend_rows=5)
        for i, (ax, year) in enumerate(zip(axes, ys)):
            part = g[g.year == year]
            colours = [to_rgba(ZONE_COLOURS.get(z, "#ffffff"),
                               alpha=0.25 + 0.75 * float(pr) if np.isfinite(pr) else 0.0)
                       for z, pr in zip(part.most_likely_zone, part.most_likely_probability)]
            part.plot(ax=ax, color=colours, edgecolor=EDGE_COLOUR, linewidth=lw)
            uncertain = part[part.most_likely_probability < 0.9]
            if len(uncertain):
                uncertain.plot(ax=ax, facecolor="none", edgecolor="black", hatch="..",
                               linewidth=0.6)
            ax.set_title(str(year), fontsize=14 if cols <= 3 else 11, pad=3)
            frame(ax, i)
        handles = [Patch(facecolor=c, edgecolor=EDGE_COLOUR, label=text(z))
                   for z, c in ZONE_COLOURS.items()]
        handles.append(Patch(facecolor="none", edgecolor="black", hatch="..",
                             label="most likely zone < 90 % probable"))
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False,
                   title="most likely zone (pale = less probable)")
        fig.suptitle(text("Most likely carbon balance zone and its probability"))
        mark_generated(fig, generated)
    return fig


def write_uncertainty_figures(folder: str | Path, units=None) -> list[Path]:
    """Draw the uncertainty figures of an output folder into ``folder/figures``.

    The maps take the polygons of ``units.gpkg``; an uncertainty-only folder passes the
    study's ``units`` (GeoDataFrame with ``unit_id``) instead.
    """
    from ._folder import load_results

    res = load_results(folder)
    folder = Path(folder)
    tables = folder / "tables"
    made = []
    out = folder / "figures"
    out.mkdir(parents=True, exist_ok=True)
    if (tables / "sensitivity.csv").exists():
        fig = tornado_chart(pd.read_csv(tables / "sensitivity.csv"),
                            basis_unit="t CO2" if res.basis == "CO2" else "t C",
                            generated=res.generated)
        fig.savefig(out / "uncertainty_tornado.png")
        made.append(out / "uncertainty_tornado.png")
    geo = res.units_geo
    if (tables / "zone_probabilities.csv").exists():
        probs = pd.read_csv(tables / "zone_probabilities.csv", dtype={"unit_id": str})
        if geo is None and units is not None:
            geo = pd.concat([units[["unit_id", "geometry"]].assign(year=y)
                             for y in sorted(probs.year.unique())], ignore_index=True)
            geo = type(units)(geo, geometry="geometry", crs=units.crs)
    if (tables / "zone_probabilities.csv").exists() and geo is not None:
        fig = zone_probability_maps(geo, probs, generated=res.generated)
        fig.savefig(out / "uncertainty_zone_probability_maps.png")
        made.append(out / "uncertainty_zone_probability_maps.png")
    return made
