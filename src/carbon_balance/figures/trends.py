"""Maps of the per-pixel trends: Theil–Sen slope of NPP and NEP, significant cells hatched
(``grids/trends/*.tif``, :mod:`carbon_balance.analysis.trend_outputs`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis.trends import ALPHA
from ._mapframe import credit_line, frame_map, is_geographic, map_grid
from ._style import EDGE_COLOUR, mark_generated, style
from .nep import NEP_CMAP, NODATA_IN_AREA, read_grid, study_area_mask, symmetric_limit

#: Hatch pattern of the cells whose Mann–Kendall p-value is below ALPHA.
HATCH = "...."
TITLES = {"npp": "NPP", "nep": "NEP"}


def read_pvalues(path: str | Path, *, max_size: int = 500) -> xr.DataArray:
    """A p-value grid on the cells of :func:`~.nep.read_grid` (same shape), each displayed
    cell taking the p-value of one full-resolution cell (nearest, never an average of
    p-values: the mean of two p-values is not a p-value, and the COG's overviews are
    averages, so they are not used)."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(path, OVERVIEW_LEVEL="NONE") as src:
        scale = max(src.width / max_size, src.height / max_size, 1.0)
        shape = (max(1, round(src.height / scale)), max(1, round(src.width / scale)))
        data = src.read(1, out_shape=shape, masked=True, resampling=Resampling.nearest)
    slope = read_grid(path, max_size=max_size)   # the coordinates, as the slope map's
    return slope.copy(data=np.ma.filled(data.astype("float64"), np.nan))


#: Longest side of the upsampled significance mask the hatching is contoured on [cells].
HATCH_CELLS = 1200


def _hatch(ax, x, y, mask) -> None:
    """Hatch the cells where ``mask`` (on cell centres ``x``, ``y``) is true: one filled
    contour of the 0/1 mask, upsampled k times so that a lone cell is hatched as (nearly)
    its square rather than the diamond between its neighbours' centres."""
    k = max(1, min(4, HATCH_CELLS // max(mask.shape)))
    dx = (x[1] - x[0]) if x.size > 1 else 1.0
    dy = (y[1] - y[0]) if y.size > 1 else -1.0
    fx = x[0] - dx / 2 + dx * (np.arange(x.size * k) + 0.5) / k
    fy = y[0] - dy / 2 + dy * (np.arange(y.size * k) + 0.5) / k
    fine = np.kron(mask.astype(float), np.ones((k, k)))
    ax.contourf(fx, fy, fine, levels=[0.5, 1.5], colors="none", hatches=[HATCH])


def trend_maps(slopes: Mapping[str, xr.DataArray], pvalues: Mapping[str, xr.DataArray],
               units=None, *, years: tuple[int, int, int] | None = None, alpha: float = ALPHA,
               percentile: float = 2.0, generated: bool | str = False,
               credit: str | None = None) -> Figure:
    """Theil–Sen slope [g C m-2 yr-2] per cell, one panel per quantity (NPP, NEP), each on
    its own diverging scale centred on 0 (:func:`~.nep.symmetric_limit`); cells with a
    Mann–Kendall p-value below ``alpha`` are hatched.

    Parameters
    ----------
    slopes, pvalues : {"npp"|"nep": DataArray (y, x)} from :func:`~.nep.read_grid` and
        :func:`read_pvalues`, on the same cells
    units : optional GeoDataFrame of unit outlines (cells outside every unit left blank)
    years : (first, last, count) of the series, for the title
    alpha : significance level of the hatching [-]
    """
    import matplotlib as mpl
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    names = [q for q in ("npp", "nep") if q in slopes]
    first = slopes[names[0]]
    crs = first.attrs.get("crs")
    outlines = None
    if units is not None:
        outlines = units.to_crs(crs) if (crs and units.crs is not None) else units
    if outlines is not None:
        b = outlines.total_bounds
    else:
        b = (float(first.x.min()), float(first.y.min()), float(first.x.max()),
             float(first.y.max()))
    cmap = mpl.colormaps[NEP_CMAP].with_extremes(bad=NODATA_IN_AREA)
    with style():
        fig, axes, cols = map_grid(len(names), b, is_geographic(crs), legend_height=1.45)
        for i, (ax, q) in enumerate(zip(axes, names)):
            g = slopes[q]
            a = np.asarray(g, dtype=float)
            out = (study_area_mask(g, outlines) if outlines is not None
                   else np.zeros(a.shape, bool))
            a = np.where(out, np.nan, a)
            lo, hi, limit = symmetric_limit(a, percentile)
            norm = Normalize(vmin=-limit, vmax=limit)
            x, y = g["x"].values, g["y"].values
            dx = abs(x[1] - x[0]) if x.size > 1 else 1.0
            dy = abs(y[1] - y[0]) if y.size > 1 else 1.0
            extent = (x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2)
            origin = "upper" if (y.size < 2 or y[0] > y[-1]) else "lower"
            rgba = cmap(norm(np.ma.masked_invalid(np.clip(a, lo, hi))))
            rgba[out] = (0, 0, 0, 0)
            ax.imshow(rgba, extent=extent, origin=origin, interpolation="nearest")
            p = np.asarray(pvalues[q], dtype=float)
            significant = (p < alpha) & ~out & np.isfinite(a)
            if significant.any():
                _hatch(ax, x, y, significant)
            if outlines is not None:
                outlines.boundary.plot(ax=ax, color=EDGE_COLOUR,
                                       linewidth=0.3 if len(outlines) > 60 else 0.45)
            share = significant.sum() / max(1, int(np.isfinite(a).sum()))
            ax.set_title(f"{TITLES.get(q, q)} slope ({share:.0%} of cells p < {alpha:g})",
                         fontsize=12, pad=3)
            frame_map(ax, crs, b, index=i, cols=cols, n=len(names))
            sub = np.linspace(norm(lo), norm(hi), 256)
            mappable = ScalarMappable(norm=Normalize(lo, hi),
                                      cmap=ListedColormap(mpl.colormaps[NEP_CMAP](sub)))
            bar = fig.colorbar(mappable, ax=ax, orientation="horizontal", location="bottom",
                               shrink=0.9, extend="both", aspect=25,
                               label=f"{TITLES.get(q, q)} slope [g C m-2 yr-2]")
            ticks = MaxNLocator(6).tick_values(lo, hi)
            bar.set_ticks(ticks[(ticks >= lo) & (ticks <= hi)])
            bar.ax.axvline(0, color="black", linewidth=1)
        span = f", {years[0]}–{years[1]} ({years[2]} years)" if years else ""
        fig.suptitle(f"Theil–Sen trend of annual NPP and NEP{span}\nhatched: Mann–Kendall "
                     f"p < {alpha:g}", fontsize=11)
        credit_line(fig, credit)
        mark_generated(fig, generated)
    return fig
