"""Map furniture a journal asks for: panel layout, graticule, scale bar, north arrow, credit.

Every map panel is framed the same way (:func:`frame_map`):

- the extent is the data's bounding box with a margin; the bottom margin is a strip no
  data can reach, and the scale bar and north arrow sit in it (never over the data);
- a graticule (meridians and parallels every 1, 2, 5, ... degrees) with labelled
  coordinates on the outer panels (``112°E``, ``30°N``), also for projected CRSs;
- a scale bar (matplotlib-scalebar) in kilometres, true at the centre of the panel (a
  geographic CRS is drawn with the aspect 1/cos(mid-latitude), so east-west and
  north-south distances agree there);
- a credit line under the figure (:func:`credit_line`).

Panels of many years are laid out in up to five columns (:func:`map_grid`), so that 20
study years fit on one page with panels that keep their shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

#: Metres per degree of latitude (mean, WGS84; Snyder 1987, USGS PP 1395, p. 25).
METRES_PER_DEGREE = 111_320.0
#: Graticule steps tried, in degrees; the first giving at most MAX_LINES lines is used.
GRATICULE_STEPS = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)
MAX_LINES = 6
#: Margin around the data [share of the data extent]; the bottom strip holds the furniture.
MARGIN = 0.04
FURNITURE_STRIP = 0.16
GRATICULE_COLOUR = "#9e9e9e"


def columns_for(n: int) -> int:
    """Columns of a small-multiple map figure of ``n`` years (2 up to 4 panels, then more)."""
    if n <= 4:
        return min(max(n, 1), 2)
    if n <= 9:
        return 3
    if n <= 16:
        return 4
    return 5


def width_for(cols: int) -> float:
    """Figure width [inch]: 7 in for up to 3 columns (a phone or a page), 9-10.5 in beyond."""
    return {1: 7.0, 2: 7.0, 3: 7.5, 4: 9.0, 5: 10.5}[cols]


def panel_aspect(bounds: Sequence[float], geographic: bool) -> float:
    """Height / width of a panel holding ``bounds`` (minx, miny, maxx, maxy) with margins."""
    minx, miny, maxx, maxy = bounds
    w = max(maxx - minx, 1e-9)
    h = max(maxy - miny, 1e-9)
    if geographic:  # a degree of longitude is shorter than a degree of latitude
        w *= math.cos(math.radians((miny + maxy) / 2))
    return (h * (1 + MARGIN + FURNITURE_STRIP)) / (w * (1 + 2 * MARGIN))


def map_grid(n: int, bounds: Sequence[float], geographic: bool, *, legend_height: float,
             title_height: float = 0.9):
    """A figure of ``n`` map panels sized to the data's shape: (fig, flat axes, columns).

    ``legend_height`` [inch] is the room kept under the panels for the legend or colour
    bar and the credit line.
    """
    from ._style import new_figure

    cols = columns_for(n)
    rows = math.ceil(max(n, 1) / cols)
    width = width_for(cols)
    aspect = min(max(panel_aspect(bounds, geographic), 0.45), 1.6)
    # panel width minus the graticule labels, then the title of the year above the panel
    panel_h = (width / cols - 0.55) * aspect + 0.35
    fig = new_figure(width, rows * panel_h + legend_height + title_height)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes, cols


def _step(span: float, max_lines: int = MAX_LINES) -> float:
    for step in GRATICULE_STEPS:
        if span / step <= max_lines:
            return step
    return GRATICULE_STEPS[-1]


def _deg_label(value: float, axis: str) -> str:
    hemi = ("E", "W") if axis == "x" else ("N", "S")
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    if value == 0:
        return "0°"
    return f"{text}°{hemi[0] if value > 0 else hemi[1]}"


def _transformers(crs):
    """(to lon/lat, from lon/lat) for a projected ``crs``; None for a geographic one."""
    from pyproj import CRS, Transformer

    c = CRS.from_user_input(crs)
    if c.is_geographic:
        return None
    geo = c.geodetic_crs or CRS.from_epsg(4326)
    return (Transformer.from_crs(c, geo, always_xy=True),
            Transformer.from_crs(geo, c, always_xy=True))


def is_geographic(crs) -> bool:
    if crs is None:
        return False
    from pyproj import CRS

    return CRS.from_user_input(crs).is_geographic


def graticule(ax, crs, extent: Sequence[float], *, label_left: bool = True,
              label_bottom: bool = True, fontsize: float = 9,
              max_lines: int = MAX_LINES) -> None:
    """Meridians and parallels with labelled coordinates on the left and bottom edges.

    At most ``max_lines`` lines each way (fewer on narrow panels, so labels never touch).
    """
    x0, x1, y0, y1 = extent
    tr = _transformers(crs) if crs is not None else None
    if tr is None:  # geographic: the axes are longitude and latitude
        lon0, lon1, lat0, lat1 = x0, x1, y0, y1
    else:
        xs = np.linspace(x0, x1, 50)
        ys = np.linspace(y0, y1, 50)
        edge_x = np.r_[xs, xs, np.full(50, x0), np.full(50, x1)]
        edge_y = np.r_[np.full(50, y0), np.full(50, y1), ys, ys]
        lon, lat = tr[0].transform(edge_x, edge_y)
        lon0, lon1, lat0, lat1 = np.nanmin(lon), np.nanmax(lon), np.nanmin(lat), np.nanmax(lat)
    step = _step(max(lon1 - lon0, lat1 - lat0), max_lines)
    lons = np.arange(math.ceil(lon0 / step) * step, lon1 + 1e-9, step)
    lats = np.arange(math.ceil(lat0 / step) * step, lat1 + 1e-9, step)
    line = {"color": GRATICULE_COLOUR, "linewidth": 0.5, "linestyle": ":", "zorder": 0.5}
    if tr is None:
        xticks, yticks = lons, lats
        for v in lons:
            ax.axvline(v, **line)
        for v in lats:
            ax.axhline(v, **line)
    else:
        dense = np.linspace(lat0 - step, lat1 + step, 100)
        xticks, yticks = [], []
        for v in lons:
            px, py = tr[1].transform(np.full_like(dense, v), dense)
            ax.plot(px, py, **line)
            # where the meridian crosses the bottom edge
            cross = np.interp(y0, py, px) if np.all(np.diff(py) > 0) else np.nan
            xticks.append(cross)
        dense = np.linspace(lon0 - step, lon1 + step, 100)
        for v in lats:
            px, py = tr[1].transform(dense, np.full_like(dense, v))
            ax.plot(px, py, **line)
            cross = np.interp(x0, px, py) if np.all(np.diff(px) > 0) else np.nan
            yticks.append(cross)
        xticks, yticks = np.asarray(xticks), np.asarray(yticks)
    keepx = np.isfinite(xticks) & (xticks >= x0) & (xticks <= x1)
    keepy = np.isfinite(yticks) & (yticks >= y0) & (yticks <= y1)
    ax.xaxis.set_major_locator(FixedLocator(xticks[keepx]))
    ax.yaxis.set_major_locator(FixedLocator(yticks[keepy]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([_deg_label(v, "x") for v in lons[keepx]] if label_bottom else [])
    ax.set_yticklabels([_deg_label(v, "y") for v in lats[keepy]] if label_left else [])
    ax.tick_params(labelsize=fontsize, length=2, pad=1, color=GRATICULE_COLOUR, labelcolor="#333333")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("")  # geopandas labels the axes "Geodetic longitude [degree]"
    ax.set_ylabel("")


def padded_extent(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): ``bounds`` with margins and the furniture strip at the bottom."""
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx or 1.0, maxy - miny or 1.0
    return (minx - MARGIN * w, maxx + MARGIN * w, miny - FURNITURE_STRIP * h,
            maxy + MARGIN * h)


