"""Maps of the annual NEP grids, one panel per year, on one colour scale."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._style import (
    EDGE_COLOUR,
    map_axes,
    mark_generated,
    small_multiples,
    style,
)


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


def _is_geographic(crs_wkt: str | None) -> bool:
    if not crs_wkt:
        return False
    from pyproj import CRS

    return CRS.from_wkt(crs_wkt).is_geographic


def nep_maps(grids: Mapping[int, xr.DataArray], units=None, *, generated: bool | str = False,
             percentile: float = 2.0) -> Figure:
    """Annual NEP [g C m-2 yr-1], one panel per year, one diverging scale centred on 0.

    Parameters
    ----------
    grids : {year: DataArray (y, x)} as returned by :func:`read_grid`
    units : optional GeoDataFrame of unit outlines, drawn on top (reprojected to the grid)
    percentile : the colour scale spans the ``percentile``..``100-percentile`` range of all
        years, so that a few extreme pixels do not wash out the map [%]
    generated : label the figure as made from generated inputs
    """
    years = sorted(grids)
    allv = np.concatenate([np.asarray(grids[y]).ravel() for y in years]) if years else np.array([])
    allv = allv[np.isfinite(allv)]
    lo, hi = (np.percentile(allv, [percentile, 100 - percentile]) if allv.size else (-1.0, 1.0))
    # the scale always contains 0 (sink vs source), with room for sources to be seen
    hi = max(hi, 1e-6)
    lo = min(lo, -0.25 * hi)
    norm = TwoSlopeNorm(vmin=lo, vcenter=0.0, vmax=hi)
    outlines = None
    if units is not None and len(years):
        crs = grids[years[0]].attrs.get("crs")
        outlines = units.to_crs(crs) if (crs and units.crs is not None) else units
    with style():
        fig, axes = small_multiples(len(years), 3.3, 1.6)
        image = None
        for ax, year in zip(axes, years):
            g = grids[year]
            x, y = g["x"].values, g["y"].values
            dx = abs(x[1] - x[0]) if x.size > 1 else 1.0
            dy = abs(y[1] - y[0]) if y.size > 1 else 1.0
            extent = (x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2)
            origin = "upper" if (y.size < 2 or y[0] > y[-1]) else "lower"
            image = ax.imshow(np.asarray(g), extent=extent, origin=origin, cmap="RdYlGn",
                              norm=norm, interpolation="nearest")
            if outlines is not None:
                outlines.boundary.plot(ax=ax, color=EDGE_COLOUR, linewidth=0.4)
            if _is_geographic(g.attrs.get("crs")):  # keep shapes true at the mid latitude
                ax.set_aspect(1 / np.cos(np.deg2rad(float(np.mean(y)))))
            ax.set_title(str(year))
            map_axes(ax)
        if image is not None:
            bar = fig.colorbar(image, ax=list(axes[:len(years)]), orientation="horizontal",
                               location="bottom", shrink=0.8, extend="both",
                               label="NEP [g C m-2 yr-1] (green: sink, red: source)")
            # a two-slope scale gets no ticks on its short side by default
            ticks = MaxNLocator(7).tick_values(lo, hi)
            bar.set_ticks(ticks[(ticks >= lo) & (ticks <= hi)])
        fig.suptitle("Net ecosystem productivity NEP [g C m-2 yr-1]")
        mark_generated(fig, generated)
    return fig
