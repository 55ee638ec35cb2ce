"""``carbon-balance attribute``: what drove the change of CS (and CB) between two study
years (docs/attribution.md).

    grids (grid.attribution.write_attribution: the symmetric one-at-a-time split of the
    NEP change per pixel) -> zonal sums per unit (accounting.zonal, exact partial cells
    unless [accounting] method = "centres") -> tables/attribution.csv,
    tables/attribution_groups.csv (analysis.attribution) with the CB change = CE change
    - CS change

:func:`run_attribution` is the command (an output folder of its own, atomic, with a
manifest); :func:`attribute_into` is the step of ``run`` (first -> last study year).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from . import progress
from .analysis.attribution import group_table, unit_table
from .constants import T_PER_G
from .errors import InputError
from .grid.attribution import LAYERS, bounds_from_table, write_attribution
from .grid.runner import dask_client, gdal_block_cache
from .outputs import atomic_output, check_can_write, write_manifest
from .study import load_study

log = logging.getLogger(__name__)


def check_years(study, year_from, year_to) -> tuple[int, int]:
    """(from, to) as ints; :class:`InputError` unless both are study years and differ."""
    years = [int(y) for y in study.study.years]
    listed = ", ".join(map(str, years))
    for key, y in (("--from", year_from), ("--to", year_to)):
        if y is None or int(y) not in years:
            raise InputError(f"{y} is not a year of the study (its years: {listed})",
                             file=study.source, key=key,
                             fix=f"give two different study years, e.g. --from {years[0]} "
                                 f"--to {years[-1]}")
    if int(year_from) == int(year_to):
        raise InputError(f"--from and --to are the same year ({year_from}): there is no "
                         "change to attribute", file=study.source, key="--from/--to",
                         fix=f"give two different study years (its years: {listed})")
    return int(year_from), int(year_to)


def layer_sums(units, files: dict[str, Path], *, method: str = "exact") -> dict[str, np.ndarray]:
    """{layer: sum over each unit [t C]} of the attribution grids [g C m-2 yr-1]: the
    zonal sums of CS (:mod:`carbon_balance.accounting.zonal`; nodata adds nothing)."""
    from .accounting import zonal

    out = {}
    first = Path(files[LAYERS[0]])
    shape, transform, crs = zonal._grid_meta(first)
    if method == "centres":
        for name in LAYERS:
            out[name] = zonal.zonal_sums_dask(zonal._lazy_grid(Path(files[name])), units,
                                              transform, crs) * T_PER_G
        return out
    cov = zonal.coverage_fractions(units, shape, transform, crs)
    area = zonal.cell_areas_m2(shape, transform, crs)
    for name in LAYERS:
        out[name] = zonal.zonal_sums(zonal._read_grid(Path(files[name]))[0], cov, area) * T_PER_G
    return out


def ce_changes(emissions: pd.DataFrame | None, ids, year_from: int, year_to: int):
    """CE(to) − CE(from) per unit [t CO2] from an emissions table (unit_id, year,
    ce_t_co2, as tables/emissions.csv); None without one."""
    if emissions is None:
        return None
    e = emissions.assign(unit_id=emissions.unit_id.astype(str)).pivot_table(
        index="unit_id", columns="year", values="ce_t_co2", aggfunc="first")
    ids = [str(u) for u in ids]
    get = (lambda y: e[y].reindex(ids).to_numpy(float) if y in e.columns
           else np.full(len(ids), np.nan))
    return get(year_to) - get(year_from)


def write_tables(study, folder: Path, year_from: int, year_to: int, files: dict[str, Path], *,
                 units, emissions: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """tables/attribution.csv and tables/attribution_groups.csv in ``folder``."""
    tables = Path(folder) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    sums = layer_sums(units, files, method=study.accounting.method)
    ids = list(units.unit_id)
    t = unit_table(ids, year_from, year_to, sums,
                   ce_change_t_co2=ce_changes(emissions, ids, year_from, year_to),
                   basis=study.zoning.basis)
    g = group_table(t, dict(zip(units.unit_id, units.group)))
    t.to_csv(tables / "attribution.csv", index=False)
    g.to_csv(tables / "attribution_groups.csv", index=False)
    region = g[g.level == "region"].iloc[0]
    log.info("attribution %d -> %d: region CS change %.4g t C = %s + interaction %.4g",
             year_from, year_to, region.cs_change_t_c,
             " + ".join(f"{d} {region[d + '_t_c']:.4g}" for d in LAYERS[2:-1]),
             region.interaction_t_c)
    return t, g


def attribute_into(study, folder: Path, *, units, client=None, year_from=None,
                   year_to=None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The attribution step of ``run``: first -> last study year (default) into a run
    folder that has tables/ndvi_bounds.csv and tables/emissions.csv. The bounds of the
    run are reused when they are pooled over the study (the default); otherwise the
    study-pooled bounds are computed again (the histogram pass of every year).
    A study of one year has no change: nothing is written, None is returned."""
    years = sorted(int(y) for y in study.study.years)
    if len(years) < 2:
        log.info("attribution skipped: the study has one year")
        return None
    year_from, year_to = check_years(study, year_from or years[0], year_to or years[-1])
    folder = Path(folder)
    bounds = None
    if (folder / "tables" / "ndvi_bounds.csv").exists():
        bounds = bounds_from_table(folder / "tables" / "ndvi_bounds.csv")
    if bounds is None:
        log.info("attribution: NDVI bounds pooled over the study years (the run's are per "
                 "year: one set for all twelve evaluations)")
    files = write_attribution(study, folder, year_from, year_to, client=client, bounds=bounds,
                              units=units)
    emissions = _read_emissions(folder / "tables" / "emissions.csv")
    return write_tables(study, folder, year_from, year_to, files, units=units,
                        emissions=emissions)


