"""Write result grids chunk by chunk, then as float32 Cloud Optimized GeoTIFFs.

Chunks are written into an uncompressed tiled GeoTIFF (any order, from any thread or
worker, serialised by a lock), which GDAL's ``COG`` driver then copies into the final
file (DEFLATE with the floating-point predictor, 512-pixel tiles, average overviews).
Neither step holds a whole grid in memory.

The overviews are the means of the valid cells of each 2 x 2, 4 x 4, ... block, the
levels GDAL's COG driver would choose (halving until one tile holds the overview). When
every factor divides the chunk size, each chunk's block means are computed as the chunk
is stored (:func:`block_means`, cheap on data already in memory) into one small GeoTIFF
per level, and the COG is copied from a VRT that names those levels as its overviews;
GDAL then only compresses them instead of reading the whole grid again to average it
(about half the time of the COG step, see docs/grid.md). Otherwise GDAL computes them
(``OVERVIEW_RESAMPLING=AVERAGE``), each level from the one above: the same means at the
first level and wherever no cell is missing.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numba
import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine

from .. import __version__
from .evaluate import ANNUAL
from .study_grid import StudyGrid

#: Units of the annual and the monthly outputs.
OUTPUT_UNITS = "g C m-2 yr-1"
MONTHLY_UNITS = "g C m-2 month-1"
REFERENCE = "Fan et al. 2024, Land 13:297, doi:10.3390/land13030297 (CASA: Potter et al. 1993)"
#: Nodata of every output grid.
NODATA = -9999.0
#: Tile edge of the outputs [pixels].
BLOCK = 512
#: Creation options of the final COGs.
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "LEVEL": "1", "BLOCKSIZE": str(BLOCK),
               "OVERVIEW_RESAMPLING": "AVERAGE", "BIGTIFF": "IF_SAFER"}


def overview_factors(width: int, height: int, chunks: tuple[int, int] | None = None,
                     block: int = BLOCK) -> list[int]:
    """Decimation factors of a COG's overviews as GDAL's COG driver picks them (2, 4, ...
    while the previous level is larger than one ``block``-pixel tile); [] when ``chunks``
    is given and some factor does not divide both chunk sides (then GDAL computes them)."""
    factors, f = [], 2
    while -(-max(width, height) // (f // 2)) > block:
        factors.append(f)
        f *= 2
    if chunks is not None and any(c % f for f in factors for c in chunks):
        return []
    return factors


@numba.njit(nogil=True, cache=True)
def _halve(sums, counts=None):
    """2 x 2 block sums (float64) and counts (int64) of (bands, y, x) arrays; edge blocks
    partial. Without ``counts``, ``sums`` are the full-resolution values: NaN cells are
    left out and every other cell counts 1 (no full-size sum and count arrays are made;
    numba compiles the two cases apart)."""
    nb, h, w = sums.shape
    oh, ow = (h + 1) // 2, (w + 1) // 2
    s2 = np.zeros((nb, oh, ow), np.float64)
    c2 = np.zeros((nb, oh, ow), np.int64)
    for b in range(nb):
        for r in range(h):
            for c in range(w):
                v = sums[b, r, c]
                if counts is None:
                    if not np.isnan(v):
                        s2[b, r // 2, c // 2] += v
                        c2[b, r // 2, c // 2] += 1
                else:
                    s2[b, r // 2, c // 2] += v
                    c2[b, r // 2, c // 2] += counts[b, r, c]
    return s2, c2


def block_means(values: np.ndarray, factors: list[int]) -> list[np.ndarray]:
    """Mean of the valid (not NaN) cells of every f x f block of ``values`` (..., y, x),
    for each factor in ``factors`` (increasing powers of 2); NaN where a block has none.

    Edge blocks may be partial (the shape need not be a multiple of f), as in GDAL's
    overviews, whose size is ceil(size / f). Sums (float64) and counts are carried from
    one level to the next, so each level is the exact mean over the full-resolution cells.
    """
    if not factors:
        return []
    lead = values.shape[:-2]
    cube = np.ascontiguousarray(values).reshape((-1,) + values.shape[-2:])
    if any(f & (f - 1) or f < 2 for f in factors) or sorted(set(factors)) != list(factors):
        raise ValueError(f"overview factors must be increasing powers of 2, got {factors}")
    sums, counts = _halve(cube)
    out, done = [], 2
    for f in factors:
        while done < f:
            sums, counts = _halve(sums, counts)
            done *= 2
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).astype(np.float32)
        out.append(mean.reshape(lead + mean.shape[-2:]))
    return out


def overview_path(path: str | Path, factor: int) -> Path:
    """The temporary GeoTIFF of overview level ``factor`` of the tiled file ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.ov{factor}{path.suffix}")


