"""Per pixel: what drove the change of annual NEP between two study years (docs/attribution.md).

One pass, chunk by chunk (as :mod:`.nep`): each dask task reads the chunk's inputs of
both years (:func:`~.readers.read_chunk`), evaluates the CASA chain
(:func:`~.evaluate.carbon_arrays`) 2 + 2 x 5 times (both years, then each driver taken
from the other year, in both orders) with one set of NDVI bounds for every evaluation,
splits the change with :func:`carbon_balance.analysis.attribution.decompose` and stores

    attribution/{from}_{to}/nep_from.tif, nep_change.tif, ndvi.tif, temperature.tif, precipitation.tif,
    radiation.tif, land_cover.tif, interaction.tif

float32 COGs [g C m-2 yr-1], nodata -9999 (:mod:`.writers`). ``nep_change`` is the sum of
the five contributions and the interaction (to float32 rounding).

The drivers are the inputs: NDVI, temperature, precipitation, radiation (12 months each)
and land cover (the vegetation class grid). Land cover also decides which cells are
vegetated: a non-vegetated cell has NEP 0 (the kernel's rule), and a cell whose NEP is
nodata in an evaluation (an input missing there) counts as 0 in that evaluation, as it
adds nothing to the zonal sums of CS. So the contributions add up to the change of the
grid's CS, and a cell that turns from cropland into built-up land gives its whole lost
NEP to land cover. A cell whose NEP is nodata in both years is nodata in every output.

The NDVI bounds are the study's pooled over every study year (the ``nep``/``run``
default, ``[casa] ndvi_bounds_pool = "study"``): with bounds per year the bounds would
change between the evaluations and the split would attribute them to no driver.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dask
import numpy as np

from ..analysis.attribution import DRIVERS, decompose
from ..progress import item, stage
from .bounds import kernel_bounds, ndvi_scan, pooled_bounds, unit_footprint
from .evaluate import carbon_arrays, single_threaded_kernel
from .raster_checks import class_lookup
from .readers import read_chunk, year_specs
from .runner import Runner, grid_lock, tree
from .study_grid import chunk_shape, study_grid, windows
from .writers import GridTarget, create_tiled, grid_tags, overview_factors, write_cogs

log = logging.getLogger(__name__)

#: The input each driver is read from.
INPUT_OF = {"ndvi": "ndvi", "temperature": "temperature", "precipitation": "precipitation",
            "radiation": "radiation", "land_cover": "vegetation"}
#: The output grids, in the order of the task's result: the first year's NEP (the baseline
#: of the waterfalls: CS of the first year), its change, the contributions, the interaction.
LAYERS = ("nep_from", "nep_change", *DRIVERS, "interaction")
#: Index of NEP in :func:`~.evaluate.carbon_arrays`' result.
NEP = 2


def folder_name(year_from: int, year_to: int) -> str:
    """``attribution/{from}_{to}``'s last part."""
    return f"{int(year_from)}_{int(year_to)}"


def attribution_arrays(first: dict, second: dict, *, bounds: dict, rn_coefficient=None,
                       rh_coefficient=None) -> np.ndarray:
    """The decomposition of one block's NEP change.

    ``first``, ``second``: {input name: array} of the two years as
    :func:`~.readers.read_chunk` gives them (ndvi, temperature, precipitation, radiation
    (12, y, x) [-, °C, mm month-1, MJ m-2 month-1]; vegetation (y, x) casa codes);
    ``bounds``: {casa code: (ndvi_min, ndvi_max)} for every evaluation.

    Returns float32 (8, y, x) [g C m-2 yr-1] (:data:`LAYERS`): the first year's NEP (NaN
    where nodata), the NEP change, the contribution of each of
    :data:`~carbon_balance.analysis.attribution.DRIVERS`, the interaction. NEP that is
    nodata in an evaluation counts as 0 in the change and the contributions, which are
    NaN only where NEP is nodata in both years.
    """
    params = dict(bounds=bounds, rn_coefficient=rn_coefficient, rh_coefficient=rh_coefficient)
    evaluations = []

    def nep(x: dict) -> np.ndarray:
        out = carbon_arrays(x["ndvi"], x["temperature"], x["precipitation"], x["radiation"],
                            x["land_cover"], **params)[NEP]
        evaluations.append(out)
        return np.where(np.isnan(out), 0.0, out.astype(np.float64))

    x1 = {d: first[INPUT_OF[d]] for d in DRIVERS}
    x2 = {d: second[INPUT_OF[d]] for d in DRIVERS}
    d = decompose(nep, x1, x2, DRIVERS)
    first_nep = evaluations[0]   # decompose evaluates f(x1), f(x2) first
    missing = np.isnan(first_nep) & np.isnan(evaluations[1])
    layers = [d.change, *(d.contributions[k] for k in DRIVERS), d.interaction]
    out = np.stack(layers).astype(np.float32)
    out[:, missing] = np.nan
    return np.concatenate([first_nep.astype(np.float32)[None], out])


