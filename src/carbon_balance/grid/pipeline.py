"""Grid-scale NPP, Rh and NEP for a whole study: ``carbon-balance nep``.

For each study year (see docs/grid.md):

1. every input is described and aligned lazily onto the study grid
   (:func:`year_dataset`: dask arrays whose chunks read windows through
   :mod:`carbon_balance.grid.readers`);
2. one streaming pass over NDVI and vegetation builds exact per-class NDVI histograms
   (:mod:`carbon_balance.grid.percentiles`) and the run-time value checks;
3. the CASA kernel runs chunk by chunk (:func:`carbon_balance.grid.compute.carbon_arrays`):
   one dask task per chunk reads the chunk's windows of every input, computes, and
   stores the result straight into tiled GeoTIFFs, converted to COGs at the end
   (:mod:`carbon_balance.grid.cog`).

A chunk's inputs exist only inside its task, so memory is bounded by
(chunk size)^2 x 49 bands x 4 bytes x tasks running at once, whatever the grid size.
(:func:`year_dataset` + :func:`carbon_balance.grid.compute.carbon_dataset` give the same
numbers as a lazy xarray pipeline, for other engines.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import dask
import dask.threaded
import numpy as np
import pandas as pd
from dask.base import tokenize

from .. import __version__
from ..errors import Problem, ProblemsError
from ..hashing import BackgroundHashes, study_inputs
from ..outputs import atomic_output, check_can_write, write_manifest
from ..study import Study, load_study
from . import percentiles as pct
from .checks import (class_lookup, raster_problems_in_background, unknown_codes_problem,
                     value_problems)
from .cog import NODATA, GridTarget, create_tiled, overview_factors, to_cog
from .compute import ANNUAL
from .fused import decode_integers, value_range
from .readers import (INPUTS, WindowReader, input_spec, read_integers, read_raw, read_window,
                      values_from_integers)
from .template import StudyGrid, chunk_shape, study_grid, windows
from .units import MODEL_UNITS

if TYPE_CHECKING:
    import dask.array as da
    import xarray as xr

log = logging.getLogger(__name__)

BOUNDS_COLUMNS = ["year", "code", "name", "ndvi_min", "ndvi_max", "n_pixels", "mode", "n_values"]
OUTPUT_UNITS = "g C m-2 yr-1"
MONTHLY_UNITS = "g C m-2 month-1"
REFERENCE = "Fan et al. 2024, Land 13:297, doi:10.3390/land13030297 (CASA: Potter et al. 1993)"


# ---------------------------------------------------------------------------- inputs

def year_specs(study, year: int, grid: StudyGrid, lut, *, log_alignment: bool = False) -> dict:
    """{input name: InputSpec} for ``year`` (metadata only)."""
    return {name: input_spec(study, name, year, grid, log_alignment=log_alignment,
                             class_lookup=lut if name == "vegetation" else None)
            for name in INPUTS}


def _lazy(spec, chunks: tuple[int, int], raw: bool = False) -> da.Array:
    import dask.array as da

    shape_chunks = ((12,) if spec.monthly else ()) + chunks
    reader = WindowReader(spec, raw=raw)
    return da.from_array(reader, chunks=shape_chunks, lock=False, asarray=False,
                         name=f"read-{spec.name}{'-raw' if raw else ''}-{spec.year}-"
                              f"{tokenize(spec, chunks)}",
                         meta=np.empty((0,) * reader.ndim, np.float32))


def _coords(grid: StudyGrid) -> dict:
    t = grid.transform
    return {"month": np.arange(1, 13),
            "y": t.f + t.e * (np.arange(grid.height) + 0.5),
            "x": t.c + t.a * (np.arange(grid.width) + 0.5)}


def year_dataset(study, year: int, *, chunks=None, grid: StudyGrid | None = None,
                 specs: dict | None = None) -> xr.Dataset:
    """Aligned, unit-converted inputs of ``year`` as a dask-backed Dataset.

    Variables: ``ndvi`` [-], ``temperature`` [°C], ``precipitation`` [mm month-1],
    ``radiation`` [MJ m-2 month-1] with dims (month, y, x), and ``vegetation`` (y, x) as
    CASA codes 0..11 (NaN nodata). ``chunks``: an int or (rows, cols); default
    ``[grid] chunk_size``. The CRS and transform are set for rioxarray.
    """
    # Imported here: `carbon-balance nep` itself needs neither (~1 s of imports).
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    import xarray as xr

    grid = grid or study_grid(study)
    specs = specs or year_specs(study, year, grid, class_lookup(study))
    cy, cx = chunk_shape(study, chunks)
    variables = {}
    for name, spec in specs.items():
        dims = ("month", "y", "x") if spec.monthly else ("y", "x")
        variables[name] = xr.Variable(dims, _lazy(spec, (cy, cx)),
                                      attrs={"units": MODEL_UNITS[name]})
    ds = xr.Dataset(variables, coords=_coords(grid), attrs={"year": year})
    ds = ds.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    return ds


# ---------------------------------------------------------------------------- passes
# Each pass is one dask task per chunk that reads its own windows, so a chunk's inputs
# exist only inside that task: memory is bounded by the tasks running at once.

def _codes(veg_spec, rows, cols) -> tuple[np.ndarray, np.ndarray | None]:
    """The chunk's CASA codes, and its raw class codes when some are missing from the
    class table (only then are they needed: for the message naming them)."""
    codes = read_window(veg_spec, rows, cols)
    return codes, (read_raw(veg_spec, rows, cols) if (codes == -1).any() else None)


def _scan_task(ndvi_spec, veg_spec, rows, cols, scratch=None, ahead=None):
    """Histogram one chunk. NDVI stored as small integers is counted as such and, with a
    ``scratch`` (:func:`ndvi_scratch`), kept for the NPP pass, which then need not decode
    it again; it is taken from ``ahead`` (:class:`~.readahead.NdviReadAhead`) when that
    has read it already."""
    codes, raw = _codes(veg_spec, rows, cols)
    if not ndvi_spec.small_integers:
        return pct.scan_block(read_window(ndvi_spec, rows, cols), codes, raw)
    integers = ahead.take(ndvi_spec, rows, cols) if ahead is not None else None
    if integers is None:
        integers = read_integers(ndvi_spec, rows, cols)
    if scratch is not None:
        scratch.put(rows, cols, integers)
    return pct.scan_integer_block(integers, codes, partial(values_from_integers, ndvi_spec), raw)


def _gather_task(ndvi_spec, veg_spec, rows, cols, bins):
    codes, _ = _codes(veg_spec, rows, cols)
    return pct.gather_block(read_window(ndvi_spec, rows, cols), codes, bins)


def _tree(func, items, fan_in: int = 8):
    """Tree reduction of delayed ``items`` (bounded memory, parallel merges)."""
    items = list(items)
    while len(items) > 1:
        items = [dask.delayed(func, pure=True)(*items[i:i + fan_in])
                 for i in range(0, len(items), fan_in)]
    return items[0]


def _merge_gathered(*parts):
    return pct.merge_gathered(list(parts))


def ndvi_scan(specs: dict, wins, *, run, scratch=None, ahead=None) -> pct.Scan:
    """Histogram pass over NDVI and vegetation (see :mod:`.percentiles`); with ``scratch``,
    NDVI stored as small integers is also kept there, chunk by chunk (:func:`ndvi_scratch`);
    chunks already read by ``ahead`` (:class:`~.readahead.NdviReadAhead`) are taken from it."""
    task = dask.delayed(_scan_task, pure=False)
    return run("NDVI histograms", _tree(pct.merge_scans, [
        task(specs["ndvi"], specs["vegetation"], r, c, scratch, ahead) for r, c in wins]))


#: Keep the NDVI scratch only while it takes less than this share of the free disk space.
SCRATCH_DISK_SHARE = 0.5


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
    NPP pass reads it) saves doing it twice, without holding it in memory. (Holding it
    in memory instead measured no faster at 4096 x 4096: docs/grid.md, section 5.)
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


def _bounds(study, scan: pct.Scan, specs, wins, run) -> tuple[dict, dict]:
    """({casa code: (ndvi_min, ndvi_max)}, {casa code: n values}) for the study's mode."""
    from ..casa import table_bounds
    from ..casa.tables import vegetation_types

    vegetated = vegetation_types().set_index("code")["vegetated"]
    c = study.casa
    if c.ndvi_bounds == "table":
        bounds = table_bounds("casa")
        return bounds, {k: int(scan.counts[k].sum()) for k in bounds}
    todo = pct.unresolved(scan, c.lower_percentile, c.upper_percentile)
    gathered = {}
    if todo:
        log.info("NDVI is not quantised at 1e-4 in %d needed histogram bin(s): exact second "
                 "pass over those bins", len(todo))
        task = dask.delayed(_gather_task, pure=True)
        gathered = run("NDVI percentiles (refine)", _tree(_merge_gathered, [
            task(specs["ndvi"], specs["vegetation"], r, cc, todo) for r, cc in wins]))
    values = pct.class_percentiles(scan, c.lower_percentile, c.upper_percentile, gathered)
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


