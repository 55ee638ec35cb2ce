"""The NDVI bounds of each vegetation type: one histogram reduction over the grid.

One dask task per chunk reads the chunk's NDVI and vegetation and counts NDVI per CASA
type in 1e-4 bins (:mod:`carbon_balance.grid.percentiles`); the counts are merged by a
tree reduction, and the exact percentiles are read off the merged histograms (a second,
narrow pass only when NDVI is not quantised at 1e-4). NDVI stored as small integers is
counted as such, and can be kept in a disk scratch for the NPP pass (:func:`ndvi_scratch`).

What the histograms pool (METHOD.md section 1): only cells at least partly inside a unit
(:class:`UnitFootprint`; the value checks still see every cell), and by default every
study year together (each year's scan is merged into one running scan as it arrives,
:class:`ScanPool`, and the percentiles are read off the merge), so that greening between
years shows in NPP instead of being ranked away by per-year bounds; a 20-year study holds
the histograms of one scan, not twenty.
"""

from __future__ import annotations

import logging
import shutil
import threading
from functools import partial
from pathlib import Path

import dask
import numpy as np

from ..errors import Problem
from . import percentiles as pct
from .raster_checks import unknown_codes_problem, value_problems
from .readers import read_integers, read_raw, read_window, values_from_integers
from .runner import tree

log = logging.getLogger(__name__)

#: Columns of tables/ndvi_bounds.csv.
BOUNDS_COLUMNS = ["year", "code", "name", "ndvi_min", "ndvi_max", "n_pixels", "mode", "n_values",
                  "pool", "pool_years", "pool_area"]
#: NDVI of bare soil [-], the NDVI_min of every class in the ``zhu`` mode (Zhu et al. 2006,
#: Acta Phytoecologica Sinica 30(4):572-580; the same 0.023 as the table mode's).
ZHU_NDVI_MIN = 0.023
#: A class whose NDVI_min is above this [-] gets a warning: its winter canopy (evergreen
#: forest in winter is still green) is then given FPAR close to FPAR_min.
HIGH_NDVI_MIN = 0.3
#: Keep the NDVI scratch only while it takes less than this share of the free disk space.
SCRATCH_DISK_SHARE = 0.5


def _codes(veg_spec, rows, cols) -> tuple[np.ndarray, np.ndarray | None]:
    """The chunk's CASA codes, and its raw class codes when some are missing from the
    class table (only then are they needed: for the message naming them)."""
    codes = read_window(veg_spec, rows, cols)
    return codes, (read_raw(veg_spec, rows, cols) if (codes == -1).any() else None)


#: Serialises :meth:`UnitFootprint.mask` (its warnings filter is process-wide).
_MASK_LOCK = threading.Lock()


class UnitFootprint:
    """The cells of the study grid that lie at least partly inside a unit.

    ``units``: polygons (any CRS); ``grid``: the :class:`~.study_grid.StudyGrid`.
    :meth:`mask` rasterises them on one chunk window with GDAL's all-touched rule (every
    cell the polygon's interior or boundary reaches), so a cell with any covered area is
    in; picklable, for dask.distributed workers.
    """

    def __init__(self, units, grid):
        self.geometries = list(units.to_crs(grid.crs).geometry)
        self.transform = grid.transform

    def mask(self, rows: slice, cols: slice) -> np.ndarray:
        from rasterio.features import rasterize
        from rasterio.windows import Window
        from rasterio.windows import transform as window_transform

        shape = (rows.stop - rows.start, cols.stop - cols.start)
        wt = window_transform(Window(cols.start, rows.start, shape[1], shape[0]), self.transform)
        import warnings

        from rasterio.errors import NotGeoreferencedWarning

        # rasterio's in-memory target warns "no geotransform" when rasterize runs in a
        # worker thread, before the window transform given here is set on it; the mask
        # uses that transform (tests/grid/test_pooled_bounds.py checks cell edges). The
        # lock: catch_warnings swaps the process's filter list, so two chunks' masks at once
        # restored each other's and the warning reached `--quiet` (seen in CI).
        with _MASK_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterize(((g, 1) for g in self.geometries), out_shape=shape,
                             transform=wt, fill=0, dtype="uint8", all_touched=True).astype(bool)


