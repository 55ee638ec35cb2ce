"""Does an input cover the study area? (issue 15, item 6)

The default study grid on another CRS than the NDVI's is the bounding box of the NDVI's
transformed outline: its corners lie outside the NDVI itself. Comparing each input with
that rectangle (transformed back to the input's CRS, a larger box again) refused the
common projected study, every input including the NDVI. So the area an input must cover
is the study grid's rectangle intersected with the NDVI footprint (its transformed
outline) when the grid is derived from the NDVI, and the rectangle itself when
``[grid] bounds`` are given. Shares are areas in the grid CRS.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from rasterio.transform import array_bounds
from shapely.geometry import box

from .files import source_crs
from .study_grid import EDGE_POINTS

#: Uncovered share of the study area above which an input is refused.
COVER_TOLERANCE = 1e-4


def _outline(bounds, crs, to_crs):
    """The rectangle ``bounds`` in ``crs`` as a polygon in ``to_crs`` (edges densified)."""
    xmin, ymin, xmax, ymax = bounds
    rect = box(min(xmin, xmax), min(ymin, ymax), max(xmin, xmax), max(ymin, ymax))
    if crs == to_crs:
        return rect
    step = max(rect.bounds[2] - rect.bounds[0], rect.bounds[3] - rect.bounds[1]) / EDGE_POINTS
    dense = shapely.segmentize(rect, max_segment_length=step)
    return gpd.GeoSeries([dense], crs=crs).to_crs(to_crs).iloc[0].buffer(0)


def study_area(study, grid):
    """The part of the study grid every input must cover (polygon in the grid CRS)."""
    from .study_grid import _first_ndvi

    rect = box(*grid.bounds)
    if study.grid.bounds is not None:
        return rect
    _, crs, transform, width, height = _first_ndvi(study)
    if crs is None or crs == grid.crs:
        return rect
    west, south, east, north = array_bounds(height, width, transform)
    return rect.intersection(_outline((west, south, east, north), crs, grid.crs))


def uncovered_share(src, area, grid_crs) -> float:
    """Share of ``area`` (grid CRS) outside the dataset ``src`` (to half a source cell)."""
    if area is None or area.is_empty or area.area == 0:
        return 0.0
    b = src.bounds
    tx, ty = abs(src.transform.a) / 2, abs(src.transform.e) / 2
    grown = (min(b.left, b.right) - tx, min(b.bottom, b.top) - ty,
             max(b.left, b.right) + tx, max(b.bottom, b.top) + ty)
    try:
        own = _outline(grown, source_crs(src), grid_crs)
    except Exception:   # no transformation between the CRSs: nothing is covered
        return 1.0
    return float(area.difference(own).area / area.area)


def describe(src, grid) -> str:
    """Both extents, for the message."""
    b = src.bounds
    g = grid.bounds
    return (f"raster extent ({b.left:.6g}, {b.bottom:.6g}, {b.right:.6g}, {b.top:.6g}) in "
            f"{source_crs(src).to_string()}; study grid ({g[0]:.6g}, {g[1]:.6g}, {g[2]:.6g}, "
            f"{g[3]:.6g}) in {grid.crs.to_string()}")