def _scan_problems(study, specs, scan: pct.Scan) -> list[Problem]:
    problems = []
    ndvi_file = specs["ndvi"].files[0]
    problems += value_problems("ndvi", scan.ndvi_min, scan.ndvi_max, units=None,
                               file=ndvi_file, scale=specs["ndvi"].scale)
    if scan.unknown_cells:
        problems.append(unknown_codes_problem(sorted(scan.unknown_codes),
                                              specs["vegetation"].files[0],
                                              study.inputs.vegetation.classes))
    return problems


CHECKED = ("temperature", "precipitation", "radiation")


def _carbon_task(specs, rows, cols, bounds, params, target, scratch=None):
    """Read one chunk of every input (NDVI from the ``scratch`` when there is one), run
    CASA on it, store it; return the exact value ranges of the climate inputs in the
    chunk (for the run-time checks)."""
    from .compute import carbon_arrays, single_threaded_kernel

    ndvi_integers = scratch.take(rows, cols) if scratch is not None else None
    data = {name: read_window(spec, rows, cols,
                              integers=ndvi_integers if name == "ndvi" else None)
            for name, spec in specs.items()}
    ranges = {name: value_range(data[name]) for name in CHECKED}
    with single_threaded_kernel():
        out = carbon_arrays(data["ndvi"], data["temperature"], data["precipitation"],
                            data["radiation"], data["vegetation"], bounds=bounds, **params)
    del data
    target[(slice(0, out.shape[0]), rows, cols)] = out
    return ranges