def _split(codes: np.ndarray, footprint, rows, cols):
    """(codes pooled for the bounds, codes only checked, number of cells inside): the
    chunk's cells inside the ``footprint`` and those outside (NaN elsewhere); (codes,
    None, all cells) without a footprint."""
    if footprint is None:
        return codes, None, codes.size
    inside = footprint.mask(rows, cols)
    if inside.all():
        return codes, None, codes.size
    outside = np.where(inside, np.nan, codes).astype(np.float32)
    return np.where(inside, codes, np.nan).astype(np.float32), outside, int(inside.sum())


def _checks_only(pooled: pct.Scan, other: pct.Scan) -> pct.Scan:
    """``pooled`` with the value-check fields widened by ``other`` (whose histograms are
    dropped: cells outside every unit are checked, not pooled)."""
    pooled.ndvi_min = min(pooled.ndvi_min, other.ndvi_min)
    pooled.ndvi_max = max(pooled.ndvi_max, other.ndvi_max)
    pooled.unknown_cells += other.unknown_cells
    pooled.unknown_codes = pooled.unknown_codes | other.unknown_codes
    return pooled


def _scan_task(ndvi_spec, veg_spec, rows, cols, scratch=None, footprint=None):
    """Histogram one chunk (only its cells inside the ``footprint``, when given). NDVI
    stored as small integers is counted as such and, with a ``scratch``, kept for the NPP
    pass, which then need not decode it again."""
    codes, raw = _codes(veg_spec, rows, cols)
    pooled, other, n_inside = _split(codes, footprint, rows, cols)
    if not ndvi_spec.small_integers:
        ndvi = read_window(ndvi_spec, rows, cols)
        scan = partial(pct.scan_block, ndvi)
    else:
        integers = read_integers(ndvi_spec, rows, cols)
        if scratch is not None:
            scratch.put(rows, cols, integers)
        scan = partial(pct.scan_integer_block, integers,
                       value_of=partial(values_from_integers, ndvi_spec))
    out = scan(pooled, raw_codes=raw)
    out.inside_cells = n_inside   # for the valid-share check (valid_share.py)
    return out if other is None else _checks_only(out, scan(other, raw_codes=raw))


def _gather_task(ndvi_spec, veg_spec, rows, cols, bins, footprint=None):
    codes, _ = _codes(veg_spec, rows, cols)
    pooled, _, _ = _split(codes, footprint, rows, cols)
    return pct.gather_block(read_window(ndvi_spec, rows, cols), pooled, bins)


def _merge_gathered(*parts):
    return pct.merge_gathered(list(parts))


def ndvi_scan(specs: dict, wins, *, run, scratch=None, footprint=None) -> pct.Scan:
    """The histogram reduction over NDVI and vegetation: ``specs`` of the year
    (:func:`~carbon_balance.grid.readers.year_specs`), ``wins`` the chunk windows, ``run``
    a :class:`~carbon_balance.grid.runner.Runner`. With a ``footprint``
    (:class:`UnitFootprint`) the histograms and cell counts hold only the cells inside it;
    the NDVI range and unknown class codes are still those of the whole grid."""
    task = dask.delayed(_scan_task, pure=False)
    return run("NDVI histograms", tree(pct.merge_scans, [
        task(specs["ndvi"], specs["vegetation"], r, c, scratch, footprint) for r, c in wins]))


def merge_scans(scans) -> pct.Scan:
    """One scan of several (the years of a study): histograms and checks added up."""
    return pct.merge_scans(*scans)


def scan_problems(specs: dict, scan: pct.Scan, classes: str) -> list[Problem]:
    """The value checks of the whole grid's NDVI range and class codes."""
    problems = value_problems("ndvi", scan.ndvi_min, scan.ndvi_max, units=None,
                              file=specs["ndvi"].files[0], scale=specs["ndvi"].scale)
    if scan.unknown_cells:
        problems.append(unknown_codes_problem(sorted(scan.unknown_codes),
                                              specs["vegetation"].files[0], classes))
    return problems


