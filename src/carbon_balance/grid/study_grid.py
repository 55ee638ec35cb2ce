"""The study grid: the one grid every input is brought onto.

By default it is the grid of the first NDVI file of the first study year. ``[grid]`` may
set ``crs``, ``resolution`` and ``bounds`` (in the grid CRS); whatever it leaves out is
taken from the NDVI grid. On another CRS without bounds the extent is the bounding box
of the NDVI's transformed outline (edges densified), snapped outwards to whole multiples
of the resolution, so that the grids of two studies of one CRS and resolution line up
cell for cell (issue 15, item 6); its cells outside the NDVI footprint are nodata, and the
coverage checks use the footprint (:mod:`.coverage`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError, RasterioIOError
from rasterio.warp import calculate_default_transform, transform_bounds

from ..errors import InputError, StudyError
from .files import gdal_name, source_crs

#: Points per edge when an outline is transformed to another CRS (the default grid's
#: extent here, the coverage checks' outlines in :mod:`.coverage`).
EDGE_POINTS = 64


@dataclass(frozen=True)
class StudyGrid:
    """A north-up grid: ``crs``, ``transform`` (Affine), ``width``, ``height``."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the grid CRS."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    @property
    def is_geographic(self) -> bool:
        return bool(self.crs.is_geographic)

    @property
    def res(self) -> tuple[float, float]:
        return (self.transform.a, -self.transform.e)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def describe(self) -> str:
        return (f"{self.width} x {self.height} cells of {self.res[0]:g} x {self.res[1]:g} "
                f"in {self.crs.to_string()}")


def _first_ndvi(study):
    path = study.input_paths("ndvi", study.study.years[0])[0]
    key = "inputs.ndvi.path"
    try:
        with rasterio.open(gdal_name(path, study.inputs.ndvi.variable)) as src:
            return path, source_crs(src), src.transform, src.width, src.height
    except (RasterioIOError, OSError) as exc:
        raise InputError(f"cannot open the NDVI file that defines the study grid ({exc})",
                         file=path, key=key, fix="check the path pattern and that the file "
                         "is a GeoTIFF or NetCDF raster") from None


def study_grid(study) -> StudyGrid:
    """The study grid of ``study`` (see the module docstring)."""
    path, src_crs, src_transform, width, height = _first_ndvi(study)
    if src_crs is None:
        raise InputError("the NDVI file has no coordinate reference system", file=path,
                         key="inputs.ndvi.path", fix="assign one, e.g. gdal_edit.py -a_srs "
                         "EPSG:4326 FILE, or set [grid] crs")
    g = study.grid
    if g.crs is None and g.resolution is None and g.bounds is None:
        return StudyGrid(src_crs, src_transform, width, height)
    try:
        crs = CRS.from_user_input(g.crs) if g.crs else src_crs
    except CRSError as exc:
        raise StudyError(f"unknown CRS {g.crs!r} ({exc})", file=study.source, key="grid.crs",
                         fix="use an EPSG code such as 'EPSG:4326' or a WKT/PROJ string") from None
    src_bounds = rasterio.transform.array_bounds(height, width, src_transform)
    src_bounds = (src_bounds[0], src_bounds[1], src_bounds[2], src_bounds[3])
    if g.bounds is not None:
        xmin, ymin, xmax, ymax = g.bounds
        if not (xmax > xmin and ymax > ymin):
            raise StudyError("grid.bounds must be xmin, ymin, xmax, ymax with xmin < xmax and "
                             "ymin < ymax", file=study.source, key="grid.bounds",
                             fix="reorder the four numbers")
    elif crs == src_crs:
        xmin, ymin, xmax, ymax = src_bounds
    else:
        xmin, ymin, xmax, ymax = transform_bounds(src_crs, crs, *src_bounds,
                                                  densify_pts=EDGE_POINTS)
    if g.resolution is not None:
        res = g.resolution
    elif crs == src_crs:
        res = abs(src_transform.a)
    else:
        t, _, _ = calculate_default_transform(src_crs, crs, width, height, *src_bounds)
        res = abs(t.a)
    if g.bounds is None and crs != src_crs:
        xmin, ymin, xmax, ymax = snap_outwards((xmin, ymin, xmax, ymax), res)
    # Snap the extent outwards to whole cells so that the grid covers the requested bounds.
    ncols = max(1, math.ceil((xmax - xmin) / res - 1e-9))
    nrows = max(1, math.ceil((ymax - ymin) / res - 1e-9))
    return StudyGrid(crs, Affine(res, 0.0, xmin, 0.0, -res, ymax), ncols, nrows)


def snap_outwards(bounds, res: float) -> tuple[float, float, float, float]:
    """``bounds`` (xmin, ymin, xmax, ymax) grown to the nearest whole multiples of ``res``
    (a value within 1e-9 cells of a multiple is taken as that multiple)."""
    xmin, ymin, xmax, ymax = bounds
    lo = lambda v: math.floor(v / res + 1e-9) * res   # noqa: E731
    hi = lambda v: math.ceil(v / res - 1e-9) * res    # noqa: E731
    return lo(xmin), lo(ymin), hi(xmax), hi(ymax)


def chunk_shape(study, chunks=None) -> tuple[int, int]:
    """(rows, cols) of a chunk: ``chunks`` (an int or a pair), default ``[grid] chunk_size``."""
    if chunks is None:
        chunks = study.grid.chunk_size
    if isinstance(chunks, int):
        return (chunks, chunks)
    return (int(chunks[0]), int(chunks[1]))


def windows(grid: StudyGrid, chunks: tuple[int, int]) -> list[tuple[slice, slice]]:
    """(rows, cols) of every chunk of the study grid, row by row."""
    return [(slice(r, min(r + chunks[0], grid.height)), slice(c, min(c + chunks[1], grid.width)))
            for r in range(0, grid.height, chunks[0]) for c in range(0, grid.width, chunks[1])]
