"""The pipeline, end to end (docs/developing.md, output folder contract):

    study file -> checks -> grids (grid.nep.write_grids) -> carbon sequestration per unit
    (accounting.zonal) -> emissions, GDP (accounting) -> indicators, zones (balance,
    accounting.unit_tables) -> changes, spatial autocorrelation (analysis) -> units.gpkg
    -> figures, report.html

:func:`run_study` is ``carbon-balance run``; :func:`account_study`, the table half, takes
NPP/NEP GeoTIFFs already on disk, so it can be run (and tested) without the grid engine;
:func:`run_uncertainty` is ``carbon-balance uncertainty``.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .accounting.boundaries import load_units
from .accounting.emissions import (BACKTEST_METHODS, backtest, estimate_emissions, fill_verdict,
                                   load_emissions)
from .accounting.gdp import estimate_gdp
from .accounting.reference import write_study_reference
from .accounting.unit_tables import aggregate_tables, units_table, write_units_gpkg
from .accounting.zonal import LARGE_GRID_CELLS, zonal_carbon
from .analysis.changes import all_changes, zone_shares, zone_transitions
from .analysis.spatial import autocorrelation_tables
from .analysis.trend_outputs import has_trends, write_trends
from .analysis.uncertainty import write_uncertainty
from .attribute import attribute_into
from .figures.uncertainty import write_uncertainty_figures
from .grid.nep import write_grids
from .grid.readers import study_vegetated_masks
from .grid.runner import dask_client, gdal_block_cache
from . import progress
from .outputs import atomic_output, check_can_write, write_manifest
from .report import build_report
from .study import load_study
from .validate import validate_for_run

log = logging.getLogger(__name__)

#: manifest.json's note of a run whose zonal sums are by cell centres.
CENTRES_NOTE = ("zonal sums by cell centres ([accounting] method = \"centres\"), not exact "
                "partial-cell coverage: boundary cells count whole or not at all")


def study_units(study):
    """The study's unit polygons (:func:`~carbon_balance.accounting.boundaries.load_units`)."""
    u = study.units
    return load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group, layer=u.layer)


def vegetated_masks(study) -> dict:
    """{year: 1.0 where the casa type is vegetated}, lazy above LARGE_GRID_CELLS cells
    (the exact zonal sums compute it then; the cell-centre ones chunk by chunk)."""
    masks = study_vegetated_masks(study)
    return {year: m if m.size > LARGE_GRID_CELLS else m.compute() for year, m in masks.items()}


def account_study(study, folder: Path, grids: dict[int, dict[str, Path]], *,
                  vegetated: dict | None = None, units=None, workers: int | None = None,
                  backtest_methods=None, backtest_holdout: int = 3) -> dict[str, Path]:
    """The table half of ``run``: write tables/*.csv and units.gpkg into ``folder``.

    ``grids``: {year: {"npp": path, "nep": path}} annual GeoTIFFs [g C m-2 yr-1];
    ``vegetated``: {year: 0/1 array on the grid} (default NPP > 0);
    ``backtest_methods``: methods of tables/emissions_backtest.csv (default: all).
    """
    folder = Path(folder)
    tables = folder / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    units = study_units(study) if units is None else units
    ids = list(units.unit_id)
    method = study.accounting.method
    if method == "centres":
        log.warning("zonal sums by cell centres ([accounting] method = \"centres\"): a "
                    "boundary cell counts whole for the unit holding its centre, not by "
                    "its covered fraction (docs/accounting.md gives the difference)")
    else:
        log.info("zonal sums: exact partial-cell coverage (exactextract)")
    with progress.stage("zonal sums", total=len(grids), unit="years"):
        carbon = zonal_carbon(units, grids, vegetated, method=method)
    with progress.stage("emissions fitting", total=3, unit="fits"):
        progress.item("emissions")
        emissions = estimate_emissions(study, ids, workers=workers)
        emissions.to_csv(tables / "emissions.csv", index=False)
        n_est = int(emissions.ce_estimated.sum())
        if n_est:
            log.info("emissions: %d unit-years estimated (%s)", n_est, study.emissions.fill)
        progress.item("backtest of the gap filling")
        bt = backtest(load_emissions(study), holdout=backtest_holdout, units=ids,
                      workers=workers, methods=backtest_methods or BACKTEST_METHODS)
        bt.to_csv(tables / "emissions_backtest.csv", index=False)
        verdict = fill_verdict(bt, study.emissions.fill)
        if verdict.warn:
            log.warning("%s", verdict.message)
        progress.item("GDP")
        gdp = estimate_gdp(study, ids, workers=workers)
    with progress.stage("indicators and zones", total=4, unit="steps"):
        progress.item("indicators, zones, changes")
        z = study.zoning
        table = units_table(units, carbon, emissions, gdp, basis=z.basis,
                            ecc_threshold=z.ecc_threshold, esc_threshold=z.esc_threshold)
        table.to_csv(tables / "units.csv", index=False)
        groups, region = aggregate_tables(table, z.basis)
        if groups is not None:
            groups.to_csv(tables / "groups.csv", index=False)
        region.to_csv(tables / "region.csv", index=False)
        all_changes(table, groups, region).to_csv(tables / "changes.csv", index=False)
        zone_shares(table).to_csv(tables / "zone_shares.csv", index=False)
        zone_transitions(table).to_csv(tables / "zone_transitions.csv", index=False)
        progress.item("units.gpkg")
        write_units_gpkg(folder / "units.gpkg", units, table)
        progress.item("reference product")
        write_study_reference(study, folder, grids, units, vegetated)
        progress.item("spatial autocorrelation")
        _spatial(folder, units, table)
    return {p.stem: p for p in tables.glob("*.csv")}