def _merge_ranges(*parts):
    return {name: (min(p[name][0] for p in parts), max(p[name][1] for p in parts))
            for name in CHECKED}


# ---------------------------------------------------------------------------- writing

def _layout(folder: Path, monthly: bool) -> tuple[list[tuple[str, int]], dict[str, tuple[Path, int]]]:
    """Quantity -> (temporary file, band); final file name -> (temporary file, bands)."""
    layout, files = [], {}
    for q in ANNUAL:
        files[f"{q}.tif"] = (folder / f".{q}.tmp.tif", 1)
        layout.append((str(folder / f".{q}.tmp.tif"), 1))
    if monthly:
        for q in ANNUAL:
            files[f"{q}_monthly.tif"] = (folder / f".{q}_monthly.tmp.tif", 12)
            layout += [(str(folder / f".{q}_monthly.tmp.tif"), m) for m in range(1, 13)]
    return layout, files


def _tags(study, year: int, quantity: str, bounds_mode: str, generated: bool) -> dict:
    c = study.casa
    tags = {"quantity": quantity, "year": str(year), "study": study.study.name,
            "units": MONTHLY_UNITS if "monthly" in quantity else OUTPUT_UNITS,
            "nodata": f"{NODATA:g}", "method": REFERENCE,
            "ndvi_bounds": bounds_mode,
            "ndvi_percentiles": f"{c.lower_percentile:g},{c.upper_percentile:g}",
            "rn_coefficient": f"{c.rn_coefficient:g}", "rh_coefficient": f"{c.rh_coefficient:g}",
            "eps_max": "casa table (Zhu et al. 2006)", "software": f"carbon-balance {__version__}"}
    if generated:
        tags["generated_inputs"] = "true: " + (study.study.generated_note or "generated inputs")
    return tags