def resolve_bounds(scan: pct.Scan, *, mode: str, lower: float, upper: float, specs=None,
                   wins=None, run=None, sources=None) -> tuple[dict, dict]:
    """({casa code: (ndvi_min, ndvi_max)}, {casa code: n values}) of the vegetated types
    for bound ``mode``: "percentile" (the ``lower``/``upper`` percentiles [%] of the
    scanned NDVI per type), "zhu" (:data:`ZHU_NDVI_MIN` and the ``upper`` percentile) or
    "table" (the CASA table's).

    The exact second pass over bins NDVI is not quantised in reads ``sources``, a list of
    (year specs, footprint or None) that ``scan`` was made of (default ``[(specs,
    None)]``), over the chunk windows ``wins``, computed by ``run``.
    """
    from ..casa import table_bounds
    from ..casa.tables import vegetation_types

    if mode == "table":
        bounds = table_bounds("casa")
        return bounds, {k: int(scan.counts[k].sum()) for k in bounds}
    if mode not in ("percentile", "zhu"):
        raise ValueError(f"unknown NDVI bound mode {mode!r}")
    vegetated = vegetation_types().set_index("code")["vegetated"]
    todo = pct.unresolved(scan, lower, upper)
    gathered = {}
    if todo:
        log.info("NDVI is not quantised at 1e-4 in %d needed histogram bin(s): exact second "
                 "pass over those bins", len(todo))
        sources = sources if sources is not None else [(specs, None)]
        task = dask.delayed(_gather_task, pure=True)
        gathered = run("NDVI percentiles (refine)", tree(_merge_gathered, [
            task(sp["ndvi"], sp["vegetation"], r, c, todo, fp)
            for sp, fp in sources for r, c in wins]))
    values = pct.class_percentiles(scan, lower, upper, gathered)
    bounds = {k: (ZHU_NDVI_MIN if mode == "zhu" else lo, hi)
              for k, (lo, hi, _) in values.items() if bool(vegetated.get(k, False))}
    return bounds, {k: v[2] for k, v in values.items()}


def unit_footprint(study, grid, units=None) -> "UnitFootprint | None":
    """The :class:`UnitFootprint` the NDVI bounds pool over: ``units`` (default the
    study's [units]), or None (the whole grid, logged) when the study has none."""
    if units is None and study.units is not None:
        from ..accounting.boundaries import load_units

        u = study.units
        units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group,
                           layer=u.layer)
    if units is None:
        log.info("NDVI bounds pool the whole grid: the study has no [units] (with units they "
                 "pool only the cells at least partly inside a unit)")
        return None
    log.info("NDVI bounds pool the cells at least partly inside the %d unit(s)", len(units))
    return UnitFootprint(units, grid)


class ScanPool:
    """The NDVI scans of the study years, pooled as they arrive, so that the memory held
    is that of one scan whatever the number of years (a scan is N_TYPES x 20,001 bins x
    3 arrays of 8 bytes, about 6 MB).

    ``pool`` "study": one running merge of the years' histograms (:meth:`Scan.merge`, in
    year order: the same counts and the same bin extremes as merging them at the end),
    read off by :meth:`bounds`; "year": each year's bounds are resolved (for every one of
    ``modes``) when its scan arrives, and the pool keeps those bounds and the scan's cell
    counts, not its histograms. ``specs`` of every year stay (metadata only): the exact
    second pass over unquantised NDVI bins reads every pooled year again. The other
    arguments are those of :func:`resolve_bounds`; ``warn``: log
    :func:`warn_high_minimum` for each set of bounds.
    """

    def __init__(self, pool: str, *, modes, lower: float, upper: float, wins, run,
                 footprint=None, warn: bool = True):
        if pool not in ("study", "year"):
            raise ValueError(f"unknown NDVI bounds pool {pool!r}")
        self.pool, self.modes = pool, tuple(modes)
        self._resolve = partial(resolve_bounds, lower=lower, upper=upper, wins=wins, run=run)
        self.footprint, self.warn = footprint, warn
        self.years: list[int] = []
        self.merged: pct.Scan | None = None       # "study": the running merge
        self._sources: list = []                  # "study": (specs, footprint) per year
        self._resolved: dict = {}                 # "year": {mode: {year: result}}

    def add(self, year: int, scan: pct.Scan, specs: dict) -> None:
        """Pool the ``scan`` of ``year`` (years in ascending order) made from ``specs``."""
        if self.years and year <= self.years[-1]:
            raise ValueError(f"years must be added in ascending order: {year} after "
                             f"{self.years[-1]}")
        self.years.append(year)
        if self.pool == "study":
            self.merged = scan if self.merged is None else self.merged.merge(scan)
            self._sources.append((specs, self.footprint))
            return
        kept = without_histograms(scan)
        for mode in self.modes:
            bounds, n_values = self._resolve(scan, mode=mode,
                                             sources=[(specs, self.footprint)])
            if self.warn:
                warn_high_minimum(bounds)
            self._resolved.setdefault(mode, {})[year] = (bounds, n_values, kept, str(year))

    def bounds(self, mode: str | None = None) -> dict:
        """{year: (bounds, n values, the scan they came from, pooled years as text)} for
        ``mode`` (default: the first of ``modes``). With pool "year" the scan is the
        year's without its histograms (its cell counts and checks only)."""
        mode = self.modes[0] if mode is None else mode
        if mode not in self.modes:
            raise ValueError(f"NDVI bound mode {mode!r} was not asked of this pool")
        if self.pool == "year":
            return dict(self._resolved.get(mode, {}))
        if self.merged is None:
            return {}
        bounds, n_values = self._resolve(self.merged, mode=mode, sources=self._sources)
        if self.warn:
            warn_high_minimum(bounds)
        years = self.years
        span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
        return {y: (bounds, n_values, self.merged, span) for y in years}

    @property
    def histogram_bytes(self) -> int:
        """Bytes of histogram arrays the pool holds (one scan's at most)."""
        scans = [self.merged] if self.merged is not None else []
        scans += [r[2] for per_year in self._resolved.values() for r in per_year.values()]
        unique = {id(sc): sc for sc in scans}.values()
        return sum(sc.counts.nbytes + sc.mins.nbytes + sc.maxs.nbytes for sc in unique)


