"""Accounting units: polygons with an id, a name, an optional group and a geodesic area.

Areas are ellipsoidal (WGS84 geodesic polygon areas, Karney 2013, J. Geodesy 87:43,
doi:10.1007/s00190-012-0578-z, through :class:`pyproj.Geod`), never planar.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod
from shapely.validation import make_valid

from ..constants import M2_PER_KM2  # noqa: F401  (re-exported)
from ..errors import InputError

log = logging.getLogger(__name__)

#: Ellipsoid of geodesic areas.
ELLIPSOID = "WGS84"


def geodesic_area_km2(geometries: gpd.GeoSeries, *, ellipsoid: str = ELLIPSOID) -> np.ndarray:
    """Ellipsoidal area of each polygon [km2] (holes subtracted), whatever the CRS."""
    geod = Geod(ellps=ellipsoid)
    geo = geometries.to_crs("EPSG:4326") if geometries.crs and not geometries.crs.is_geographic \
        else geometries
    areas = [abs(geod.geometry_area_perimeter(g)[0]) if g is not None and not g.is_empty else 0.0
             for g in geo]
    return np.asarray(areas, dtype=float) / M2_PER_KM2


def repair_geometries(gdf: gpd.GeoDataFrame, *, source: str = "units") -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid polygons with :func:`shapely.make_valid`, keeping only areal parts.

    Returns the frame and the ids of the repaired units (a warning is logged for each).
    """
    invalid = ~gdf.geometry.is_valid & ~gdf.geometry.is_empty & gdf.geometry.notna()
    repaired = []
    if invalid.any():
        geoms = gdf.geometry.copy()
        for idx in gdf.index[invalid]:
            fixed = make_valid(geoms[idx])
            if fixed.geom_type == "GeometryCollection":
                polys = [g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                from shapely.ops import unary_union
                fixed = unary_union(polys)
            geoms[idx] = fixed
            repaired.append(str(gdf.loc[idx, "unit_id"]) if "unit_id" in gdf else str(idx))
        gdf = gdf.set_geometry(geoms)
        log.warning("%s: repaired invalid polygon(s) of unit(s) %s with make_valid",
                    source, ", ".join(repaired))
    return gdf, repaired


def load_units(path: str | Path, *, id: str, name: str, group: str | None = None,
               layer: str | None = None) -> gpd.GeoDataFrame:
    """Read unit polygons (GeoPackage, Shapefile, GeoJSON) into a standard frame.

    Returns a GeoDataFrame with columns ``unit_id`` (str), ``name``, ``group`` (str or
    None), ``area_km2`` (geodesic [km2]) and ``geometry`` in the file's CRS. Invalid
    polygons are repaired (with a warning); a missing column, a missing CRS or duplicate
    ids raise :class:`InputError`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("units file not found", file=path, key="units.path",
                         fix="check the path (relative to the study file)")
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the units file ({exc})", file=path, key="units.path",
                         fix="give a GeoPackage, Shapefile or GeoJSON of polygons") from None
    for key, col in (("units.id", id), ("units.name", name), ("units.group", group)):
        if col is not None and col not in gdf.columns:
            cols = ", ".join(c for c in gdf.columns if c != "geometry")
            raise InputError(f"column '{col}' not found", file=path, key=key,
                             fix=f"use one of: {cols}")
    if gdf.crs is None:
        raise InputError("the units file has no coordinate reference system", file=path,
                         key="units.path", fix="assign its CRS (e.g. EPSG:4326) in a GIS and save again")
    ids = gdf[id].map(_id_text)
    dup = sorted(set(ids[ids.duplicated()]))
    if dup:
        raise InputError(f"duplicate unit ids: {', '.join(dup)}", file=path, key="units.id",
                         fix="give every unit a unique id (or dissolve the duplicates)")
    out = gpd.GeoDataFrame({
        "unit_id": ids.to_numpy(),
        "name": gdf[name].astype(str).to_numpy(),
        "group": gdf[group].astype(str).to_numpy() if group else np.full(len(gdf), None, object),
    }, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        raise InputError(f"empty geometry for unit(s) {', '.join(out.unit_id[empty])}", file=path,
                         key="units.path", fix="remove these features or give them a polygon")
    out, _ = repair_geometries(out, source=str(path))
    # points, lines, or polygons whose repair left no area cannot hold carbon
    areal = out.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy() & \
        ~out.geometry.is_empty.to_numpy()
    if not areal.all():
        kinds = ", ".join(f"{i} ({t})" for i, t in zip(out.unit_id[~areal],
                                                        out.geometry.geom_type[~areal]))
        raise InputError(f"not a polygon with an area: unit(s) {kinds}", file=path,
                         key="units.path", fix="give polygons (a layer of points or lines "
                         "cannot be zoned); redraw zero-area polygons")
    out["area_km2"] = geodesic_area_km2(out.geometry)
    return out[["unit_id", "name", "group", "area_km2", "geometry"]]


def _id_text(value) -> str:
    """Ids as text; integral floats (420100.0 from a spreadsheet) lose their '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def id_text(values) -> pd.Series:
    """Public form of the id normalisation, for tables joined to units."""
    return pd.Series(values).map(_id_text)
