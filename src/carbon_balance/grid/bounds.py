"""The NDVI bounds of each vegetation type: one histogram reduction over the grid.

One dask task per chunk reads the chunk's NDVI and vegetation and counts NDVI per CASA
type in 1e-4 bins (:mod:`carbon_balance.grid.percentiles`); the counts are merged by a
tree reduction, and the exact percentiles are read off the merged histograms (a second,
narrow pass only when NDVI is not quantised at 1e-4). NDVI stored as small integers is
counted as such, and can be kept in a disk scratch for the NPP pass (:func:`ndvi_scratch`).
"""

from __future__ import annotations

import logging
import shutil
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
BOUNDS_COLUMNS = ["year", "code", "name", "ndvi_min", "ndvi_max", "n_pixels", "mode", "n_values"]
#: Keep the NDVI scratch only while it takes less than this share of the free disk space.
SCRATCH_DISK_SHARE = 0.5


def _codes(veg_spec, rows, cols) -> tuple[np.ndarray, np.ndarray | None]:
    """The chunk's CASA codes, and its raw class codes when some are missing from the
    class table (only then are they needed: for the message naming them)."""
    codes = read_window(veg_spec, rows, cols)
    return codes, (read_raw(veg_spec, rows, cols) if (codes == -1).any() else None)


def _scan_task(ndvi_spec, veg_spec, rows, cols, scratch=None):
    """Histogram one chunk. NDVI stored as small integers is counted as such and, with a
    ``scratch``, kept for the NPP pass, which then need not decode it again."""
    codes, raw = _codes(veg_spec, rows, cols)
    if not ndvi_spec.small_integers:
        return pct.scan_block(read_window(ndvi_spec, rows, cols), codes, raw)
    integers = read_integers(ndvi_spec, rows, cols)
    if scratch is not None:
        scratch.put(rows, cols, integers)
    return pct.scan_integer_block(integers, codes, partial(values_from_integers, ndvi_spec), raw)


def _gather_task(ndvi_spec, veg_spec, rows, cols, bins):
    codes, _ = _codes(veg_spec, rows, cols)
    return pct.gather_block(read_window(ndvi_spec, rows, cols), codes, bins)


def _merge_gathered(*parts):
    return pct.merge_gathered(list(parts))


def ndvi_scan(specs: dict, wins, *, run, scratch=None) -> pct.Scan:
    """The histogram reduction over NDVI and vegetation: ``specs`` of the year
    (:func:`~carbon_balance.grid.readers.year_specs`), ``wins`` the chunk windows, ``run``
    a :class:`~carbon_balance.grid.runner.Runner`."""
    task = dask.delayed(_scan_task, pure=False)
    return run("NDVI histograms", tree(pct.merge_scans, [
        task(specs["ndvi"], specs["vegetation"], r, c, scratch) for r, c in wins]))


def scan_problems(specs: dict, scan: pct.Scan, classes: str) -> list[Problem]:
    """The value checks of the whole grid's NDVI range and class codes."""
    problems = value_problems("ndvi", scan.ndvi_min, scan.ndvi_max, units=None,
                              file=specs["ndvi"].files[0], scale=specs["ndvi"].scale)
    if scan.unknown_cells:
        problems.append(unknown_codes_problem(sorted(scan.unknown_codes),
                                              specs["vegetation"].files[0], classes))
    return problems


def resolve_bounds(scan: pct.Scan, *, mode: str, lower: float, upper: float, specs=None,
                   wins=None, run=None) -> tuple[dict, dict]:
    """({casa code: (ndvi_min, ndvi_max)}, {casa code: n values}) of the vegetated types
    for bound ``mode`` ("percentile": the ``lower``/``upper`` percentiles [%] of the
    grid's NDVI per type; "table": the CASA table's). ``specs``, ``wins`` and ``run`` are
    needed only for the exact second pass over bins NDVI is not quantised in."""
    from ..casa import table_bounds
    from ..casa.tables import vegetation_types

    if mode == "table":
        bounds = table_bounds("casa")
        return bounds, {k: int(scan.counts[k].sum()) for k in bounds}
    vegetated = vegetation_types().set_index("code")["vegetated"]
    todo = pct.unresolved(scan, lower, upper)
    gathered = {}
    if todo:
        log.info("NDVI is not quantised at 1e-4 in %d needed histogram bin(s): exact second "
                 "pass over those bins", len(todo))
        task = dask.delayed(_gather_task, pure=True)
        gathered = run("NDVI percentiles (refine)", tree(_merge_gathered, [
            task(specs["ndvi"], specs["vegetation"], r, c, todo) for r, c in wins]))
    values = pct.class_percentiles(scan, lower, upper, gathered)
    bounds = {k: (lo, hi) for k, (lo, hi, _) in values.items() if bool(vegetated.get(k, False))}
    return bounds, {k: v[2] for k, v in values.items()}


def kernel_bounds(bounds: dict, scan: pct.Scan) -> dict:
    """Bounds for the kernel: a vegetated type present on the grid but without any valid
    NDVI has no percentile; its pixels are NaN whatever the bounds, so the table's do."""
    from ..casa import table_bounds

    table = table_bounds("casa")
    out = dict(bounds)
    for k in np.flatnonzero(scan.cells):
        if int(k) in table and int(k) not in out:
            out[int(k)] = table[int(k)]
    return out


def bounds_rows(year: int, bounds: dict, n_values: dict, scan: pct.Scan, mode: str) -> list[dict]:
    """Rows of tables/ndvi_bounds.csv (:data:`BOUNDS_COLUMNS`) for one year, logged."""
    from ..casa.tables import vegetation_types

    names = vegetation_types().set_index("code")["name"]
    rows = []
    for code, (lo, hi) in sorted(bounds.items()):
        rows.append({"year": year, "code": code, "name": names[code], "ndvi_min": lo,
                     "ndvi_max": hi, "n_pixels": int(scan.cells[code]), "mode": mode,
                     "n_values": n_values.get(code, 0)})
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