def _write_year(study, year, grid, specs, bounds, folder: Path, *, monthly, wins, run,
                lock, scratch=None) -> dict[str, Path]:
    c = study.casa
    folder.mkdir(parents=True, exist_ok=True)
    layout, files = _layout(folder, monthly)
    chunk = (wins[0][0].stop - wins[0][0].start, wins[0][1].stop - wins[0][1].start)
    factors = overview_factors(grid.width, grid.height, chunk)
    for tmp, count in files.values():
        create_tiled(tmp, grid, count, factors)
    target = GridTarget(layout, lock, factors)
    params = dict(monthly=monthly, rn_coefficient=c.rn_coefficient,
                  rh_coefficient=c.rh_coefficient)
    task = dask.delayed(_carbon_task, pure=False)
    found = run("NPP, Rh, NEP", _tree(_merge_ranges, [
        task(specs, r, cc, bounds, params, target, scratch) for r, cc in wins]))
    problems = []
    for name, (lo, hi) in found.items():
        cfg = getattr(study.inputs, name)
        problems += value_problems(name, lo, hi, units=cfg.units, file=specs[name].files[0],
                                   scale=specs[name].scale)
    fatal = [p for p in problems if p.fatal]
    if fatal:
        raise ProblemsError(fatal)
    for p in problems:
        log.warning("%s", p)
    def cog(item, threads):
        name, (tmp, count) = item
        quantity = name.removesuffix(".tif")
        descriptions = ([f"{quantity.split('_')[0]} month {m:02d}" for m in range(1, 13)]
                        if count == 12 else [quantity])
        return quantity, to_cog(tmp, folder / name, descriptions=descriptions, threads=threads,
                                factors=factors,
                                tags=_tags(study, year, quantity, c.ndvi_bounds,
                                           study.study.generated_inputs))

    # One thread per file (GDAL releases the GIL; building overviews is serial per file),
    # and the cores left over shared out as GDAL's compression threads: giving each file
    # all the cores as well costs ~50 % more CPU for no gain in time (measured, 2 cores).
    threads = max(1, (os.cpu_count() or 1) // len(files))
    with ThreadPoolExecutor(len(files)) as pool:
        return dict(pool.map(partial(cog, threads=threads), files.items()))


# ---------------------------------------------------------------------------- progress

class _Runner:
    """Computes dask graphs on the chosen scheduler with a progress bar per stage."""

    def __init__(self, client=None, progress: bool = True):
        self.client = client
        self.progress = progress
        self.year = None

    def __call__(self, stage: str, graph):
        label = f"{self.year} · {stage}" if self.year is not None else stage
        log.info("%s", label)
        if self.client is not None:
            return self._distributed(label, graph)
        return self._threaded(label, graph)

    def _threaded(self, label, graph):
        from dask.callbacks import Callback
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
            TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), disable=not self.progress, transient=False) as bar:
            task = bar.add_task(label, total=None)

            class _Tick(Callback):
                def _start_state(self, dsk, state):
                    bar.update(task, total=sum(len(state[k]) for k in
                                               ("ready", "waiting", "finished", "running")))

                def _posttask(self, key, result, dsk, state, worker_id):
                    bar.advance(task)

            # The scheduler function itself, not the name "threads": resolving a name
            # makes dask import dask.distributed to look for a client (0.3 s of
            # GIL-bound import in the middle of the histogram pass).
            with _Tick():
                (result,) = dask.compute(graph, scheduler=dask.threaded.get,
                                         num_workers=os.cpu_count() or 1)
            bar.update(task, completed=bar.tasks[0].total or 0)
        return result

    def _distributed(self, label, graph):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      disable=not self.progress) as bar:
            bar.add_task(label, total=None)
            (result,) = dask.compute(graph, scheduler=self.client)
        return result