def _attribution_task(first, second, rows, cols, bounds, params, target):
    d1 = read_chunk(first, rows, cols)
    d2 = read_chunk(second, rows, cols)
    with single_threaded_kernel():   # chunks already run in parallel
        out = attribution_arrays(d1, d2, bounds=bounds, **params)
    del d1, d2
    target[(slice(0, out.shape[0]), rows, cols)] = out


def _done(*parts):
    return None


def study_pooled_bounds(study, grid, lut, wins, run, footprint) -> dict:
    """Kernel bounds pooled over every study year (the histogram pass of each year, as
    ``nep`` runs it with ``ndvi_bounds_pool = "study"``)."""
    c = study.casa
    if c.ndvi_bounds_pool != "study":
        log.info("attribution: NDVI bounds pooled over the study years although [casa] "
                 "ndvi_bounds_pool = %r (one set of bounds for all twelve evaluations; "
                 "docs/attribution.md)", c.ndvi_bounds_pool)
    specs, scans = {}, {}
    for year in study.study.years:
        item(year)
        run.year = year
        specs[year] = year_specs(study, year, grid, lut)
        scans[year] = ndvi_scan(specs[year], wins, run=run, footprint=footprint)
    run.year = None
    resolved = pooled_bounds(scans, specs, pool="study", mode=c.ndvi_bounds,
                             lower=c.lower_percentile, upper=c.upper_percentile, wins=wins,
                             run=run, footprint=footprint, warn=False)
    return kernel_bounds(resolved[study.study.years[0]][0])


def bounds_from_table(path: Path) -> dict:
    """Kernel bounds from a run's tables/ndvi_bounds.csv when every year has the same
    (bounds pooled over the study); None otherwise."""
    import pandas as pd

    t = pd.read_csv(path)
    per_year = {y: tuple(zip(g.code, g.ndvi_min, g.ndvi_max)) for y, g in t.groupby("year")}
    if not per_year or len(set(per_year.values())) != 1:
        return None
    rows = next(iter(per_year.values()))
    return kernel_bounds({int(k): (float(lo), float(hi)) for k, lo, hi in rows})


def write_attribution(study, folder: Path, year_from: int, year_to: int, *, client=None,
                      progress: bool = True, chunks=None, bounds: dict | None = None,
                      units=None) -> dict[str, Path]:
    """Write ``folder/attribution/{from}_{to}/{layer}.tif`` for every layer of :data:`LAYERS`.

    ``bounds``: kernel NDVI bounds (default: pooled over the study years and the cells of
    ``units``, default the study's; :func:`study_pooled_bounds`); ``client``: a
    ``distributed.Client`` (default local threads). Returns {layer: path}.
    """
    folder = Path(folder)
    grid = study_grid(study)
    lut = class_lookup(study)
    chunk = chunk_shape(study, chunks)
    wins = windows(grid, chunk)
    runner = Runner(client, progress)
    years = list(study.study.years)
    with stage("attribution", total=(0 if bounds is not None else len(years)) + 1,
               unit="passes"):
        if bounds is None:
            footprint = unit_footprint(study, grid, units)
            bounds = study_pooled_bounds(study, grid, lut, wins, runner, footprint)
        item(f"{year_from} -> {year_to}")
        out = folder / "attribution" / folder_name(year_from, year_to)
        out.mkdir(parents=True, exist_ok=True)
        files = {f"{q}.tif": (out / f".{q}.tmp.tif", 1) for q in LAYERS}
        layout = [(str(tmp), 1) for tmp, _ in files.values()]
        factors = overview_factors(grid.width, grid.height, chunk)
        for tmp, count in files.values():
            create_tiled(tmp, grid, count, factors)
        lock = grid_lock(client, f"carbon-balance-attribution-{os.getpid()}-{id(folder)}")
        target = GridTarget(layout, lock, factors)
        first = year_specs(study, year_from, grid, lut)
        second = year_specs(study, year_to, grid, lut)
        c = study.casa
        params = dict(rn_coefficient=c.rn_coefficient, rh_coefficient=c.rh_coefficient)
        task = dask.delayed(_attribution_task, pure=False)
        runner("attribution (12 CASA evaluations)", tree(_done, [
            task(first, second, r, cl, bounds, params, target) for r, cl in wins]))
        generated = (study.study.generated_note or "") if study.study.generated_inputs else None

        def tags_of(quantity):
            tags = grid_tags("nep", year=f"{year_from}-{year_to}", study_name=study.study.name,
                             casa=c, generated_note=generated)
            tags.update(quantity=quantity, from_year=str(year_from), to_year=str(year_to),
                        attribution=("NEP change" if quantity == "nep_change" else
                                     "interaction term" if quantity == "interaction" else
                                     f"contribution of {quantity}")
                        + ": symmetric one-at-a-time decomposition (docs/attribution.md)")
            return tags

        return write_cogs(files, out, factors, tags_of)