def scale_bar(ax, crs, extent: Sequence[float], *, fontsize: float = 9) -> None:
    """A kilometre scale bar in the bottom-left corner of the furniture strip."""
    from matplotlib_scalebar.scalebar import ScaleBar

    x0, x1, y0, y1 = extent
    if crs is None:
        return
    if is_geographic(crs):
        # metres per degree of longitude at the panel's mid-latitude
        dx = METRES_PER_DEGREE * math.cos(math.radians((y0 + y1) / 2))
    else:
        from pyproj import CRS

        dx = CRS.from_user_input(crs).axis_info[0].unit_conversion_factor or 1.0
    ax.add_artist(ScaleBar(dx, units="m", dimension="si-length", location="lower left",
                           length_fraction=0.3, frameon=False, font_properties={
                               "size": fontsize}, pad=0.3, border_pad=0.2, sep=2,
                           scale_loc="top", width_fraction=0.012,
                           rotation="horizontal-only"))  # measured along x: the aspect is 1/cos(lat)


def north_arrow(ax, *, fontsize: float = 10, length: float = 14) -> None:
    """A north arrow in the bottom-right corner of the furniture strip (maps are north-up).

    ``length`` [pt]: the arrow's height; the "N" stands left of it, so the whole sign is
    no taller than the arrow and fits the strip of small panels too.
    """
    base = (0.965, 0.025)
    ax.annotate("", xy=base, xycoords="axes fraction", xytext=(0, length),
                textcoords="offset points",
                arrowprops={"arrowstyle": "<|-", "color": "black", "linewidth": 1.4,
                            "mutation_scale": 9 if length < 12 else 12,
                            "shrinkA": 0, "shrinkB": 0})
    ax.annotate("N", xy=base, xycoords="axes fraction", xytext=(-3, length * 0.55),
                textcoords="offset points", ha="right", va="center", fontsize=fontsize,
                fontweight="bold")


def frame_map(ax, crs, bounds: Sequence[float], *, index: int, cols: int, n: int,
              furniture: bool | None = None) -> None:
    """Extent, graticule, and (on the first panel) scale bar and north arrow of one panel.

    ``index`` is the panel's position among ``n`` panels in ``cols`` columns: latitude
    labels on the left column, longitude labels on the bottom panel of each column.
    """
    extent = padded_extent(bounds)
    small = cols >= 4
    fs = 7.5 if small else 9
    below = index + cols >= n   # no panel below this one
    graticule(ax, crs, extent, label_left=index % cols == 0, label_bottom=below, fontsize=fs,
              max_lines=3 if small else MAX_LINES)
    if is_geographic(crs):
        ax.set_aspect(1 / math.cos(math.radians((extent[2] + extent[3]) / 2)))
    else:
        ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_linewidth(0.6)
        spine.set_color("#777777")
    if furniture if furniture is not None else index == 0:
        scale_bar(ax, crs, extent, fontsize=fs)
        north_arrow(ax, fontsize=fs + 1, length=9 if small else 15)


def credit_line(fig: Figure, credit: str | None) -> None:
    """A source credit under the figure, small and grey, left-aligned."""
    if credit:
        # supxlabel: constrained layout keeps room for it below the outside legend
        fig.supxlabel(credit, x=0.01, ha="left", fontsize=8, color="#555555")
