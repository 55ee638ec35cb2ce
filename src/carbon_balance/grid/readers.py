"""Open the study's raster inputs and read windows of them on the study grid.

Each input of one year is described by an :class:`InputSpec` (plain, picklable data: the
file names, bands, raw nodata, scale/offset, declared units, resampling and the study
grid). :func:`read_window` reads one window of the study grid from it:

* files already on the study grid (same CRS and cell size, whole-cell offset) are read
  directly, window by window;
* other files are reprojected and resampled on the fly through a GDAL warped VRT
  (:class:`rasterio.vrt.WarpedVRT`), so only the source pixels under the window are read;
* raw nodata becomes NaN, then ``value = raw * scale + offset``, then the declared units
  are converted to model units (:mod:`carbon_balance.grid.conversions`).

GeoTIFF and NetCDF (through GDAL's netCDF driver: a variable with 12 time steps reads as
12 bands; ``scale_factor``/``add_offset``/``_FillValue`` are honoured) are accepted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numba
import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..study import INPUT_NAMES as INPUTS
from ..study import MONTHLY_INPUTS  # noqa: F401  (re-exported)
from .conversions import MODEL_UNITS, to_model_units
from .files import gdal_name, netcdf_variable, source_crs
from .study_grid import StudyGrid

log = logging.getLogger(__name__)

RESAMPLING = {"bilinear": Resampling.bilinear, "average": Resampling.average,
              "nearest": Resampling.nearest, "mode": Resampling.mode}


@dataclass(frozen=True)
class InputSpec:
    """Everything needed to read one input of one year onto the study grid."""

    name: str                       # ndvi, temperature, precipitation, radiation, vegetation
    year: int
    files: tuple[str, ...]          # GDAL names; 1 file with 12 bands, or 12 files
    bands: tuple[tuple[int, int], ...]  # (file index, 1-based band) per month, or 1 for vegetation
    nodata: float | None            # raw nodata
    scale: float
    offset: float
    units: str | None
    resampling: str
    grid: StudyGrid
    src_shape: tuple[int, int] = (0, 0)
    #: (row, col) of the study grid's origin in the file when no warping is needed
    direct_offset: tuple[int, int] | None = None
    #: vegetation only: sorted raw codes and their casa codes (NaN = nodata)
    lut_codes: tuple[float, ...] = field(default=(), repr=False)
    lut_casa: tuple[float, ...] = field(default=(), repr=False)
    #: stored data type of the files (GDAL's name, e.g. "int16"); "" when they differ
    raw_dtype: str = ""

    @property
    def monthly(self) -> bool:
        return self.name != "vegetation"

    @property
    def small_integers(self) -> bool:
        """Stored as integers of at most 16 bits and read without resampling: the values
        of a window can be kept (and histogrammed) as those integers, losing nothing."""
        return (self.direct_offset is not None
                and self.raw_dtype in ("uint8", "int8", "uint16", "int16"))

    @property
    def shape(self) -> tuple[int, ...]:
        g = self.grid
        return (12, g.height, g.width) if self.monthly else (g.height, g.width)


@numba.njit(nogil=True, cache=True)
def _decode(raw, out, nodata, has_nodata, scale, offset):
    flat_in = raw.reshape(-1)
    flat_out = out.reshape(-1)
    has_offset = offset != 0     # adding 0 would turn -0.0 into +0.0: skipped, as in numpy
    for i in range(flat_in.size):
        v = np.float32(flat_in[i])
        if has_nodata and v == nodata:
            flat_out[i] = np.nan
        else:
            v = v * scale
            flat_out[i] = v + offset if has_offset else v


def decode_integers(raw: np.ndarray, nodata: float | None, scale: float,
                    offset: float) -> np.ndarray:
    """float32 ``raw * scale + offset`` with ``raw == nodata`` as NaN (the comparison made
    in float32, as after GDAL's conversion); the same as the numpy steps of
    :func:`carbon_balance.grid.readers.read_raw`."""
    out = np.empty(raw.shape, np.float32)
    has = nodata is not None and not np.isnan(nodata)
    _decode(np.ascontiguousarray(raw), out, np.float32(nodata if has else 0), has,
            np.float32(scale), np.float32(offset))
    return out


def _direct_offset(src, grid: StudyGrid) -> tuple[int, int] | None:
    """Whole-cell offset of the study grid inside ``src`` when no resampling is needed."""
    crs = source_crs(src)
    if crs is None or crs != grid.crs:
        return None
    s, g = src.transform, grid.transform
    if not (np.isclose(s.a, g.a, rtol=1e-9, atol=0) and np.isclose(s.e, g.e, rtol=1e-9, atol=0)
            and s.b == 0 and s.d == 0 and g.b == 0 and g.d == 0):
        return None
    col, row = (g.c - s.c) / s.a, (g.f - s.f) / s.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    col, row = int(round(col)), int(round(row))
    if row < 0 or col < 0 or row + grid.height > src.height or col + grid.width > src.width:
        return None
    return (row, col)


def input_spec(study, name: str, year: int, grid: StudyGrid, *, log_alignment: bool = False,
               class_lookup=None) -> InputSpec:
    """Describe input ``name`` of ``year`` (reads the files' metadata only).

    Raises ``ValueError``/``rasterio`` errors for unreadable files; the checks
    (:mod:`carbon_balance.grid.raster_checks`) turn those into :class:`Problem` items first.
    """
    cfg = getattr(study.inputs, name)
    paths = study.input_paths(name, year)
    variable = netcdf_variable(paths[0], cfg.variable)
    files = tuple(gdal_name(p, variable) for p in paths)
    with rasterio.open(files[0]) as src:
        count = src.count
        file_nodata = src.nodata
        file_scale = src.scales[0] if src.scales else 1.0
        file_offset = src.offsets[0] if src.offsets else 0.0
        direct = _direct_offset(src, grid)
        crs = source_crs(src)
        src_desc = (f"{src.width} x {src.height} cells of {abs(src.transform.a):g} x "
                    f"{abs(src.transform.e):g} in {crs.to_string() if crs else 'no CRS'}")
        src_shape = (src.height, src.width)
        dtypes = {src.dtypes[0]}
    for other in files[1:]:
        with rasterio.open(other) as src:
            dtypes.add(src.dtypes[0])
    if name == "vegetation":
        bands = ((0, 1),)
    elif len(files) == 12:
        bands = tuple((i, 1) for i in range(12))
    else:
        if count != 12:
            raise ValueError(f"{files[0]} has {count} bands, 12 needed")
        bands = tuple((0, b) for b in range(1, 13))
    set_keys = cfg.model_fields_set
    # The study file's scale/offset win; otherwise the file's own (GeoTIFF/NetCDF metadata).
    scale = cfg.scale if "scale" in set_keys else (file_scale if file_scale is not None else 1.0)
    offset = cfg.offset if "offset" in set_keys else (file_offset if file_offset is not None else 0.0)
    nodata = cfg.nodata if cfg.nodata is not None else file_nodata
    resampling = cfg.resampling or ("mode" if name == "vegetation" else "bilinear")
    lut_codes: tuple = ()
    lut_casa: tuple = ()
    if name == "vegetation" and class_lookup is not None:
        lut_codes, lut_casa = class_lookup
    spec = InputSpec(name=name, year=year, files=files, bands=bands, nodata=nodata,
                     scale=float(scale), offset=float(offset), units=cfg.units,
                     resampling=resampling, grid=grid, src_shape=src_shape,
                     direct_offset=direct, lut_codes=lut_codes, lut_casa=lut_casa,
                     raw_dtype=dtypes.pop() if len(dtypes) == 1 else "")
    if log_alignment:
        what = ("read directly (already on the study grid)" if direct is not None else
                f"reprojected/resampled ({resampling}) onto {grid.describe()}")
        conv = []
        if spec.scale != 1.0 or spec.offset != 0.0:
            conv.append(f"value = raw * {spec.scale:g} + {spec.offset:g}")
        if cfg.units and cfg.units != MODEL_UNITS.get(name):
            conv.append(f"{cfg.units} -> {MODEL_UNITS[name]}")
        log.info("%s %d: %s (%s): %s; nodata %s%s", name, year, paths[0] if len(paths) == 1
                 else f"{len(paths)} monthly files from {paths[0]}", src_desc, what,
                 "NaN" if nodata is None else f"{nodata:g}",
                 "; " + ", ".join(conv) if conv else "")
    return spec


def _direct_window(spec: InputSpec, rows: slice, cols: slice) -> Window:
    """The file window of study-grid ``rows``/``cols`` for an input read without warping."""
    r0, c0 = rows.start or 0, cols.start or 0
    dr, dc = spec.direct_offset
    return Window(c0 + dc, r0 + dr, cols.stop - c0, rows.stop - r0)


def _read_bands(spec: InputSpec, file_index: int, bands: list[int], rows: slice,
                cols: slice) -> np.ndarray:
    """Raw values of ``bands`` of one file in the window, float32, raw nodata as NaN."""
    r0, r1 = rows.start or 0, rows.stop
    c0, c1 = cols.start or 0, cols.stop
    h, w = r1 - r0, c1 - c0
    g = spec.grid
    with rasterio.open(spec.files[file_index]) as src:
        if spec.direct_offset is not None:
            data = src.read(bands, window=_direct_window(spec, rows, cols), out_dtype="float32")
            if spec.nodata is not None and not np.isnan(spec.nodata):
                data[data == np.float32(spec.nodata)] = np.nan
            return data
        with WarpedVRT(src, src_crs=source_crs(src), crs=g.crs, transform=g.transform,
                       width=g.width, height=g.height,
                       resampling=RESAMPLING[spec.resampling], src_nodata=spec.nodata,
                       nodata=np.nan, dtype="float32") as vrt:
            return vrt.read(bands, window=Window(c0, r0, w, h))


def _stack_bands(spec: InputSpec, read) -> np.ndarray:
    """The spec's bands stacked in order, ``read(file_index, bands)`` reading each file's:
    all bands of one file in one read, or one band from each of several files."""
    if len(spec.files) == 1:
        return read(0, [b for _, b in spec.bands])
    return np.concatenate([read(i, [b]) for i, b in spec.bands])


def read_integers(spec: InputSpec, rows: slice, cols: slice) -> np.ndarray:
    """The stored integers (12, h, w), or (1, h, w) for vegetation, of a window of an
    input whose :attr:`InputSpec.small_integers` is true, nodata included, in the files'
    own type.

    ``values_from_integers(spec, read_integers(spec, ...))`` equals :func:`read_raw`.
    """
    if not spec.small_integers:
        raise ValueError(f"{spec.name} is not stored as small integers on the study grid")
    window = _direct_window(spec, rows, cols)

    def stored(file_index: int, bands: list[int]) -> np.ndarray:
        with rasterio.open(spec.files[file_index]) as src:
            return src.read(bands, window=window)

    return _stack_bands(spec, stored)


def values_from_integers(spec: InputSpec, raw: np.ndarray) -> np.ndarray:
    """float32 values of stored integers: nodata -> NaN, then ``raw * scale + offset``,
    in the same float32 steps as :func:`read_raw` (so bit for bit the same values)."""
    return decode_integers(raw, spec.nodata, spec.scale, spec.offset)


def class_table(spec: InputSpec) -> tuple[int, np.ndarray]:
    """(base, table): ``table[raw - base]`` is :func:`crosswalk` of every stored integer
    of a vegetation input stored as small integers (NaN for nodata, -1 for codes missing
    from the class table): one look-up per cell instead of a search."""
    info = np.iinfo(np.dtype(spec.raw_dtype))
    base = int(info.min)
    table = np.full(int(info.max) - base + 1, -1, np.float32)
    codes = np.asarray(spec.lut_codes, np.float64)
    casa = np.asarray(spec.lut_casa, np.float32)
    exact = (codes == np.round(codes)) & (codes >= info.min) & (codes <= info.max)
    table[codes[exact].astype(np.int64) - base] = casa[exact]
    if spec.nodata is not None and not np.isnan(spec.nodata):
        nodata = float(np.float32(spec.nodata))
        if nodata == round(nodata) and info.min <= nodata <= info.max:
            table[int(nodata) - base] = np.nan
    return base, table


def read_raw(spec: InputSpec, rows: slice, cols: slice) -> np.ndarray:
    """Scaled values (``raw * scale + offset``, NaN for nodata) of the window, float32;
    shape (12, h, w) for monthly inputs and (h, w) for vegetation (raw class codes)."""
    if spec.name == "vegetation":
        return _read_bands(spec, 0, [1], rows, cols)[0]
    data = _stack_bands(spec, lambda i, bands: _read_bands(spec, i, bands, rows, cols))
    if spec.scale != 1.0:
        data *= np.float32(spec.scale)
    if spec.offset != 0.0:
        data += np.float32(spec.offset)
    return data


def crosswalk(raw_codes: np.ndarray, lut_codes, lut_casa) -> np.ndarray:
    """Raw class codes -> casa codes (float32, NaN for nodata); codes missing from the
    table become -1 (refused by the checks)."""
    codes = np.asarray(lut_codes, dtype=np.float64)
    casa = np.asarray(lut_casa, dtype=np.float32)
    out = np.full(raw_codes.shape, np.nan, dtype=np.float32)
    valid = ~np.isnan(raw_codes)
    if codes.size == 0:
        out[valid] = -1
        return out
    idx = np.clip(np.searchsorted(codes, raw_codes[valid]), 0, codes.size - 1)
    found = codes[idx] == raw_codes[valid]
    out[valid] = np.where(found, casa[idx], np.float32(-1))
    return out


def read_window(spec: InputSpec, rows: slice, cols: slice,
                integers: np.ndarray | None = None) -> np.ndarray:
    """One window of the input on the study grid in model units (float32, NaN = nodata).

    Vegetation comes back as casa codes (NaN = nodata, -1 = code missing from the table).
    Inputs stored as small integers are read as such (:func:`read_integers`) and decoded
    in one pass, or looked up in :func:`class_table`: the same values, faster.
    ``integers``: the window's stored integers when already read.
    """
    if integers is None and spec.small_integers:
        integers = read_integers(spec, rows, cols)
    if spec.name == "vegetation":
        if integers is None:
            return crosswalk(read_raw(spec, rows, cols), spec.lut_codes, spec.lut_casa)
        base, table = class_table(spec)
        raw = integers[0]
        return table[raw.astype(np.int64) - base] if base else table[raw]
    data = (read_raw(spec, rows, cols) if integers is None
            else values_from_integers(spec, integers))
    return to_model_units(data, spec.name, spec.units, spec.year)


def read_chunk(specs: dict, rows: slice, cols: slice,
               ndvi_integers: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """{input name: :func:`read_window`} of one chunk of every input of a year;
    ``ndvi_integers``: the chunk's stored NDVI integers when already read."""
    return {name: read_window(spec, rows, cols,
                              integers=ndvi_integers if name == "ndvi" else None)
            for name, spec in specs.items()}


class WindowReader:
    """An array-like over one input on the study grid, for :func:`dask.array.from_array`.

    Picklable (it only holds the :class:`InputSpec`), so it works on distributed workers.
    """

    def __init__(self, spec: InputSpec, raw: bool = False):
        self.spec = spec
        self.raw = raw
        self.shape = spec.shape
        self.dtype = np.dtype("float32")
        self.ndim = len(self.shape)

    def __getitem__(self, key):
        key = tuple(key) + (slice(None),) * (self.ndim - len(key))
        rows, cols = key[-2], key[-1]
        rows = slice(*rows.indices(self.shape[-2])[:2])
        cols = slice(*cols.indices(self.shape[-1])[:2])
        data = read_raw(self.spec, rows, cols) if self.raw else read_window(self.spec, rows, cols)
        if self.ndim == 3:
            data = data[key[0]]
        return data

    def __dask_tokenize__(self):
        return ("WindowReader", self.spec, self.raw)


# ---------------------------------------------------------------------------- a year

def year_specs(study, year: int, grid: StudyGrid, lut, *, log_alignment: bool = False) -> dict:
    """{input name: InputSpec} of ``year`` (reads metadata only); ``lut``: the class
    look-up of :func:`carbon_balance.grid.raster_checks.class_lookup`."""
    return {name: input_spec(study, name, year, grid, log_alignment=log_alignment,
                             class_lookup=lut if name == "vegetation" else None)
            for name in INPUTS}


def lazy_input(spec: InputSpec, chunks: tuple[int, int]):
    """One input on the study grid as a dask array [model units], one window per chunk,
    all 12 months of a cell in one chunk."""
    import dask.array as da
    from dask.base import tokenize

    reader = WindowReader(spec)
    return da.from_array(reader, chunks=((12,) if spec.monthly else ()) + tuple(chunks),
                         lock=False, asarray=False,
                         name=f"read-{spec.name}-{spec.year}-{tokenize(spec, chunks)}",
                         meta=np.empty((0,) * reader.ndim, np.float32))


def grid_coords(grid: StudyGrid) -> dict:
    """``month`` 1..12 and the cell centres ``y``, ``x`` of the study grid."""
    t = grid.transform
    return {"month": np.arange(1, 13),
            "y": t.f + t.e * (np.arange(grid.height) + 0.5),
            "x": t.c + t.a * (np.arange(grid.width) + 0.5)}


def year_dataset(specs: dict, grid: StudyGrid, chunks: tuple[int, int]):
    """A year's aligned, unit-converted inputs as a lazy (dask-backed) xarray Dataset.

    Variables: ``ndvi`` [-], ``temperature`` [°C], ``precipitation`` [mm month-1],
    ``radiation`` [MJ m-2 month-1] with dims (month, y, x), and ``vegetation`` (y, x) as
    CASA codes 0..11 (NaN nodata, -1 a code missing from the class table). ``specs``:
    :func:`year_specs`; ``chunks``: (rows, cols). CRS and transform are set for rioxarray.
    """
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    import xarray as xr

    variables = {}
    for name, spec in specs.items():
        dims = ("month", "y", "x") if spec.monthly else ("y", "x")
        variables[name] = xr.Variable(dims, lazy_input(spec, chunks),
                                      attrs={"units": MODEL_UNITS[name]})
    year = next(iter(specs.values())).year
    ds = xr.Dataset(variables, coords=grid_coords(grid), attrs={"year": year})
    return ds.rio.write_crs(grid.crs).rio.write_transform(grid.transform)


def study_year_dataset(study, year: int, *, chunks=None):
    """:func:`year_dataset` of a loaded study (for notebooks and tests): its grid, class
    table and ``[grid] chunk_size`` unless ``chunks`` (an int or (rows, cols)) is given."""
    from .raster_checks import class_lookup
    from .study_grid import chunk_shape, study_grid

    grid = study_grid(study)
    specs = year_specs(study, year, grid, class_lookup(study))
    return year_dataset(specs, grid, chunk_shape(study, chunks))


def study_vegetated_masks(study) -> dict:
    """{year: lazy 2-D dask array, 1.0 where the cell's casa type is vegetated, else 0}."""
    from ..casa.tables import casa_parameters

    flags = np.asarray(casa_parameters()["vegetated"], dtype=float)

    def lookup(codes):
        ok = np.isfinite(codes) & (codes >= 0)
        mask = np.zeros(codes.shape)
        mask[ok] = flags[codes[ok].astype(int)]
        return mask

    return {year: study_year_dataset(study, year)["vegetation"].data.map_blocks(lookup, dtype=float)
            for year in study.study.years}
