"""Small-multiple maps of units, one panel per year, with class breaks shared across years.

Sharing the breaks (and colours) across the years is what makes the panels comparable:
a unit that changes colour changed class (study Figures 4 to 7). ``units`` is always a
long GeoDataFrame: one row per unit and year with ``unit_id``, ``year``, ``geometry`` and
the quantities (the layers of ``units.gpkg`` stacked, or ``units.csv`` joined to polygons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mapclassify
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ._mapframe import credit_line, frame_map, is_geographic, map_grid
from ._style import (
    EDGE_COLOUR,
    NO_DATA_COLOUR,
    display_scale,
    fmt_number,
    mark_generated,
    style,
    text,
)


@dataclass(frozen=True)
class QuantityStyle:
    """How a quantity of ``units.csv`` is titled, coloured and classified."""

    title: str
    unit: str                     # "{basis}" is replaced by the basis unit (t CO2 or t C)
    cmap: str = "YlOrBr"
    pivot: float | None = None    # a break at the pivot; colours diverge from it
    low_cmap: str = "Greens"      # classes at or below the pivot
    high_cmap: str = "Reds"       # classes above the pivot
    uses_sequestration: bool = True  # depends on NEP, i.e. on the vegetation inputs


#: Known quantities of ``units.csv`` (METHOD.md sections 3-4).
QUANTITY_STYLES: dict[str, QuantityStyle] = {
    "ce_t_co2": QuantityStyle("Carbon emissions CE", "t CO2", "YlOrBr", uses_sequestration=False),
    "cs_t_co2": QuantityStyle("Carbon sequestration CS", "t CO2", "YlGn"),
    "cs_t_c": QuantityStyle("Carbon sequestration CS", "t C", "YlGn"),
    "cb_t": QuantityStyle("Carbon budget CB = CE - CS", "{basis}", pivot=0.0,
                          low_cmap="Greens", high_cmap="Reds"),
    "cbi": QuantityStyle("Carbon budget index CBI = CE / CS", "-", pivot=1.0,
                         low_cmap="Greens", high_cmap="Reds"),
    "ecc": QuantityStyle("Economic contribution coefficient ECC", "-", pivot=1.0,
                         low_cmap="Oranges", high_cmap="Blues", uses_sequestration=False),
    "esc": QuantityStyle("Ecological support coefficient ESC", "-", pivot=1.0,
                         low_cmap="Oranges", high_cmap="Greens"),
    "nep_mean_g_c_m2": QuantityStyle("Mean NEP", "g C m-2 yr-1", "YlGn"),
    "npp_mean_g_c_m2": QuantityStyle("Mean NPP", "g C m-2 yr-1", "YlGn"),
}


def basis_unit(basis: str) -> str:
    """Unit of CB in a study's basis: ``"CO2"`` -> t CO2, ``"C"`` -> t C."""
    return "t C" if str(basis).upper() == "C" else "t CO2"


