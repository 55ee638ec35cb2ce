"""Zonal sums of gridded quantities over unit polygons (METHOD.md section 3).

    CS_i = sum over cells of NEP [g C m-2] x cell area [m2] x covered fraction x 1e-6  [t C]

Two paths (``[accounting] method``):

- ``exact`` (the default, whatever the grid size): :func:`coverage_fractions` +
  :func:`zonal_sums`, exact partial-cell coverage from exactextract (Baston 2022,
  https://github.com/isciences/exactextract), computed once per grid and reused for every
  year and quantity.
- ``centres``, only when the study asks for it (national 30 m grids):
  :func:`zonal_sums_dask`, zones rasterised chunk by chunk (cell centre rule) and summed
  with :func:`numpy.bincount` per chunk. It counts whole cells, so it differs from the
  exact path by the boundary cells.

Cell areas are ellipsoidal on geographic grids (the area between two parallels on the
ellipsoid depends only on latitude: Snyder 1987, Map Projections - A Working Manual,
USGS PP 1395, eq. 3-12, doi:10.3133/pp1395) and the nominal area divided by the areal
scale factor at the cell centre on projected grids (pyproj ``get_factors``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Geod, Proj, Transformer

from .. import progress
from ..constants import M2_PER_KM2, T_PER_G

log = logging.getLogger(__name__)

#: Ellipsoid of cell areas on geographic grids.
ELLIPSOID = "WGS84"


@dataclass(frozen=True)
class Coverage:
    """Cells covered by each unit: flat cell index, covered fraction [0-1], unit position."""

    unit_ids: np.ndarray
    cells: np.ndarray
    fractions: np.ndarray
    unit_index: np.ndarray
    shape: tuple[int, int]

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)


def _authalic_q(phi: np.ndarray, e: float) -> np.ndarray:
    """Snyder (1987) eq. 3-12 q(phi) without the (1 - e2) factor [-]."""
    s = np.sin(phi)
    return s / (1 - (e * s) ** 2) + np.log((1 + e * s) / (1 - e * s)) / (2 * e)


def geographic_cell_areas_m2(lat_edges_deg: np.ndarray, dlon_deg: float, *,
                             ellipsoid: str = ELLIPSOID) -> np.ndarray:
    """Area of cells between consecutive parallels ``lat_edges_deg`` [deg], ``dlon_deg`` wide [m2].

    Exact on the ellipsoid: A = a2 (1 - e2) / 2 x dlon [rad] x |q(phi2) - q(phi1)|.
    """
    geod = Geod(ellps=ellipsoid)
    e = np.sqrt(geod.es)
    q = _authalic_q(np.radians(np.asarray(lat_edges_deg, dtype=float)), e)
    return geod.a ** 2 * (1 - geod.es) / 2 * np.radians(abs(dlon_deg)) * np.abs(np.diff(q))


def cell_areas_m2(shape: tuple[int, int], transform: Affine, crs, *,
                  ellipsoid: str = ELLIPSOID, row_offset: int = 0, col_offset: int = 0) -> np.ndarray:
    """Area of every cell of a north-up grid [m2], shape ``shape``.

    Geographic CRS: ellipsoidal, one value per row (broadcast to the columns).
    Projected CRS: |dx dy| / areal scale factor at each cell centre.
    ``row_offset``/``col_offset`` place a chunk inside the grid of ``transform``.
    """
    crs = CRS.from_user_input(crs)
    rows, cols = shape
    if transform.b != 0 or transform.d != 0:
        raise ValueError("rotated grids are not supported")
    if crs.is_geographic:
        y0 = transform.f + transform.e * row_offset
        edges = y0 + transform.e * np.arange(rows + 1)
        per_row = geographic_cell_areas_m2(edges, transform.a, ellipsoid=ellipsoid)
        return np.broadcast_to(per_row[:, None], shape).copy()
    r = np.arange(rows) + row_offset + 0.5
    c = np.arange(cols) + col_offset + 0.5
    x = transform.c + transform.a * c
    y = transform.f + transform.e * r
    xx, yy = np.meshgrid(x, y)
    lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(xx, yy)
    scale = Proj(crs).get_factors(lon, lat).areal_scale
    return abs(transform.a * transform.e) / np.asarray(scale, dtype=float)


#: exactextract's Python raster source deadlocks when two threads call it at once
#: (observed: two threads inside ``exact_extract``, both blocked for good), so calls take
#: turns.
_EXACTEXTRACT = threading.Lock()


def coverage_fractions(units: gpd.GeoDataFrame, shape: tuple[int, int], transform: Affine,
                       crs) -> Coverage:
    """Exact fraction of each grid cell covered by each unit polygon (exactextract).
    Safe to call from several threads (the calls take turns)."""
    from exactextract import exact_extract
    from rasterio.io import MemoryFile

    rows, cols = shape
    zones = units.to_crs(crs)[["unit_id", "geometry"]].reset_index(drop=True)
    profile = dict(driver="GTiff", height=rows, width=cols, count=1, dtype="uint8",
                   crs=CRS.from_user_input(crs).to_wkt(), transform=transform)
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            # a template without nodata, so that every covered cell is reported
            ds.write(np.ones((1, rows, cols), dtype="uint8"))
        with mem.open() as ds, _EXACTEXTRACT:
            res = exact_extract(ds, zones, ["cell_id", "coverage"], include_cols=["unit_id"],
                                output="pandas")
    cells, fracs, index = [], [], []
    order = {u: i for i, u in enumerate(zones.unit_id)}
    for uid, cid, cov in zip(res["unit_id"], res["cell_id"], res["coverage"]):
        cid = np.asarray(cid, dtype=np.int64)
        cells.append(cid)
        fracs.append(np.asarray(cov, dtype=float))
        index.append(np.full(cid.size, order[uid], dtype=np.int64))
    cat = (lambda a, dt: np.concatenate(a) if a else np.zeros(0, dt))
    return Coverage(zones.unit_id.to_numpy(), cat(cells, np.int64), cat(fracs, float),
                    cat(index, np.int64), (rows, cols))


def zonal_sums(values: np.ndarray, coverage: Coverage, cell_area_m2: np.ndarray) -> np.ndarray:
    """Sum of ``values`` [x m-2] x cell area [m2] x covered fraction per unit [x].

    NaN (nodata) cells contribute nothing.
    """
    v = np.asarray(values, dtype=float).reshape(-1)[coverage.cells]
    a = np.asarray(cell_area_m2, dtype=float).reshape(-1)[coverage.cells]
    w = np.where(np.isfinite(v), v, 0.0) * a * coverage.fractions
    return np.bincount(coverage.unit_index, weights=w, minlength=coverage.n_units)


def rasterize_zones(units: gpd.GeoDataFrame, shape: tuple[int, int], transform: Affine,
                    crs) -> np.ndarray:
    """Zone raster: position of the unit (1-based) whose polygon holds the cell centre, 0 outside."""
    from rasterio.features import rasterize

    zones = units.to_crs(crs).reset_index(drop=True)
    shapes = ((g, i + 1) for i, g in enumerate(zones.geometry))
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32",
                     all_touched=False)


def zonal_sums_dask(values, units: gpd.GeoDataFrame, transform: Affine, crs) -> np.ndarray:
    """Chunked zonal sums for very large grids [x]: ``values`` is a 2-D dask array [x m-2].

    Each chunk rasterises the zones on its own window and adds
    ``bincount(zone, value x cell area)``; only the per-unit totals leave the chunk.
    """
    import dask
    import dask.array as da
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    values = da.asarray(values)
    n = len(units)
    zones = units.to_crs(crs).reset_index(drop=True)

    def block_sum(block, r0, c0):
        shape = block.shape
        wt = window_transform(Window(c0, r0, shape[1], shape[0]), transform)
        z = rasterize_zones(zones, shape, wt, crs)
        area = cell_areas_m2(shape, transform, crs, row_offset=r0, col_offset=c0)
        v = np.where(np.isfinite(block), block, 0.0) * area
        return np.bincount(z.ravel(), weights=v.ravel(), minlength=n + 1)

    parts = []
    row_starts = np.cumsum((0,) + values.chunks[0][:-1])
    col_starts = np.cumsum((0,) + values.chunks[1][:-1])
    blocks = values.to_delayed()
    for i, r0 in enumerate(row_starts):
        for j, c0 in enumerate(col_starts):
            parts.append(dask.delayed(block_sum)(blocks[i, j], int(r0), int(c0)))
    total = dask.delayed(sum)(parts).compute()
    return np.asarray(total[1:], dtype=float)


# ---------------------------------------------------------------------------- per unit and year

def _read_grid(path: Path) -> tuple[np.ndarray, object, object]:
    import rasterio

    with rasterio.open(path) as ds:
        a = ds.read(1, masked=True).astype("float64").filled(np.nan)
        return a, ds.transform, ds.crs


#: Zonal sum methods of ``[accounting] method``: exact partial-cell coverage (the
#: default, whatever the grid size) or the cell-centre rule, chunked on dask.
METHODS = ("exact", "centres")
#: A unit-year whose valid share of the vegetated area is below this is flagged
#: (METHOD.md section 3).
MIN_VALID_FRACTION = 0.95
#: Vegetation masks above this many cells stay lazy (dask) until the sums need them.
LARGE_GRID_CELLS = 100_000_000


def _grid_meta(path: Path):
    import rasterio

    with rasterio.open(path) as ds:
        return (ds.height, ds.width), ds.transform, ds.crs


def _lazy_grid(path: Path, chunk: int = 4096):
    """A GeoTIFF band as a dask array [file units], nodata as NaN."""
    import rioxarray

    da_ = rioxarray.open_rasterio(path, chunks={"x": chunk, "y": chunk}, masked=True)
    return da_.isel(band=0).data


#: Vegetated areas below this [m2] are rounding (exactextract reports cells beside an
#: edge that runs along a cell boundary with coverages of ~1e-16): no vegetated area.
NEGLIGIBLE_AREA_M2 = 1e-3


def valid_fraction(valid_vegetated_m2, vegetated_m2) -> np.ndarray:
    """Share of the vegetated area with a valid NEP [0-1]; NaN without vegetated area."""
    valid_vegetated_m2 = np.asarray(valid_vegetated_m2, float)
    vegetated_m2 = np.asarray(vegetated_m2, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(vegetated_m2 > NEGLIGIBLE_AREA_M2,
                        np.minimum(valid_vegetated_m2 / vegetated_m2, 1.0), np.nan)


def zonal_carbon(units, grids: dict[int, dict[str, Path]], vegetated: dict | None = None, *,
                 method: str = "exact", min_valid_fraction: float = MIN_VALID_FRACTION
                 ) -> pd.DataFrame:
    """Per unit and year: NPP and NEP sums, the vegetated area and its valid share.

    ``grids``: {year: {"npp": path, "nep": path}} [g C m-2 yr-1]. ``vegetated``: {year:
    2-D array (numpy or dask), 1 where the casa type is vegetated} on the same grid;
    default: NPP > 0. ``method``: "exact" (partial-cell coverage held in memory, any grid
    size) or "centres" (cells whole to the unit holding their centre, chunk by chunk on
    dask; only when the study asks for it, ``[accounting] method``).

    Returns unit_id, year, npp_sum_g, cs_t_c, vegetated_area_km2, valid_area_km2 and
    ``valid_fraction``: the share of the vegetated area whose NEP is valid [0-1] (NaN
    when the unit has no vegetated area). NaN cells add nothing to the sums, so a unit
    below ``min_valid_fraction`` has its CS understated: it is logged as a warning (the
    units table flags it). A unit none of whose cells has a valid NEP has
    ``valid_area_km2`` 0 and NaN sums (not 0: nodata is not "no carbon");
    :func:`~carbon_balance.accounting.unit_tables.units_table` leaves it unzoned.
    """
    if method not in METHODS:
        raise ValueError(f"zonal method {method!r} is not one of {METHODS}")
    rows, cache = [], {}
    for year, paths in sorted(grids.items()):
        progress.item(year)
        shape, transform, crs = _grid_meta(Path(paths["nep"]))
        veg = None if vegetated is None else vegetated.get(year)
        if method == "centres":
            import dask.array as da

            nep = _lazy_grid(Path(paths["nep"]))
            npp = _lazy_grid(Path(paths["npp"]))
            veg = (npp > 0).astype(float) if veg is None else da.asarray(veg).rechunk(nep.chunks)
            veg = da.where(da.isfinite(veg), veg, 0.0)
            sums = [zonal_sums_dask(a, units, transform, crs)
                    for a in (npp, nep, veg, da.isfinite(nep).astype(float),
                              veg * da.isfinite(nep))]
            npp_g, nep_g, veg_m2, valid_m2, valid_veg_m2 = sums
            ids = units.unit_id.to_numpy()
        else:
            nep = _read_grid(Path(paths["nep"]))[0]
            npp = _read_grid(Path(paths["npp"]))[0] if "npp" in paths else np.full(shape, np.nan)
            key = (shape, tuple(transform), str(crs))
            if key not in cache:  # coverage and areas are per grid, not per year
                cache[key] = (coverage_fractions(units, shape, transform, crs),
                              cell_areas_m2(shape, transform, crs))
            cov, area = cache[key]
            if veg is None:
                veg = np.where(np.isfinite(npp), npp > 0, 0.0)
            veg = np.asarray(veg, float)
            veg = np.where(np.isfinite(veg), veg, 0.0)
            valid = np.isfinite(nep).astype(float)
            veg_m2 = zonal_sums(veg, cov, area)
            nep_g = zonal_sums(nep, cov, area)
            npp_g = zonal_sums(npp, cov, area)
            valid_m2 = zonal_sums(valid, cov, area)
            valid_veg_m2 = zonal_sums(veg * valid, cov, area)
            ids = cov.unit_ids
        fraction = valid_fraction(valid_veg_m2, veg_m2)
        for i, uid in enumerate(ids):
            if not valid_m2[i] > 0:
                log.warning("unit %s, %s: no valid pixels (every cell is nodata in the NEP "
                            "grid); its CS is left empty and it is not zoned", uid, year)
                npp_g[i] = nep_g[i] = np.nan
            elif fraction[i] < min_valid_fraction:
                log.warning("unit %s, %s: only %.1f %% of its vegetated area has a valid NEP "
                            "(below %.0f %%): the cells without data add nothing, so its CS "
                            "is understated (flagged in units.csv: low_valid_fraction)",
                            uid, year, 100 * fraction[i], 100 * min_valid_fraction)
            rows.append((uid, int(year), npp_g[i], nep_g[i] * T_PER_G, veg_m2[i] / M2_PER_KM2,
                         valid_m2[i] / M2_PER_KM2, fraction[i]))
    return pd.DataFrame(rows, columns=["unit_id", "year", "npp_sum_g", "cs_t_c",
                                       "vegetated_area_km2", "valid_area_km2",
                                       "valid_fraction"])
