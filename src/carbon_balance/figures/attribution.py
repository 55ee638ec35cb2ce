"""What drove the CS change: waterfalls per unit group and a map of the dominant driver
(tables/attribution.csv, attribution_groups.csv; docs/attribution.md)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..analysis.attribution import DRIVERS, dominant_driver
from ._style import display_scale, mark_generated, small_multiples, style, text
from .maps import categorical_maps

#: Labels of the drivers and of the interaction term.
LABELS = {"ndvi": "NDVI", "temperature": "temperature", "precipitation": "precipitation",
          "radiation": "radiation", "land_cover": "land cover", "interaction": "interaction"}
#: Fixed colours of the drivers (the same in the waterfalls and the map).
DRIVER_COLOURS = {"ndvi": "#1b9e77", "temperature": "#d95f02", "precipitation": "#7570b3",
                  "radiation": "#e6ab02", "land_cover": "#a6761d"}
INTERACTION_COLOUR = "#999999"
TOTAL_COLOUR = "#525252"


def _panels(groups: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    region = groups[groups["level"] == "region"]
    panels = [("Region", region.iloc[0])] if len(region) else []
    g = groups[groups["level"] == "group"].sort_values("group")
    if len(g) > 1:   # one group would repeat the region's panel
        panels += [(str(r["group"]), r) for _, r in g.iterrows()]
    return panels


def attribution_waterfall(groups: pd.DataFrame, *, generated: bool | str = False) -> Figure:
    """CS of the first year, each driver's contribution, the interaction and CS of the
    second year [t C, scaled], one panel for the region and one per group
    (``attribution_groups.csv``: level, group, from_year, to_year, cs_from_t_c,
    cs_change_t_c, {driver}_t_c, interaction_t_c)."""
    panels = _panels(groups)
    steps = [*DRIVERS, "interaction"]
    values = np.concatenate([[r["cs_from_t_c"], r["cs_from_t_c"] + r["cs_change_t_c"],
                              *(r[f"{s}_t_c"] for s in steps)] for _, r in panels])
    factor, unit = display_scale(values.astype(float), "t C")
    first = panels[0][1]
    y1, y2 = int(first["from_year"]), int(first["to_year"])
    with style():
        cols = 1 if len(panels) == 1 else 2
        fig, axes = small_multiples(len(panels), 3.8 if cols == 1 else 3.4, 1.9, max_cols=cols)
        for ax, (name, r) in zip(axes, panels):
            start = float(r["cs_from_t_c"]) * factor
            level = start
            x = np.arange(len(steps) + 2)
            ax.bar(x[0], start, 0.7, color=TOTAL_COLOUR)
            for i, s in enumerate(steps, 1):
                v = float(r[f"{s}_t_c"]) * factor
                ax.bar(x[i], v, 0.7, bottom=level,
                       color=DRIVER_COLOURS.get(s, INTERACTION_COLOUR), edgecolor="white",
                       linewidth=0.5)
                ax.plot([x[i] - 0.35, x[i] + 1.35], [level + v] * 2, color="#333333",
                        linewidth=0.6)
                level += v
            ax.bar(x[-1], level, 0.7, color=TOTAL_COLOUR)
            ax.axhline(0, color="black", linewidth=0.8)
            ax.set_xticks(x, [str(y1), *("NDVI", "T", "P", "SOL", "LC", "int."), str(y2)],
                          rotation=45, ha="right")
            ax.set_title(text(textwrap.fill(name, 34 if cols == 1 else 26)), fontsize=12)
            ax.set_ylabel(unit)
            ax.grid(axis="y", color="#e5e5e5", zorder=0)
            ax.set_axisbelow(True)
        handles = [Patch(color=DRIVER_COLOURS[d], label=LABELS[d]) for d in DRIVERS]
        handles.append(Patch(color=INTERACTION_COLOUR, label="interaction"))
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False,
                   title="contributions to the CS change (T temperature,\n"
                         "P precipitation, SOL radiation, LC land cover)")
        fig.suptitle(f"What drove the change of CS, {y1} → {y2} [{unit}]")
        mark_generated(fig, generated)
    return fig


def dominant_driver_map(units, table: pd.DataFrame, *, generated: bool | str = False,
                        credit: str | None = None) -> Figure:
    """Each unit coloured by the driver with the largest absolute contribution to its CS
    change (``attribution.csv``); ``units``: polygons with ``unit_id`` (one row per unit;
    a long table of several years is reduced to one year's polygons)."""
    t = table.assign(unit_id=table["unit_id"].astype(str))
    y1, y2 = int(t["from_year"].iloc[0]), int(t["to_year"].iloc[0])
    names = dominant_driver({d: t[f"{d}_t_c"].to_numpy(float) for d in DRIVERS})
    t = t.assign(driver=[LABELS[n] if n else None for n in names])
    geo = units.assign(unit_id=units["unit_id"].astype(str))
    if "year" in geo:
        geo = geo[geo["year"] == (y2 if (geo["year"] == y2).any() else geo["year"].max())]
    geo = geo[["unit_id", "geometry"]].merge(t[["unit_id", "driver"]], on="unit_id", how="left")
    geo = geo.assign(year=f"{y1} → {y2}")
    colours = {LABELS[d]: c for d, c in DRIVER_COLOURS.items()}
    return categorical_maps(geo, "driver", colours,
                            title=f"Dominant driver of the CS change, {y1} → {y2}\n"
                                  "(largest absolute contribution)",
                            legend_title="driver", years=[f"{y1} → {y2}"],
                            generated=generated, credit=credit)