# ---------------------------------------------------------------------------- public

def _grids_of_year(study, year, grid, specs, folder, rows, names, *, monthly, wins, runner,
                   lock, scratch, ahead=None):
    """Histogram pass, bounds (appended to ``rows``), then the NPP pass of one year."""
    try:
        scan = ndvi_scan(specs, wins, run=runner, scratch=scratch, ahead=ahead)
    finally:
        if ahead is not None:
            ahead.close()   # what the pass did not take is not needed any more
    problems = _scan_problems(study, specs, scan)
    if any(p.fatal for p in problems):
        raise ProblemsError(problems)
    bounds, n_values = _bounds(study, scan, specs, wins, runner)
    for code, (lo, hi) in sorted(bounds.items()):
        rows.append({"year": year, "code": code, "name": names[code], "ndvi_min": lo,
                     "ndvi_max": hi, "n_pixels": int(scan.cells[code]),
                     "mode": study.casa.ndvi_bounds, "n_values": n_values.get(code, 0)})
        log.info("%d NDVI bounds of casa type %d (%s): %.6g .. %.6g", year, code,
                 names[code], lo, hi)
    return _write_year(study, year, grid, specs, kernel_bounds(bounds, scan),
                       folder / "grids" / str(year), monthly=monthly, wins=wins,
                       run=runner, lock=lock, scratch=scratch)


def write_grids(study, folder: Path, *, monthly: bool = False, client=None,
                progress: bool = True, chunks=None, ahead=None) -> dict[int, dict[str, Path]]:
    """Write ``folder/grids/{year}/{npp,rh,nep}.tif`` (and ``*_monthly.tif``) and
    ``folder/tables/ndvi_bounds.csv`` for every study year.

    ``client``: a ``distributed.Client`` to compute on (default: local threads).
    ``ahead``: the first year's NDVI already being read (:class:`~.readahead.NdviReadAhead`;
    local threads only).
    Raises :class:`ProblemsError` when an input value is refused (same rules as
    :func:`carbon_balance.grid.checks.raster_problems`, on the whole grid).
    Returns {year: {"npp": path, "rh": path, "nep": path[, "npp_monthly": ...]}}.
    """
    from ..casa.tables import vegetation_types

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    grid = study_grid(study)
    lut = class_lookup(study)
    chunk = chunk_shape(study, chunks)
    wins = windows(grid, chunk)
    log.info("study grid: %s; chunks of %d x %d", grid.describe(), *chunk)
    if client is not None:
        from distributed import Lock
        lock = Lock(f"carbon-balance-grids-{os.getpid()}-{id(folder)}")
    else:
        lock = threading.Lock()
    runner = _Runner(client, progress)
    names = vegetation_types().set_index("code")["name"]
    rows, out = [], {}
    if ahead is not None and (client is not None or ahead.chunks != chunk):
        ahead.close()   # the workers are other processes, or other chunks were asked for
        ahead = None
    for year in study.study.years:
        runner.year = year
        specs = year_specs(study, year, grid, lut, log_alignment=True)
        scratch = ndvi_scratch(specs["ndvi"], folder)
        try:
            out[year] = _grids_of_year(study, year, grid, specs, folder, rows, names,
                                       monthly=monthly, wins=wins, runner=runner, lock=lock,
                                       scratch=scratch, ahead=ahead)
            ahead = None   # the first year's only
        finally:
            if scratch is not None:
                scratch.close()
    tables = folder / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=BOUNDS_COLUMNS).to_csv(tables / "ndvi_bounds.csv", index=False)
    return out


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None):
    """None (local threads), a LocalCluster of ``workers`` processes, or ``scheduler``."""
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, set_as_default=False) as client:
            yield client
        return
    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