def without_histograms(scan: pct.Scan) -> pct.Scan:
    """``scan`` with empty histograms (no bins): its cell counts and value checks only."""
    import dataclasses

    n = scan.counts.shape[0]
    return dataclasses.replace(scan, counts=np.zeros((n, 0), scan.counts.dtype),
                               mins=np.zeros((n, 0), scan.mins.dtype),
                               maxs=np.zeros((n, 0), scan.maxs.dtype))


def pooled_bounds(scans: dict, specs: dict, *, pool: str, mode: str, lower: float,
                  upper: float, wins, run, footprint=None, warn: bool = True) -> dict:
    """The bounds of every year from the years' ``scans`` ({year: Scan}, made over
    ``footprint``) and ``specs`` ({year: year specs}): ``pool`` "study" merges the scans
    of every year into one set of bounds, "year" takes each alone (a :class:`ScanPool`
    fed with every scan at once; the grid passes feed theirs year by year).

    Returns {year: (bounds, n values, the scan they came from, pooled years as text)};
    ``warn``: log :func:`warn_high_minimum` for each set of bounds.
    """
    scan_pool = ScanPool(pool, modes=(mode,), lower=lower, upper=upper, wins=wins, run=run,
                         footprint=footprint, warn=warn)
    for year in sorted(scans):
        scan_pool.add(year, scans[year], specs[year])
    return scan_pool.bounds()


def study_bounds(study, grid, wins, lut, *, run, modes, units=None) -> dict[int, list[dict]]:
    """{year: [kernel bounds of each of ``modes``]} as ``nep`` and ``run`` compute them (the
    study's ``[casa] ndvi_bounds_pool``, the cells of ``units``, default the study's):
    for passes that need the bounds without writing the grids (the Monte Carlo)."""
    from .readers import year_specs

    c = study.casa
    footprint = unit_footprint(study, grid, units)
    scan_pool = ScanPool(c.ndvi_bounds_pool, modes=list(dict.fromkeys(modes)), lower=c.lower_percentile,
                         upper=c.upper_percentile, wins=wins, run=run, footprint=footprint,
                         warn=False)
    for y in study.study.years:      # one year's histograms in memory at a time
        specs = year_specs(study, y, grid, lut)
        scan_pool.add(y, ndvi_scan(specs, wins, run=run, footprint=footprint), specs)
    per_mode = {m: scan_pool.bounds(m) for m in scan_pool.modes}
    return {y: [kernel_bounds(per_mode[m][y][0]) for m in modes]
            for y in study.study.years}


