"""``carbon-balance nep``: NPP, Rh and NEP grids of every study year (docs/grid.md).

Per year (step 2 of every year before the first step 3):

1. every input is described on the study grid (:func:`~.readers.year_specs`: metadata
   only; windows are read chunk by chunk later);
2. one histogram reduction over NDVI and vegetation gives the run-time NDVI and class
   checks and the histograms of the cells inside the units; every year is scanned before
   the first NPP pass, and the histograms, merged into one running scan as the years
   come (``[casa] ndvi_bounds_pool = "study"``, the default) or resolved alone
   (``"year"``), give the NDVI bounds of each type (:class:`~.bounds.ScanPool`: the
   histograms of one scan in memory, whatever the number of years);
3. one dask task per chunk reads the chunk's windows of every input, runs the CASA
   kernel on them (:func:`~.evaluate.carbon_arrays`), stores the result into tiled
   GeoTIFFs and returns the chunk's value ranges for the run-time checks; the files are
   then copied to COGs (:mod:`.writers`).

A chunk's inputs exist only inside its task, so memory is bounded by
(chunk size)^2 x 49 bands x 4 bytes x tasks running at once, whatever the grid size.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import dask
import pandas as pd

from ..errors import ProblemsError
from ..progress import item, stage
from ..outputs import InputHashes, atomic_output, check_can_write, write_manifest
from ..study import Study, load_study
from . import valid_share
from .bounds import (BOUNDS_COLUMNS, ScanPool, bounds_rows, kernel_bounds, ndvi_scan,
                     ndvi_scratch, scan_problems, unit_footprint)
from .raster_checks import class_lookup, raster_problems, value_problems, value_range
from .evaluate import carbon_arrays, single_threaded_kernel
from .readers import read_chunk, year_specs
from .runner import Runner, dask_client, gdal_block_cache, grid_lock, tree
from .study_grid import chunk_shape, study_grid, windows
from .writers import GridTarget, create_tiled, grid_layout, grid_tags, overview_factors, write_cogs

log = logging.getLogger(__name__)

#: The climate inputs whose exact range over the grid is checked at run time.
CHECKED = ("temperature", "precipitation", "radiation")


def _carbon_task(specs, rows, cols, bounds, params, target, scratch=None, footprint=None):
    """Read one chunk of every input (NDVI from the ``scratch`` when there is one), run
    CASA on it, store it; return the exact value ranges of the climate inputs in the
    chunk and their (valid, total) values inside the ``footprint`` (for the run-time
    checks)."""
    integers = scratch.take(rows, cols) if scratch is not None else None
    data = read_chunk(specs, rows, cols, ndvi_integers=integers)
    ranges = {name: value_range(data[name]) for name in CHECKED}
    inside = valid_share.inside_mask(footprint, rows, cols)
    ranges["valid"] = {name: valid_share.count(data[name], inside) for name in CHECKED}
    # chunks already run in parallel: one kernel thread each
    with single_threaded_kernel():
        out = carbon_arrays(data["ndvi"], data["temperature"], data["precipitation"],
                            data["radiation"], data["vegetation"], bounds=bounds, **params)
    del data
    target[(slice(0, out.shape[0]), rows, cols)] = out
    return ranges


def _merge_ranges(*parts):
    return {name: (min(p[name][0] for p in parts), max(p[name][1] for p in parts))
            for name in CHECKED} | {"valid": valid_share.add(*(p["valid"] for p in parts))}


def write_year(specs, grid, bounds, folder: Path, *, casa, monthly, wins, run, lock,
               tags_of, inputs, scratch=None, footprint=None,
               min_valid_fraction: float = 0.0) -> dict[str, Path]:
    """The NPP pass of one year into ``folder``: npp.tif, rh.tif, nep.tif (and monthly).

    ``casa``: the [casa] section (coefficients); ``inputs``: the [inputs] section (the
    declared units, for the run-time value checks); ``tags_of(quantity)``: file metadata.
    Raises :class:`ProblemsError` when a climate input's range over the grid is refused,
    or its share of valid values inside the ``footprint`` (the units; None: the grid) is
    below ``min_valid_fraction`` (:mod:`.valid_share`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    layout, files = grid_layout(folder, monthly)
    chunk = (wins[0][0].stop - wins[0][0].start, wins[0][1].stop - wins[0][1].start)
    factors = overview_factors(grid.width, grid.height, chunk)
    for tmp, count in files.values():
        create_tiled(tmp, grid, count, factors)
    target = GridTarget(layout, lock, factors)
    params = dict(monthly=monthly, rn_coefficient=casa.rn_coefficient,
                  rh_coefficient=casa.rh_coefficient)
    task = dask.delayed(_carbon_task, pure=False)
    found = run("NPP, Rh, NEP", tree(_merge_ranges, [
        task(specs, r, c, bounds, params, target, scratch, footprint) for r, c in wins]))
    problems = valid_share.pass_problems(specs, found.pop("valid"), specs["ndvi"].year,
                                         threshold=min_valid_fraction,
                                         units=footprint is not None)
    for name, (lo, hi) in found.items():
        problems += value_problems(name, lo, hi, units=getattr(inputs, name).units,
                                   file=specs[name].files[0], scale=specs[name].scale)
    if any(p.fatal for p in problems):
        raise ProblemsError([p for p in problems if p.fatal])
    for p in problems:
        log.warning("%s", p)
    return write_cogs(files, folder, factors, tags_of)


def write_grids(study, folder: Path, *, monthly: bool = False, client=None,
                progress: bool = True, chunks=None, units=None) -> dict[int, dict[str, Path]]:
    """Write ``folder/grids/{year}/{npp,rh,nep}.tif`` (and ``*_monthly.tif``) and
    ``folder/tables/ndvi_bounds.csv`` for every study year.

    The histogram pass of every year runs first, then the NPP pass of each year. The NDVI
    bounds pool the cells at least partly inside ``units`` (default: the study's [units];
    the whole grid without units) and, with ``[casa] ndvi_bounds_pool = "study"`` (the
    default), every study year (:func:`~.bounds.pooled_bounds`).
    ``client``: a ``distributed.Client`` to compute on (default: local threads).
    Raises :class:`ProblemsError` when an input value is refused (same rules as
    :func:`carbon_balance.grid.raster_checks.raster_problems`, on the whole grid).
    Returns {year: {"npp": path, "rh": path, "nep": path[, "npp_monthly": ...]}}.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    grid = study_grid(study)
    lut = class_lookup(study)
    chunk = chunk_shape(study, chunks)
    wins = windows(grid, chunk)
    log.info("study grid: %s; chunks of %d x %d", grid.describe(), *chunk)
    footprint = unit_footprint(study, grid, units)
    lock = grid_lock(client, f"carbon-balance-grids-{os.getpid()}-{id(folder)}")
    runner = Runner(client, progress)
    rows = []   # of tables/ndvi_bounds.csv
    # two passes of each year: its NDVI histograms (all years first: pooled bounds), its NPP
    with stage("grids", total=2 * len(study.study.years), unit="passes"):
        out = _write_years(study, folder, grid, lut, wins, runner, lock, monthly, rows,
                           footprint)
    tables = folder / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=BOUNDS_COLUMNS).to_csv(tables / "ndvi_bounds.csv", index=False)
    return out


def _write_years(study, folder, grid, lut, wins, runner, lock, monthly, rows,
                 footprint) -> dict:
    """The years of :func:`write_grids`: the histogram pass of every year, the pooled
    bounds, then the NPP pass of each year (one item of the progress stage each)."""
    c = study.casa
    generated = (study.study.generated_note or "") if study.study.generated_inputs else None
    out, specs, scratches = {}, {}, {}
    # each year's histograms are merged (or, pooled per year, resolved) as they come
    scan_pool = ScanPool(c.ndvi_bounds_pool, modes=(c.ndvi_bounds,), lower=c.lower_percentile,
                         upper=c.upper_percentile, wins=wins, run=runner, footprint=footprint)
    try:
        for year in study.study.years:       # the histogram pass of every year ...
            item(year)
            runner.year = year
            specs[year] = year_specs(study, year, grid, lut, log_alignment=True)
            # created after the earlier years' scratches are written: the disk check sees them
            scratches[year] = ndvi_scratch(specs[year]["ndvi"], folder)
            scan = ndvi_scan(specs[year], wins, run=runner, scratch=scratches[year],
                             footprint=footprint)
            problems = scan_problems(specs[year], scan, study.inputs.vegetation.classes)
            problems += valid_share.scan_problems(specs[year], scan, year,
                                                  threshold=study.checks.min_valid_fraction,
                                                  units=footprint is not None)
            if any(p.fatal for p in problems):
                raise ProblemsError(problems)
            scan_pool.add(year, scan, specs[year])
            del scan
        runner.year = None
        resolved = scan_pool.bounds()
        del scan_pool
        for year in study.study.years:       # ... then the NPP pass of each year
            item(year)
            runner.year = year
            bounds, n_values, scan, span = resolved.pop(year)
            rows += bounds_rows(year, bounds, n_values, scan, c.ndvi_bounds,
                                pool=c.ndvi_bounds_pool, pool_years=span,
                                pool_area="grid" if footprint is None else "units")

            def tags_of(quantity, year=year):
                return grid_tags(quantity, year=year, study_name=study.study.name, casa=c,
                                 generated_note=generated)

            out[year] = write_year(specs[year], grid, kernel_bounds(bounds),
                                   folder / "grids" / str(year), casa=c, monthly=monthly,
                                   wins=wins, run=runner, lock=lock, tags_of=tags_of,
                                   inputs=study.inputs, scratch=scratches[year],
                                   footprint=footprint,
                                   min_valid_fraction=study.checks.min_valid_fraction)
            _close(scratches.pop(year))
    finally:
        for scratch in scratches.values():
            _close(scratch)
    return out


def _close(scratch) -> None:
    if scratch is not None:
        scratch.close()


def run_nep(study_path, out, *, monthly: bool = False, workers: int | None = None,
            scheduler: str | None = None, overwrite: bool = False,
            progress: bool = True) -> Path:
    """``carbon-balance nep``: validate, then write the grids of every year into ``out``.

    ``study_path``: the study file, or the study already loaded from it (:func:`load_study`).

    ``out`` gets grids/{year}/npp.tif, rh.tif, nep.tif (float32 COGs, g C m-2 yr-1,
    nodata -9999), tables/ndvi_bounds.csv, study.toml, run.log and manifest.json; it is
    written atomically (nothing is left behind on failure). The inputs' sha256 for the
    manifest is computed in one background thread while the grids are.
    """
    study = study_path if isinstance(study_path, Study) else load_study(study_path)
    check_can_write(out, overwrite, study=study)
    with gdal_block_cache():
        problems = raster_problems(study)
        if any(p.fatal for p in problems):
            raise ProblemsError(problems)
        hashes = InputHashes(study.raster_files())
        with dask_client(workers, scheduler) as client, \
                atomic_output(out, overwrite=overwrite, study=study) as tmp:
            for p in problems:
                log.warning("%s", p)
            write_grids(study, tmp, monthly=monthly, client=client, progress=progress)
            from ..qgis_styles import write_grid_styles

            write_grid_styles(tmp)   # nep.qml beside each nep.tif, as run writes them
            shutil.copyfile(study.source, tmp / "study.toml")
            write_manifest(tmp, command="nep", parameters=study.model_dump(mode="json"),
                           inputs=study.raster_files(), hashes=hashes.result())
    return Path(out).resolve()
