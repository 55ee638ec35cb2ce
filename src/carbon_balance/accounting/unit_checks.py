"""Units that overlap each other or lie partly outside the study grid (issue 15, item 3).

Both are accepted (overlaps occur in real boundary files, and a study may clip its
units on purpose), but each is a warning with its share, since carbon is then counted
twice, or only for the part on the grid. Areas are compared on the ellipsoid's
equal-area cylindrical projection (EPSG:6933), so shares are true area shares.
"""

from __future__ import annotations

import numpy as np

from ..errors import Problem

#: Overlap of two units above this share of the smaller unit's area is warned about.
OVERLAP_SHARE = 0.001
#: A unit whose area outside the grid is above this share is warned about.
OUTSIDE_SHARE = 0.001
EQUAL_AREA = "EPSG:6933"
#: How many units a message lists.
LISTED = 8


def overlap_problems(units, file: str) -> list[Problem]:
    """A warning listing unit pairs whose overlap is above :data:`OVERLAP_SHARE`."""
    import shapely

    geoms = units.to_crs(EQUAL_AREA).geometry.to_numpy()
    ids = units.unit_id.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return []
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    share = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    hits = np.nonzero(share > OVERLAP_SHARE)[0]
    if hits.size == 0:
        return []
    hits = hits[np.argsort(-share[hits])]
    listing = ", ".join(f"{ids[left[k]]} and {ids[right[k]]} ({100 * share[k]:.1f} % of the "
                        "smaller)" for k in hits[:LISTED])
    more = f" (and {hits.size - LISTED} more pairs)" if hits.size > LISTED else ""
    return [Problem(f"units overlap: {listing}{more}; their common carbon is counted in each",
                    file, "units.path", "fix the boundaries in a GIS (e.g. clip one unit by "
                    "the other), unless the overlap is intended", fatal=False)]


def outside_problems(units, grid_bounds, grid_crs, file: str) -> list[Problem]:
    """A warning listing units partly outside the grid, with the share outside."""
    import geopandas as gpd
    import shapely
    import shapely.errors
    from shapely.geometry import box

    try:
        frame = shapely.segmentize(box(*grid_bounds), max_segment_length=max(
            (grid_bounds[2] - grid_bounds[0]), (grid_bounds[3] - grid_bounds[1])) / 64)
        frame = gpd.GeoSeries([frame], crs=grid_crs).to_crs(EQUAL_AREA).iloc[0]
        geoms = units.to_crs(EQUAL_AREA).geometry.to_numpy()
        area = shapely.area(geoms)
        inside = shapely.area(shapely.intersection(geoms, frame))
    except (shapely.errors.GEOSException, ValueError):
        return []   # an absurd grid: its own problem is reported by the raster checks
    share = np.divide(area - inside, area, out=np.zeros_like(area), where=area > 0)
    hits = np.nonzero((share > OUTSIDE_SHARE) & (inside > 0))[0]   # wholly outside: an error elsewhere
    if hits.size == 0:
        return []
    hits = hits[np.argsort(-share[hits])]
    ids = units.unit_id.to_numpy()
    listing = ", ".join(f"{ids[k]} ({100 * share[k]:.1f} % outside)" for k in hits[:LISTED])
    more = f" (and {hits.size - LISTED} more)" if hits.size > LISTED else ""
    return [Problem(f"units partly outside the study grid: {listing}{more}; only the part on "
                    "the grid is counted", file, "units.path",
                    "extend [grid] bounds or the input rasters to cover them", fatal=False)]