def _spatial(folder: Path, units, table) -> None:
    global_df, local_df = autocorrelation_tables(units, table)
    global_df.to_csv(folder / "tables" / "spatial_global.csv", index=False)
    local_df.to_csv(folder / "tables" / "spatial_local.csv", index=False)


def run_study(study_path, out, *, workers: int | None = None, scheduler: str | None = None,
              report: bool = True, overwrite: bool = False,
              uncertainty_draws: int | None = None, netcdf: bool = False) -> Path:
    """``carbon-balance run``: the whole study into the output folder ``out`` (atomic).

    ``netcdf``: also write the annual grids as one CF-1.8 cube, ``grids/carbon.nc``
    (:func:`carbon_balance.grid.cf_cube.write_cf_cube`; ``run --format netcdf``).

    ``uncertainty_draws``: also run the Monte Carlo of
    :mod:`carbon_balance.analysis.uncertainty` with this many draws (the demo does).
    The backtest table holds ``best`` only when the study fills with ``best`` (it costs
    as much again as all the other methods; ``carbon-balance emissions backtest``
    always scores it).
    """
    with gdal_block_cache():
        return _run_study(study_path, out, workers=workers, scheduler=scheduler, report=report,
                          overwrite=overwrite, uncertainty_draws=uncertainty_draws, netcdf=netcdf)


def _run_study(study_path, out, *, workers, scheduler, report, overwrite,
               uncertainty_draws, netcdf) -> Path:
    study = load_study(study_path)
    check_can_write(out, overwrite, study=study)
    validate_for_run(study)
    methods = [m for m in BACKTEST_METHODS
               if m != "best" or (study.emissions is not None and study.emissions.fill == "best")]
    progress.plan(*progress.run_stages(report=report, uncertainty=bool(uncertainty_draws),
                                       netcdf=netcdf, trends=has_trends(study.study.years),
                                       attribution=len(study.study.years) > 1))
    with atomic_output(out, overwrite=overwrite, study=study) as folder:
        shutil.copyfile(study_path, folder / "study.toml")
        # one scheduler for both grid passes (a second LocalCluster would cost its start-up)
        with dask_client(workers, scheduler) as client:
            grids = write_grids(study, folder, client=client, progress=True)
            from .qgis_styles import write_grid_styles

            write_grid_styles(folder)   # nep.qml beside each nep.tif, one scale for all years
            if netcdf:
                with progress.stage("CF cube"):
                    _write_cube(study, folder)
            vegetated = vegetated_masks(study)
            account_study(study, folder, grids, vegetated=vegetated,
                          workers=None if workers is None else workers,
                          backtest_methods=methods)
            write_trends(study, folder, grids)   # >= 8 years: grids/trends/, trends.csv
            attribute_into(study, folder, units=study_units(study), client=client)  # first -> last
        parameters = study.model_dump(mode="json")
        if uncertainty_draws:
            log.info("uncertainty: %d Monte Carlo draws", uncertainty_draws)
            with progress.stage("uncertainty", total=len(study.study.years) + 1, unit="steps"):
                write_uncertainty(study, folder, draws=uncertainty_draws,
                                  progress=progress.items())
            parameters["uncertainty"]["draws"] = uncertainty_draws
        inputs = study.input_files()
        note = CENTRES_NOTE if study.accounting.method == "centres" else ""
        # the report shows the manifest (version, inputs and their hashes): write it first,
        # then again last so that it also lists the figures and the report
        write_manifest(folder, command="run", parameters=parameters, inputs=inputs,
                       outputs_note=note)
        if report:
            build_report(folder)
            write_manifest(folder, command="run", parameters=parameters, inputs=inputs,
                           outputs_note=note)
    return Path(out)


def _write_cube(study, folder: Path) -> None:
    from .grid.cf_cube import write_cf_cube

    s = study.study
    path = write_cf_cube(folder, s.years, study_name=s.name,
                         generated_note=s.generated_note if s.generated_inputs else None,
                         chunks=study.grid.chunk_size)
    log.info("CF-1.8 cube of NPP, Rh and NEP: %s", path.relative_to(folder))


def run_uncertainty(study_path, out, *, draws: int | None = None, seed: int | None = None,
                    overwrite: bool = False) -> Path:
    """``carbon-balance uncertainty``: validate, then write the uncertainty tables,
    figures and manifest atomically into ``out``
    (:func:`carbon_balance.analysis.uncertainty.write_uncertainty`)."""
    study = load_study(study_path)
    check_can_write(out, overwrite, study=study)
    with gdal_block_cache():
        validate_for_run(study)
        progress.plan("uncertainty", "figures")
        with atomic_output(out, overwrite=overwrite, study=study) as folder:
            shutil.copyfile(study_path, folder / "study.toml")
            with progress.stage("uncertainty", total=len(study.study.years) + 1,
                                unit="steps"):
                result = write_uncertainty(study, folder, draws=draws, seed=seed,
                                           progress=progress.items())
            with progress.stage("figures"):
                write_uncertainty_figures(folder, units=result.units)
            params = study.model_dump(mode="json")
            params["uncertainty"].update(draws=result.draws, seed=result.seed)
            write_manifest(folder, command="uncertainty", parameters=params,
                           inputs=study.input_files())
    return Path(out)