def class_breaks(values: Sequence[float] | np.ndarray, *, scheme: str = "FisherJenks",
                 k: int = 5, pivot: float | None = None) -> np.ndarray:
    """Upper bounds of the classes of ``values`` (all years together), ascending.

    ``scheme`` is a mapclassify classifier name (FisherJenks is optimal and deterministic;
    Quantiles, EqualInterval, NaturalBreaks also work). With ``pivot`` (0 for CB, 1 for the
    ratios) the pivot is added as a break when it lies inside the data range, so that no
    class straddles a deficit and a surplus. Class ``i`` is ``(breaks[i-1], breaks[i]]``.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.array([])
    n_unique = np.unique(v).size
    if n_unique <= k:
        breaks = np.unique(v)
    else:
        classifier = getattr(mapclassify, scheme)
        breaks = np.asarray(classifier(v, k=k).bins, dtype=float)
    if pivot is not None and v.min() < pivot < v.max():
        breaks = np.append(breaks, pivot)
    return np.unique(breaks)


def class_colours(breaks: np.ndarray, qstyle: QuantityStyle) -> list:
    """RGBA colour of each class: one ramp, or two ramps diverging from the pivot."""
    n = len(breaks)
    if qstyle.pivot is None:
        return list(mpl.colormaps[qstyle.cmap](np.linspace(0.2, 0.95, n)))
    n_low = int(np.sum(breaks <= qstyle.pivot))
    n_high = n - n_low
    low = mpl.colormaps[qstyle.low_cmap](np.linspace(0.85, 0.3, n_low)) if n_low else []
    high = mpl.colormaps[qstyle.high_cmap](np.linspace(0.3, 0.9, n_high)) if n_high else []
    return list(low) + list(high)


def _years(units: pd.DataFrame, years: Sequence[int] | None) -> list[int]:
    return list(years) if years is not None else sorted(int(y) for y in units["year"].unique())


def map_panels(units, n: int, legend_rows: int):
    """Figure of ``n`` framed map panels for ``units``: (fig, axes, frame(ax, i), linewidth).

    ``frame(ax, i)`` gives panel ``i`` its extent, graticule and (first panel) scale bar
    and north arrow (:mod:`._mapframe`); outlines thin out above 60 units so that small
    units stay visible.
    """
    bounds = units.total_bounds
    fig, axes, cols = map_grid(n, bounds, is_geographic(units.crs),
                               legend_height=0.7 + 0.32 * legend_rows)
    frame = lambda ax, i: frame_map(ax, units.crs, bounds, index=i, cols=cols, n=n)
    n_units = units["unit_id"].nunique() if "unit_id" in units else len(units)
    linewidth = 0.4 if n_units <= 60 else (0.2 if n_units <= 200 else 0.12)
    return fig, axes, frame, linewidth, cols


def _year_title(ax, year, cols: int) -> None:
    ax.set_title(str(year), fontsize=14 if cols <= 3 else 11, pad=3)


def choropleth_maps(units, column: str, *, qstyle: QuantityStyle | None = None,
                    basis: str = "CO2", years: Sequence[int] | None = None,
                    scheme: str = "FisherJenks", k: int = 5,
                    generated: bool | str = False, title: str | None = None,
                    credit: str | None = None) -> Figure:
    """Maps of ``column`` by unit, one panel per year, classes shared across the years.

    Parameters
    ----------
    units : GeoDataFrame, long (unit_id, year, geometry, ``column``)
    column : a quantity of ``units.csv``, e.g. ``ce_t_co2``, ``cb_t``, ``esc``
    qstyle : title, unit and colours (default: :data:`QUANTITY_STYLES` of ``column``)
    basis : ``"CO2"`` or ``"C"``, the unit of ``cb_t``
    scheme, k : mapclassify classifier and number of classes (see :func:`class_breaks`)
    generated : label the figure as made from generated inputs (True or the label text)
    credit : source credit line under the figure
    """
    qs = qstyle or QUANTITY_STYLES.get(column) or QuantityStyle(column, "")
    unit = qs.unit.replace("{basis}", basis_unit(basis))
    ys = _years(units, years)
    values = pd.to_numeric(units.loc[units["year"].isin(ys), column], errors="coerce")
    factor, shown_unit = display_scale(values, unit)
    breaks = class_breaks(values, scheme=scheme, k=k, pivot=qs.pivot)
    colours = class_colours(breaks, qs)
    has_missing = bool(values.isna().any())
    n_items = len(breaks) + has_missing
    with style():
        fig, axes, frame, lw, cols = map_panels(units, len(ys), int(np.ceil(n_items / 3)))
        for i, (ax, year) in enumerate(zip(axes, ys)):
            g = units[units["year"] == year]
            v = pd.to_numeric(g[column], errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(v)
            if ok.any() and len(breaks):
                idx = np.minimum(np.searchsorted(breaks, v[ok], side="left"), len(breaks) - 1)
                g[ok].plot(ax=ax, color=[colours[i] for i in idx], edgecolor=EDGE_COLOUR,
                           linewidth=lw)
            if (~ok).any():
                g[~ok].plot(ax=ax, color=NO_DATA_COLOUR, edgecolor=EDGE_COLOUR, hatch="///",
                            linewidth=lw)
            _year_title(ax, year, cols)
            frame(ax, i)
        handles = []
        lower = float(np.nanmin(values)) if len(breaks) else np.nan
        for b, c in zip(breaks, colours):
            label = f"{fmt_number(lower * factor)} – {fmt_number(b * factor)}"
            handles.append(Patch(facecolor=c, edgecolor=EDGE_COLOUR, label=label))
            lower = b
        if has_missing:
            handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor=EDGE_COLOUR, hatch="///",
                                 label="no value"))
        fig.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles) or 1),
                   title=f"classes [{shown_unit}], shared by all years", frameon=False)
        fig.suptitle(f"{text(title or qs.title)} [{shown_unit}]")
        credit_line(fig, credit)
        mark_generated(fig, generated)
    return fig


def categorical_maps(units, column: str, colours: Mapping[str, str], *, title: str,
                     legend_title: str, years: Sequence[int] | None = None,
                     generated: bool | str = False, credit: str | None = None) -> Figure:
    """Maps of a categorical ``column`` (zones, clusters), one panel per year.

    The legend always lists every category of ``colours`` in its order, present or not,
    so that the legend and the colours are the same in every figure and every study.
    Values outside ``colours`` are drawn white and hatched as "no value".
    """
    ys = _years(units, years)
    with style():
        fig, axes, frame, lw, cols = map_panels(units, len(ys),
                                                int(np.ceil((len(colours) + 1) / 2)))
        any_missing = False
        for i, (ax, year) in enumerate(zip(axes, ys)):
            g = units[units["year"] == year]
            cats = g[column].astype("string")
            known = cats.isin(list(colours)).fillna(False).to_numpy(dtype=bool)
            if known.any():
                g[known].plot(ax=ax, color=[colours[c] for c in cats[known]],
                              edgecolor=EDGE_COLOUR, linewidth=lw)
            if (~known).any():
                any_missing = True
                g[~known].plot(ax=ax, color=NO_DATA_COLOUR, edgecolor=EDGE_COLOUR, hatch="///",
                               linewidth=lw)
            _year_title(ax, year, cols)
            frame(ax, i)
        handles = [Patch(facecolor=c, edgecolor=EDGE_COLOUR, label=text(name))
                   for name, c in colours.items()]
        if any_missing:
            handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor=EDGE_COLOUR, hatch="///",
                                 label="no value"))
        fig.legend(handles=handles, loc="outside lower center", ncols=2, title=legend_title,
                   frameon=False)
        fig.suptitle(text(title))
        credit_line(fig, credit)
        mark_generated(fig, generated)
    return fig