def create_tiled(path: Path, grid: StudyGrid, count: int, factors: list[int] = ()) -> Path:
    """An empty tiled, band-interleaved float32 GeoTIFF on ``grid`` (nodata -9999), and
    one for each overview factor in ``factors`` (:func:`overview_path`).

    Tiles are 512 pixels (smaller for small grids: a chunk write rewrites whole tiles).
    """
    for f in [1, *factors]:
        width, height = -(-grid.width // f), -(-grid.height // f)
        block = min(BLOCK, 16 * -(-max(width, height) // 16))
        profile = dict(driver="GTiff", width=width, height=height, count=count,
                       dtype="float32", crs=grid.crs, transform=grid.transform * Affine.scale(f),
                       nodata=NODATA, tiled=True, blockxsize=block, blockysize=block,
                       interleave="band", BIGTIFF="IF_SAFER", SPARSE_OK="TRUE")
        with rasterio.open(path if f == 1 else overview_path(path, f), "w", **profile):
            pass
    return path


class GridTarget:
    """A :func:`dask.array.store` target for a (quantity, y, x) array.

    ``layout[i]`` is the (file, band) of quantity ``i``. Each write opens the files,
    writes the window and closes them under ``lock`` (a ``threading.Lock`` for the
    threaded scheduler, a ``distributed.Lock`` on a cluster), so the target is picklable.
    """

    def __init__(self, layout: list[tuple[str, int]], lock=None, factors: list[int] = ()):
        self.layout = layout
        self.lock = lock
        self.factors = list(factors)

    def __setitem__(self, key, value):
        qs, rows, cols = key
        levels = [(1, value)] + list(zip(self.factors, block_means(value, self.factors)))
        writes = []
        for f, data in levels:
            if f > 1 and (rows.start % f or cols.start % f):
                raise ValueError(f"chunk at ({rows.start}, {cols.start}) is not aligned to "
                                 f"overview factor {f}")
            data = np.where(np.isnan(data), np.float32(NODATA), data).astype(np.float32)
            window = rasterio.windows.Window(cols.start // f, rows.start // f,
                                             data.shape[-1], data.shape[-2])
            writes.append((f, data, window))
        targets: dict[str, list[tuple[int, int]]] = {}
        for i, q in enumerate(range(*qs.indices(len(self.layout)))):
            path, band = self.layout[q]
            targets.setdefault(path, []).append((band, i))
        if self.lock is not None:
            self.lock.acquire()
        try:
            for path, pairs in targets.items():
                for f, data, window in writes:
                    with rasterio.open(path if f == 1 else overview_path(path, f), "r+") as dst:
                        dst.write(data[[i for _, i in pairs]], [b for b, _ in pairs],
                                  window=window)
        finally:
            if self.lock is not None:
                self.lock.release()


def _vrt(src: Path, factors: list[int], tags: dict[str, str], band_tags: list[dict] | None,
         descriptions: list[str] | None) -> str:
    """A VRT of ``src`` carrying the tags and descriptions, with the overview files of
    ``factors`` as its overviews (GDAL's COG driver then copies them as they are)."""
    def metadata(items: dict) -> str:
        return ("<Metadata>" + "".join(f"<MDI key={quoteattr(str(k))}>{escape(str(v))}</MDI>"
                                       for k, v in items.items()) + "</Metadata>")

    with rasterio.open(src) as ds:
        count, width, height = ds.count, ds.width, ds.height
        crs, transform = ds.crs, ds.transform
    bands = []
    for b in range(1, count + 1):
        parts = [f'<VRTRasterBand dataType="Float32" band="{b}">',
                 f"<NoDataValue>{NODATA:g}</NoDataValue>"]
        if descriptions:
            parts.append(f"<Description>{escape(descriptions[b - 1])}</Description>")
        if tags.get("units"):  # the band's unit, which QGIS shows (dataset tags it does not)
            parts.append(f"<UnitType>{escape(str(tags['units']))}</UnitType>")
        if band_tags:
            parts.append(metadata(band_tags[b - 1]))
        parts.append(f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(str(src))}'
                     f"</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>")
        parts += [f'<Overview><SourceFilename relativeToVRT="0">'
                  f"{escape(str(overview_path(src, f)))}</SourceFilename>"
                  f"<SourceBand>{b}</SourceBand></Overview>" for f in factors]
        parts.append("</VRTRasterBand>")
        bands.append("".join(parts))
    srs = f"<SRS>{escape(crs.to_wkt())}</SRS>" if crs else ""
    return (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">{srs}'
            f"<GeoTransform>{', '.join(repr(float(x)) for x in transform.to_gdal())}"
            f"</GeoTransform>{metadata(tags)}{''.join(bands)}</VRTDataset>")


def to_cog(src: Path, dst: Path, *, tags: dict[str, str], band_tags: list[dict] | None = None,
           descriptions: list[str] | None = None, threads: int | None = None,
           factors: list[int] = ()) -> Path:
    """Copy the tiled GeoTIFF ``src`` into the COG ``dst`` with ``tags``; remove ``src``.

    ``factors``: overview levels already written next to ``src`` (:func:`overview_path`),
    used as they are; without them GDAL computes average overviews.
    ``threads``: GDAL compression threads (default: all cores).
    """
    src, dst = Path(src), Path(dst)
    vrt = src.with_suffix(".vrt")
    vrt.write_text(_vrt(src, list(factors), tags, band_tags, descriptions), encoding="utf-8")
    try:
        rasterio.shutil.copy(vrt, dst, driver="COG", **COG_OPTIONS,
                             NUM_THREADS=str(threads) if threads else "ALL_CPUS")
    finally:
        for path in [vrt, src, *(overview_path(src, f) for f in factors)]:
            path.unlink(missing_ok=True)
    return dst


# ---------------------------------------------------------------------------- a year's grids

def grid_layout(folder: Path, monthly: bool) -> tuple[list[tuple[str, int]], dict[str, tuple[Path, int]]]:
    """The bands the kernel's quantities go to, in order: [(temporary file, band)]; and
    {final file name: (temporary file, band count)}."""
    layout, files = [], {}
    for q in ANNUAL:
        files[f"{q}.tif"] = (folder / f".{q}.tmp.tif", 1)
        layout.append((str(folder / f".{q}.tmp.tif"), 1))
    if monthly:
        for q in ANNUAL:
            files[f"{q}_monthly.tif"] = (folder / f".{q}_monthly.tmp.tif", 12)
            layout += [(str(folder / f".{q}_monthly.tmp.tif"), m) for m in range(1, 13)]
    return layout, files


def grid_tags(quantity: str, *, year: int, study_name: str, casa, generated_note: str | None) -> dict:
    """GeoTIFF metadata of one output grid. ``casa``: the study's [casa] section;
    ``generated_note``: set when the inputs are generated (labelled so in every grid)."""
    tags = {"quantity": quantity, "year": str(year), "study": study_name,
            "units": MONTHLY_UNITS if "monthly" in quantity else OUTPUT_UNITS,
            "nodata": f"{NODATA:g}", "method": REFERENCE, "ndvi_bounds": casa.ndvi_bounds,
            "ndvi_percentiles": f"{casa.lower_percentile:g},{casa.upper_percentile:g}",
            "rn_coefficient": f"{casa.rn_coefficient:g}",
            "rh_coefficient": f"{casa.rh_coefficient:g}",
            "eps_max": "casa table (Zhu et al. 2006)", "software": f"carbon-balance {__version__}"}
    if generated_note is not None:
        tags["generated_inputs"] = "true: " + (generated_note or "generated inputs")
    return tags


def write_cogs(files: dict[str, tuple[Path, int]], folder: Path, factors: list[int],
               tags_of) -> dict[str, Path]:
    """Copy each temporary tiled file of :func:`grid_layout` to its COG in ``folder``;
    ``tags_of(quantity)`` gives its metadata. Returns {quantity: path}.

    One thread per file (GDAL releases the GIL; building overviews is serial per file),
    and the cores left over shared out as GDAL's compression threads: giving each file
    all the cores as well costs ~50 % more CPU for no gain in time (measured, 2 cores).
    """
    threads = max(1, (os.cpu_count() or 1) // len(files))

    def cog(item):
        name, (tmp, count) = item
        quantity = name.removesuffix(".tif")
        descriptions = ([f"{quantity.split('_')[0]} month {m:02d}" for m in range(1, 13)]
                        if count == 12 else [quantity])
        return quantity, to_cog(tmp, folder / name, descriptions=descriptions,
                                threads=threads, factors=factors, tags=tags_of(quantity))

    with ThreadPoolExecutor(len(files)) as pool:
        return dict(pool.map(cog, files.items()))
