"""Maps of the annual NEP grids, one panel per year, on one colour scale."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._mapframe import credit_line, frame_map, is_geographic, map_grid
from ._style import EDGE_COLOUR, mark_generated, style


def read_grid(path: str | Path, *, max_size: int = 500) -> xr.DataArray:
    """Read band 1 of a (COG) grid at reduced resolution, nodata as NaN.

    The longer side is read at no more than ``max_size`` pixels; rasterio serves the
    read from the COG's overviews when they exist, so a continental grid costs little.
    The result has ``x``/``y`` cell-centre coordinates and ``crs`` (WKT) in its attrs.
    """
    import rasterio
    from affine import Affine
    from rasterio.enums import Resampling

    with rasterio.open(path) as src:
        scale = max(src.width / max_size, src.height / max_size, 1.0)
        shape = (max(1, round(src.height / scale)), max(1, round(src.width / scale)))
        data = src.read(1, out_shape=shape, masked=True, resampling=Resampling.average)
        transform = src.transform @ Affine.scale(src.width / shape[1], src.height / shape[0])
        crs = src.crs.to_wkt() if src.crs else None
    arr = np.ma.filled(data.astype("float64"), np.nan)
    x = transform.c + transform.a * (np.arange(shape[1]) + 0.5)
    y = transform.f + transform.e * (np.arange(shape[0]) + 0.5)
    return xr.DataArray(arr, coords={"y": y, "x": x}, dims=("y", "x"),
                        attrs={"crs": crs, "source": str(path)})


def study_area_mask(grid: xr.DataArray, units) -> np.ndarray:
    """True for the cells of ``grid`` whose centre lies in no unit (outside the study area).

    ``units`` (a GeoDataFrame) is reprojected to the grid's CRS. NEP is computed on the
    whole raster box, but only the cells inside a unit are summed into CS; the maps show
    the others blank so that the study area reads at a glance.
    """
    from affine import Affine
    from rasterio.features import geometry_mask

    x, y = grid["x"].values, grid["y"].values
    dx = (x[1] - x[0]) if x.size > 1 else 1.0
    dy = (y[1] - y[0]) if y.size > 1 else -1.0
    transform = Affine(dx, 0, x[0] - dx / 2, 0, dy, y[0] - dy / 2)
    crs = grid.attrs.get("crs")
    shapes = units.to_crs(crs) if (crs and units.crs is not None) else units
    return geometry_mask(list(shapes.geometry), out_shape=(y.size, x.size), transform=transform,
                         invert=False, all_touched=False)


def symmetric_limit(values: np.ndarray, percentile: float = 2.0) -> tuple[float, float, float]:
    """(lo, hi, limit) of a diverging scale: the data range and the half-width around 0.

    Each side of 0 is trimmed on its own: ``lo`` is the ``percentile`` of the negative
    values (sources), ``hi`` the ``100 - percentile`` of the positive ones (sinks), so a
    small source area is never trimmed away by the many sink cells. The colours run over
    -limit..+limit with ``limit = max(|lo|, hi)``, so one colour step is the same NEP
    difference on both sides of 0, and the bar is drawn only over lo..hi: a range of
    -150..600 gives the sources a fifth of the bar, not half. Values beyond are drawn in
    the colour of the end they pass (the bar's extensions).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    neg, pos = v[v < 0], v[v > 0]
    lo = float(np.percentile(neg, percentile)) if neg.size else 0.0
    hi = float(np.percentile(pos, 100 - percentile)) if pos.size else 0.0
    if lo == 0.0 and hi == 0.0:
        lo, hi = -1.0, 1.0
    limit = max(abs(lo), abs(hi))
    return lo, hi, limit


#: Diverging colours of NEP: red for a source (NEP < 0), green for a sink.
NEP_CMAP = "RdYlGn"
#: Colour of cells inside the study area without a value (water, nodata).
NODATA_IN_AREA = "#d9d9d9"


def nep_maps(grids: Mapping[int, xr.DataArray], units=None, *, generated: bool | str = False,
             percentile: float = 2.0, credit: str | None = None,
             mask_outside: bool = True) -> Figure:
    """Annual NEP [g C m-2 yr-1], one panel per year, one diverging scale centred on 0.

    Parameters
    ----------
    grids : {year: DataArray (y, x)} as returned by :func:`read_grid`
    units : optional GeoDataFrame of unit outlines, drawn on top (reprojected to the grid);
        with ``mask_outside`` the cells outside every unit are left blank
    percentile : the colour scale spans the ``percentile``..``100-percentile`` range of all
        years, so that a few extreme pixels do not wash out the map [%]; see
        :func:`symmetric_limit` for how the two sides of 0 are scaled
    generated : label the figure as made from generated inputs
    credit : source credit line under the figure
    """
    import matplotlib as mpl
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    years = sorted(grids)
    outlines = None
    crs = grids[years[0]].attrs.get("crs") if years else None
    if units is not None and len(years):
        outlines = units.to_crs(crs) if (crs and units.crs is not None) else units
    arrays, inside = {}, {}
    for y in years:
        a = np.asarray(grids[y], dtype=float)
        out = study_area_mask(grids[y], outlines) if (outlines is not None and mask_outside) \
            else np.zeros(a.shape, bool)
        arrays[y], inside[y] = np.where(out, np.nan, a), ~out
    allv = np.concatenate([arrays[y].ravel() for y in years]) if years else np.array([])
    lo, hi, limit = symmetric_limit(allv, percentile)
    norm = Normalize(vmin=-limit, vmax=limit)
    cmap = mpl.colormaps[NEP_CMAP].with_extremes(bad=NODATA_IN_AREA)
    if outlines is not None:
        b = outlines.total_bounds
    elif years:
        g = grids[years[0]]
        b = (float(g.x.min()), float(g.y.min()), float(g.x.max()), float(g.y.max()))
    else:
        b = (0, 0, 1, 1)
    with style():
        fig, axes, cols = map_grid(len(years), b, is_geographic(crs), legend_height=1.25)
        for i, (ax, year) in enumerate(zip(axes, years)):
            g = grids[year]
            x, y = g["x"].values, g["y"].values
            dx = abs(x[1] - x[0]) if x.size > 1 else 1.0
            dy = abs(y[1] - y[0]) if y.size > 1 else 1.0
            extent = (x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2)
            origin = "upper" if (y.size < 2 or y[0] > y[-1]) else "lower"
            # outside the study area: transparent; inside without a value: grey
            rgba = cmap(norm(np.ma.masked_invalid(np.clip(arrays[year], lo, hi))))
            rgba[~inside[year]] = (0, 0, 0, 0)
            ax.imshow(rgba, extent=extent, origin=origin, interpolation="nearest")
            if outlines is not None:
                outlines.boundary.plot(ax=ax, color=EDGE_COLOUR,
                                       linewidth=0.3 if len(outlines) > 60 else 0.45)
            ax.set_title(str(year), fontsize=14 if cols <= 3 else 11, pad=3)
            frame_map(ax, crs, b, index=i, cols=cols, n=len(years))
        if years:
            # the bar covers lo..hi only, in the colours of the symmetric -limit..limit scale
            sub = np.linspace(norm(lo), norm(hi), 256)
            bar_map = ListedColormap(mpl.colormaps[NEP_CMAP](sub))
            mappable = ScalarMappable(norm=Normalize(lo, hi), cmap=bar_map)
            bar = fig.colorbar(mappable, ax=list(axes[:len(years)]), orientation="horizontal",
                               location="bottom", shrink=0.8, extend="both", aspect=40,
                               label="NEP [g C m-2 yr-1]   (red: source, green: sink; "
                               "grey: no value)")
            ticks = MaxNLocator(8).tick_values(lo, hi)
            bar.set_ticks(ticks[(ticks >= lo) & (ticks <= hi)])
            bar.ax.axvline(0, color="black", linewidth=1)
        fig.suptitle("Net ecosystem productivity NEP [g C m-2 yr-1]")
        credit_line(fig, credit)
        mark_generated(fig, generated)
    return fig