_warmed_up = threading.Event()


def warm_up_kernels() -> None:
    """Load the compiled kernels of the two passes from numba's cache (~0.5 s, mostly
    numba's own start-up), so that it overlaps the checks instead of the first chunks.
    Once per process."""
    if _warmed_up.is_set():
        return
    from ..casa.model import annual_carbon
    from .cog import block_means

    ones = np.ones((12, 2, 2), np.float32)
    pct.scan_integer_block(np.zeros((12, 2, 2), np.int16), np.zeros((2, 2), np.float32),
                           lambda r: r.astype(np.float32))
    pct.scan_block(ones, np.zeros((2, 2), np.float32))
    annual_carbon(ones * 0.5, ones * 15, ones * 50, ones * 300, np.full((2, 2), 6),
                  bounds={6: (0.1, 0.8)})
    block_means(ones[:3], [2, 4])
    value_range(ones)
    decode_integers(np.zeros(2, np.int16), -3000, 1e-4, 0.0)
    _warmed_up.set()


def run_nep(study_path, out, *, monthly: bool = False, workers: int | None = None,
            scheduler: str | None = None, overwrite: bool = False,
            progress: bool = True, hashes: BackgroundHashes | None = None,
            checking=None, ahead=None) -> Path:
    """``carbon-balance nep``: validate, then write the grids of every year into ``out``.

    ``study_path``: the study file, or the study already loaded from it (:func:`load_study`).

    ``out`` gets grids/{year}/npp.tif, rh.tif, nep.tif (float32 COGs, g C m-2 yr-1,
    nodata -9999), tables/ndvi_bounds.csv, study.toml, run.log and manifest.json; it is
    written atomically (nothing is left behind on failure). ``hashes``: the inputs'
    sha256 already being computed (:meth:`BackgroundHashes.of_study`); started here if not.
    ``checking``: a future of the raster checks already running
    (:func:`carbon_balance.grid.checks.raster_problems_in_background`).
    ``ahead``: the first year's NDVI already being read
    (:meth:`carbon_balance.grid.readahead.NdviReadAhead.start`; ignored with a cluster).
    """
    try:
        study = study_path if isinstance(study_path, Study) else load_study(study_path)
        check_can_write(out, overwrite, study=study)
        hashes = hashes or BackgroundHashes.of_study(study)
        if checking is None:
            checking = raster_problems_in_background(study)
        warm_up_kernels()      # holds the GIL; the checks mostly wait on GDAL meanwhile
        problems = checking.result()
        if any(p.fatal for p in problems):
            raise ProblemsError(problems)
        with _client(workers, scheduler) as client, \
                atomic_output(out, overwrite=overwrite, study=study) as tmp:
            for p in problems:
                log.warning("%s", p)
            if client is not None:
                log.info("dask.distributed scheduler at %s", client.scheduler.address)
            write_grids(study, tmp, monthly=monthly, client=client, progress=progress,
                        ahead=ahead)
            shutil.copyfile(study.source, tmp / "study.toml")
            write_manifest(tmp, command="nep", parameters=study.model_dump(mode="json"),
                           inputs=study_inputs(study), hashes=hashes.result())
    finally:
        if hashes is not None:
            hashes.cancel()
        if ahead is not None:
            ahead.close()
    return Path(out).resolve()