def write_figures(folder: Path, table: pd.DataFrame, groups: pd.DataFrame, units,
                  study) -> list[Path]:
    """figures/attribution_waterfall.png and attribution_dominant_driver.png (+ .svg) of
    the ``attribute`` folder (a run's report draws them itself), labelled when the
    study's inputs are generated."""
    import matplotlib

    from .figures.attribution import attribution_waterfall, dominant_driver_map
    from .figures._style import GENERATED_LABEL

    out = Path(folder) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    label = GENERATED_LABEL if study.study.generated_inputs else False
    paths = []
    fig = attribution_waterfall(groups, generated=label)
    fig.savefig(out / "attribution_waterfall.png", metadata={"Software": None})
    paths.append(out / "attribution_waterfall.png")
    fig = dominant_driver_map(units, table, generated=label,
                              credit=f"Source: {study.study.name}, carbon-balance.")
    fig.savefig(out / "attribution_dominant_driver.png", metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": "carbon-balance-attribution_dominant_driver"}):
        fig.savefig(out / "attribution_dominant_driver.svg", metadata={"Date": None})
    paths += [out / "attribution_dominant_driver.png", out / "attribution_dominant_driver.svg"]
    return paths


def _read_emissions(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, dtype={"unit_id": str}) if path.exists() else None


def run_attribution(study_path, out, *, year_from: int, year_to: int,
                    workers: int | None = None, scheduler: str | None = None,
                    overwrite: bool = False) -> Path:
    """``carbon-balance attribute``: check the years, validate, then write
    attribution/{from}_{to}/*.tif, tables/attribution.csv, tables/attribution_groups.csv,
    figures/attribution_*.png (:func:`write_figures`), study.toml and manifest.json
    atomically into ``out``.

    Emissions (for the CB change) are those ``run`` would use (the study's inventory,
    gaps filled by ``[emissions] fill``).
    """
    from .accounting.boundaries import load_units
    from .accounting.emissions import estimate_emissions
    from .errors import ProblemsError
    from .validate import study_problems

    study = load_study(study_path)
    year_from, year_to = check_years(study, year_from, year_to)
    u = study.units
    if u is None:
        raise InputError("the study has no [units]: the attribution is summed per unit",
                         file=study.source, key="units",
                         fix="add a [units] section (docs/study-file.md)")
    check_can_write(out, overwrite, study=study)
    with gdal_block_cache():
        # the checks of `validate` ([emissions] and [gdp] are optional here: without
        # emissions the CB columns are empty)
        problems = study_problems(study, for_run=False)
        if any(p.fatal for p in problems):
            raise ProblemsError(problems)
        for p in problems:
            log.warning("%s", p)
        units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group,
                           layer=u.layer)
        progress.plan("attribution", *(["emissions"] if study.emissions else []), "tables",
                      "figures")
        with atomic_output(out, overwrite=overwrite, study=study) as folder:
            shutil.copyfile(study.source, folder / "study.toml")
            with dask_client(workers, scheduler) as client:
                files = write_attribution(study, folder, year_from, year_to, client=client,
                                          units=units)
            emissions = None
            if study.emissions is not None:
                with progress.stage("emissions"):
                    emissions = estimate_emissions(study, list(units.unit_id), workers=workers)
            with progress.stage("tables"):
                t, g = write_tables(study, folder, year_from, year_to, files, units=units,
                                    emissions=emissions)
            with progress.stage("figures"):
                write_figures(folder, t, g, units, study)
            params = study.model_dump(mode="json")
            params["attribution"] = {"from_year": year_from, "to_year": year_to}
            write_manifest(folder, command="attribute", parameters=params,
                           inputs=study.input_files())
    return Path(out)