def warn_high_minimum(bounds: dict, *, threshold: float = HIGH_NDVI_MIN) -> list[int]:
    """One warning naming every class whose NDVI_min is above ``threshold`` [-] (its
    least green months, e.g. an evergreen canopy's winter, then get FPAR close to
    FPAR_min); returns their codes."""
    from ..casa.tables import vegetation_types

    names = vegetation_types().set_index("code")["name"]
    high = [k for k, (lo, _) in sorted(bounds.items()) if lo > threshold]
    if high:
        listed = "; ".join(f"{k} {names[k]} {bounds[k][0]:.4g}" for k in high)
        log.warning("NDVI_min above %.2g for casa type(s) %s: their pixels in their least "
                    "green months get FPAR close to FPAR_min (0.001) although the canopy is "
                    "there (an evergreen forest in winter); consider ndvi_bounds = \"zhu\" "
                    "(NDVI_min %.3g for every class, docs/method.md)", threshold, listed,
                    ZHU_NDVI_MIN)
    return high


def kernel_bounds(bounds: dict, scan: pct.Scan | None = None) -> dict:
    """Bounds for the kernel: every vegetated type the bounds lack takes the table's. Such
    a type has no valid NDVI inside the units (its pixels there are NaN whatever the
    bounds), or lies only outside every unit, where its NEP counts for no unit. ``scan``
    is not needed (kept for the call sites)."""
    from ..casa import table_bounds

    return {**table_bounds("casa"), **bounds}


def bounds_rows(year: int, bounds: dict, n_values: dict, scan: pct.Scan, mode: str, *,
                pool: str = "year", pool_years: str | None = None,
                pool_area: str = "grid") -> list[dict]:
    """Rows of tables/ndvi_bounds.csv (:data:`BOUNDS_COLUMNS`) for one year, logged.

    ``pool``: "study" or "year"; ``pool_years``: the years pooled ("2005-2020"; default
    the year); ``pool_area``: "units" (cells at least partly inside a unit) or "grid".
    ``n_pixels`` and ``n_values`` count the pooled cells and NDVI values."""
    from ..casa.tables import vegetation_types

    names = vegetation_types().set_index("code")["name"]
    rows = []
    for code, (lo, hi) in sorted(bounds.items()):
        rows.append({"year": year, "code": code, "name": names[code], "ndvi_min": lo,
                     "ndvi_max": hi, "n_pixels": int(scan.cells[code]), "mode": mode,
                     "n_values": n_values.get(code, 0), "pool": pool,
                     "pool_years": pool_years or str(year), "pool_area": pool_area})
        log.info("%d NDVI bounds of casa type %d (%s): %.6g .. %.6g", year, code,
                 names[code], lo, hi)
    return rows


class DiskScratch:
    """Chunks of stored NDVI integers kept between the two passes, as one uncompressed
    .npy file per chunk in ``folder`` (picklable, so it also serves dask.distributed
    workers sharing the output folder). Each chunk is deleted as it is taken back."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _file(self, rows: slice, cols: slice) -> Path:
        return self.folder / f"ndvi-{rows.start}-{cols.start}.npy"

    def put(self, rows: slice, cols: slice, integers: np.ndarray) -> None:
        np.save(self._file(rows, cols), integers)

    def take(self, rows: slice, cols: slice) -> np.ndarray:
        path = self._file(rows, cols)
        integers = np.load(path)
        path.unlink()
        return integers

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def ndvi_scratch(spec, folder: Path) -> DiskScratch | None:
    """Where the stored NDVI integers wait between the two passes: a :class:`DiskScratch`
    under ``folder``, or None when NDVI is not stored as small integers on the study grid
    or the disk is short (the NPP pass then decodes NDVI a second time: same numbers,
    slower).

    Decoding the compressed NDVI is most of the histogram pass's cost; the scratch copy
    (2 bytes x 12 months per cell, uncompressed, usually still in the page cache when the
    NPP pass reads it) saves doing it twice, without holding it in memory.
    """
    if not spec.small_integers:
        return None
    need = 12 * spec.grid.height * spec.grid.width * np.dtype(spec.raw_dtype).itemsize
    free = shutil.disk_usage(folder).free
    if need > SCRATCH_DISK_SHARE * free:
        log.info("NDVI scratch of %.2f GiB skipped (%.2f GiB free): NDVI is decoded twice",
                 need / 2**30, free / 2**30)
        return None
    return DiskScratch(folder / f".ndvi-scratch-{spec.year}")
