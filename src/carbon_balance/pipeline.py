"""``carbon-balance run``: grids -> carbon sequestration -> emissions, GDP -> indicators,
zones -> changes -> units.gpkg -> report (docs/developing.md, output folder contract).

The table half, :func:`account_study`, takes NPP/NEP GeoTIFFs already on disk, so it can
be run (and tested) without the grid engine.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ProblemsError
from .study import load_study

log = logging.getLogger(__name__)

#: CS [t C] -> [t CO2], molar mass ratio.
CO2_PER_C = 44.0 / 12.0
#: g -> t
T_PER_G = 1e-6
M2_PER_KM2 = 1e6

UNITS_COLUMNS = ["unit_id", "name", "group", "year", "area_km2", "npp_mean_g_c_m2",
                 "nep_mean_g_c_m2", "cs_t_c", "cs_t_co2", "ce_t_co2", "ce_estimated", "gdp_yuan",
                 "cb_t", "cbi", "ecc", "esc", "budget_state", "zone", "basis", "ce_method",
                 "ce_low_t_co2", "ce_high_t_co2", "gdp_estimated", "vegetated_area_km2",
                 "zone_reason"]
AGG_COLUMNS = ["year", "n_units", "area_km2", "cs_t_c", "cs_t_co2", "ce_t_co2", "gdp_yuan",
               "cb_t", "cbi", "budget_state", "basis", "esc_usable"]


def _read_grid(path: Path) -> tuple[np.ndarray, object, object]:
    import rasterio

    with rasterio.open(path) as ds:
        a = ds.read(1, masked=True).astype("float64").filled(np.nan)
        return a, ds.transform, ds.crs


#: Above this many cells a grid is summed chunk by chunk on dask (rasterised zones,
#: cell-centre rule) instead of with exact coverage fractions held in memory.
LARGE_GRID_CELLS = 100_000_000


def _grid_meta(path: Path):
    import rasterio

    with rasterio.open(path) as ds:
        return (ds.height, ds.width), ds.transform, ds.crs


def _lazy_grid(path: Path, chunk: int = 4096):
    """A GeoTIFF band as a dask array [file units], nodata as NaN."""
    import rioxarray

    da_ = rioxarray.open_rasterio(path, chunks={"x": chunk, "y": chunk}, masked=True)
    return da_.isel(band=0).data


def zonal_carbon(units, grids: dict[int, dict[str, Path]], vegetated: dict | None = None, *,
                 large_grid_cells: int = LARGE_GRID_CELLS) -> pd.DataFrame:
    """Per unit and year: NPP and NEP sums and the vegetated area, from annual GeoTIFFs.

    ``grids``: {year: {"npp": path, "nep": path}} [g C m-2 yr-1]. ``vegetated``: {year:
    2-D array (numpy or dask), 1 where the casa type is vegetated} on the same grid;
    default: NPP > 0. Grids above ``large_grid_cells`` cells go the chunked dask path.
    Returns unit_id, year, npp_sum_g, cs_t_c, vegetated_area_km2, valid_area_km2.

    A unit none of whose cells has a valid (non-nodata) NEP has ``valid_area_km2`` 0 and
    NaN sums (not 0: nodata is not "no carbon"); :func:`units_table` leaves it unzoned.
    """
    from .accounting.zonal import cell_areas_m2, coverage_fractions, zonal_sums, zonal_sums_dask

    rows, cache = [], {}
    for year, paths in sorted(grids.items()):
        shape, transform, crs = _grid_meta(Path(paths["nep"]))
        veg = None if vegetated is None else vegetated.get(year)
        if shape[0] * shape[1] > large_grid_cells:
            import dask.array as da

            nep = _lazy_grid(Path(paths["nep"]))
            npp = _lazy_grid(Path(paths["npp"]))
            veg = (npp > 0).astype(float) if veg is None else da.asarray(veg).rechunk(nep.chunks)
            sums = [zonal_sums_dask(a, units, transform, crs)
                    for a in (npp, nep, veg, da.isfinite(nep).astype(float))]
            npp_g, nep_g, veg_m2, valid_m2 = sums
            ids = units.unit_id.to_numpy()
        else:
            nep = _read_grid(Path(paths["nep"]))[0]
            npp = _read_grid(Path(paths["npp"]))[0] if "npp" in paths else np.full(shape, np.nan)
            key = (shape, tuple(transform), str(crs))
            if key not in cache:  # coverage and areas are per grid, not per year
                cache[key] = (coverage_fractions(units, shape, transform, crs),
                              cell_areas_m2(shape, transform, crs))
            cov, area = cache[key]
            if veg is None:
                veg = np.where(np.isfinite(npp), npp > 0, 0.0)
            veg = np.asarray(veg, float)
            veg = np.where(np.isfinite(veg), veg, 0.0)
            veg_m2 = zonal_sums(veg, cov, area)
            nep_g = zonal_sums(nep, cov, area)
            npp_g = zonal_sums(npp, cov, area)
            valid_m2 = zonal_sums(np.isfinite(nep).astype(float), cov, area)
            ids = cov.unit_ids
        for i, uid in enumerate(ids):
            if not valid_m2[i] > 0:
                log.warning("unit %s, %s: no valid pixels (every cell is nodata in the NEP "
                            "grid); its CS is left empty and it is not zoned", uid, year)
                npp_g[i] = nep_g[i] = np.nan
            rows.append((uid, int(year), npp_g[i], nep_g[i] * T_PER_G, veg_m2[i] / M2_PER_KM2,
                         valid_m2[i] / M2_PER_KM2))
    return pd.DataFrame(rows, columns=["unit_id", "year", "npp_sum_g", "cs_t_c",
                                       "vegetated_area_km2", "valid_area_km2"])


#: zone_reason of a unit whose cells are all nodata in the NEP grid.
NO_VALID_PIXELS = "no valid pixels: every cell of the unit is nodata in the NEP grid"


def units_table(units, carbon: pd.DataFrame, emissions: pd.DataFrame, gdp: pd.DataFrame, *,
                basis: str = "CO2", ecc_threshold: float = 1.0, esc_threshold: float = 1.0) -> pd.DataFrame:
    """Assemble ``units.csv`` (docs/developing.md column order) and compute the indicators."""
    from .balance import UNCLASSIFIED, indicators

    base = pd.DataFrame(units.drop(columns="geometry"))
    t = carbon.merge(base, on="unit_id", how="left").merge(emissions, on=["unit_id", "year"],
                                                            how="left").merge(gdp, on=["unit_id", "year"], how="left")
    veg = t["vegetated_area_km2"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # non-vegetated cells carry NPP = NEP = 0, so the vegetated mean is sum / vegetated area
        t["npp_mean_g_c_m2"] = np.where(veg > 0, t["npp_sum_g"] / (veg * M2_PER_KM2), np.nan)
        t["nep_mean_g_c_m2"] = np.where(veg > 0, t["cs_t_c"] / T_PER_G / (veg * M2_PER_KM2), np.nan)
    t["cs_t_co2"] = t["cs_t_c"] * CO2_PER_C
    if basis == "CO2":
        t["_ce"], t["_cs"] = t["ce_t_co2"], t["cs_t_co2"]
    else:
        t["_ce"], t["_cs"] = t["ce_t_co2"] / CO2_PER_C, t["cs_t_c"]
    t = indicators(t, ce="_ce", cs="_cs", gdp="gdp_yuan", ecc_threshold=ecc_threshold,
                   esc_threshold=esc_threshold)
    t = t.rename(columns={"cb": "cb_t"})
    if "valid_area_km2" in t:
        empty = ~(t["valid_area_km2"].to_numpy(float) > 0)
        t.loc[empty, "zone"] = UNCLASSIFIED
        t.loc[empty, "zone_reason"] = NO_VALID_PIXELS
    t["basis"] = basis
    order = {u: i for i, u in enumerate(units.unit_id)}
    t = t.sort_values(["year", "unit_id"], key=lambda s: s.map(order) if s.name == "unit_id" else s)
    return t[UNITS_COLUMNS].reset_index(drop=True)


def aggregate_tables(table: pd.DataFrame, basis: str) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """groups.csv and region.csv rows: sums; CB = sum CE - sum CS, CBI = sum CE / sum CS."""
    from .balance import aggregate

    t = table.copy()
    t["_ce"] = t["ce_t_co2"] if basis == "CO2" else t["ce_t_co2"] / CO2_PER_C
    t["_cs"] = t["cs_t_co2"] if basis == "CO2" else t["cs_t_c"]

    def finish(g):
        extra = t.groupby([c for c in g.columns if c in ("group", "year")], sort=False)[
            ["cs_t_c", "cs_t_co2", "ce_t_co2"]].sum().reset_index()
        g = g.merge(extra, on=[c for c in ("group", "year") if c in g.columns])
        g = g.rename(columns={"cb": "cb_t"})
        g["basis"] = basis
        g["esc_usable"] = g["cs_t_c"] > 0
        return g

    region = finish(aggregate(t, ["year"], ce="_ce", cs="_cs", gdp="gdp_yuan", area="area_km2"))
    region = region[AGG_COLUMNS]
    for y in region.loc[~region.esc_usable, "year"]:
        log.warning("%s: the region's total CS <= 0, so ESC is meaningless and units are not "
                    "zoned on it", y)
    groups = None
    if table["group"].notna().any():
        groups = finish(aggregate(t, ["group", "year"], ce="_ce", cs="_cs", gdp="gdp_yuan",
                                  area="area_km2"))[["group"] + AGG_COLUMNS]
    return groups, region


def account_study(study, folder: Path, grids: dict[int, dict[str, Path]], *,
                  vegetated: dict | None = None, units=None, workers: int | None = None,
                  backtest_methods=None, backtest_holdout: int = 3) -> dict[str, Path]:
    """The table half of ``run``: write tables/*.csv and units.gpkg into ``folder``.

    ``grids``: {year: {"npp": path, "nep": path}} annual GeoTIFFs [g C m-2 yr-1];
    ``vegetated``: {year: 0/1 array on the grid} (default NPP > 0);
    ``backtest_methods``: methods of tables/emissions_backtest.csv (default: all).
    """
    from .accounting.emissions import (BACKTEST_METHODS, backtest, estimate_emissions,
                                       load_emissions)
    from .accounting.gdp import estimate_gdp
    from .accounting.units import load_units
    from .analysis.changes import all_changes, zone_shares, zone_transitions

    folder = Path(folder)
    tables = folder / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    if units is None:
        u = study.units
        units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group, layer=u.layer)
    ids = list(units.unit_id)
    carbon = zonal_carbon(units, grids, vegetated)
    emissions = estimate_emissions(study, ids, workers=workers)
    emissions.to_csv(tables / "emissions.csv", index=False)
    n_est = int(emissions.ce_estimated.sum())
    if n_est:
        log.info("emissions: %d unit-years estimated (%s)", n_est, study.emissions.fill)
    bt = backtest(load_emissions(study), holdout=backtest_holdout, units=ids, workers=workers,
                  methods=backtest_methods or BACKTEST_METHODS)
    bt.to_csv(tables / "emissions_backtest.csv", index=False)
    gdp = estimate_gdp(study, ids, workers=workers)
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
    write_units_gpkg(folder / "units.gpkg", units, table)
    _spatial(folder, units, table)
    return {p.stem: p for p in tables.glob("*.csv")}


def write_units_gpkg(path: Path, units, table: pd.DataFrame) -> Path:
    """units.gpkg: one layer ``units_{year}`` of polygons with the units.csv columns."""
    from .reproducible import fixed_gpkg_dates

    geo = units[["unit_id", "geometry"]]
    with fixed_gpkg_dates():   # byte-identical reruns
        for year, rows in table.groupby("year", sort=True):
            layer = geo.merge(rows, on="unit_id", how="inner")
            layer.to_file(path, layer=f"units_{year}", driver="GPKG", engine="pyogrio")
    return path


def _spatial(folder: Path, units, table: pd.DataFrame) -> None:
    try:
        from .analysis.spatial import autocorrelation_tables
    except ImportError as exc:
        log.info("spatial autocorrelation skipped: carbon_balance.analysis.spatial not available (%s)", exc)
        return
    global_df, local_df = autocorrelation_tables(units, table)
    global_df.to_csv(folder / "tables" / "spatial_global.csv", index=False)
    local_df.to_csv(folder / "tables" / "spatial_local.csv", index=False)


def _vegetated_masks(study, years) -> dict:
    """{year: 1.0 where the casa type is vegetated} from the grid engine's vegetation grid."""
    from .casa.tables import casa_parameters
    from .grid.pipeline import year_dataset

    flags = np.asarray(casa_parameters()["vegetated"], dtype=float)

    def lookup(codes):
        ok = np.isfinite(codes)
        mask = np.zeros(codes.shape)
        mask[ok] = flags[codes[ok].astype(int)]
        return mask

    out = {}
    for year in years:
        codes = year_dataset(study, year)["vegetation"].data
        mask = codes.map_blocks(lookup, dtype=float)
        out[year] = mask if codes.size > LARGE_GRID_CELLS else mask.compute()
    return out


def validate_for_run(study) -> None:
    """Raise :class:`ProblemsError` if the grid or table checks find a fatal problem;
    log the warnings (the same checks as ``carbon-balance validate``)."""
    from .validate import study_problems

    problems = study_problems(study)
    for p in problems:
        if not p.fatal:
            log.warning("%s", p)
    if any(p.fatal for p in problems):
        raise ProblemsError(problems)


def study_input_files(study) -> list[Path]:
    """Every input file of the study (rasters and tables), for the manifest's hashes."""
    from .hashing import study_inputs

    inputs = list(study_inputs(study)) if study.inputs is not None else []
    for sec in (study.units, study.emissions, study.gdp):
        if sec is not None:
            inputs.append(study.resolve(sec.path))
    return inputs


def run_study(study_path, out, *, workers: int | None = None, scheduler: str | None = None,
              report: bool = True, overwrite: bool = False,
              uncertainty_draws: int | None = None) -> Path:
    """``carbon-balance run``: the whole study into the output folder ``out`` (atomic).

    ``uncertainty_draws``: also run the Monte Carlo of
    :mod:`carbon_balance.analysis.uncertainty` with this many draws (the demo does).
    The backtest table holds ``best`` only when the study fills with ``best`` (it costs
    as much again as all the other methods; ``carbon-balance emissions backtest``
    always scores it).
    """
    from .accounting.emissions import BACKTEST_METHODS
    from .grid.pipeline import _client, write_grids
    from .outputs import atomic_output, check_can_write, write_manifest

    study = load_study(study_path)
    check_can_write(out, overwrite, study=study)
    validate_for_run(study)
    methods = [m for m in BACKTEST_METHODS
               if m != "best" or (study.emissions is not None and study.emissions.fill == "best")]
    with atomic_output(out, overwrite=overwrite, study=study) as folder:
        shutil.copyfile(study_path, folder / "study.toml")
        with _client(workers, scheduler) as client:
            grids = write_grids(study, folder, client=client, progress=True)
        vegetated = _vegetated_masks(study, study.study.years)
        account_study(study, folder, grids, vegetated=vegetated,
                      workers=None if workers is None else workers, backtest_methods=methods)
        parameters = study.model_dump(mode="json")
        if uncertainty_draws:
            from .analysis.uncertainty import write_uncertainty

            log.info("uncertainty: %d Monte Carlo draws", uncertainty_draws)
            write_uncertainty(study, folder, draws=uncertainty_draws,
                              progress=lambda s: log.info("%s", s))
            parameters["uncertainty"]["draws"] = uncertainty_draws
        inputs = study_input_files(study)
        # the report shows the manifest (version, inputs and their hashes): write it first,
        # then again last so that it also lists the figures and the report
        write_manifest(folder, command="run", parameters=parameters, inputs=inputs)
        if report:
            from .report import build_report

            build_report(folder)
            write_manifest(folder, command="run", parameters=parameters, inputs=inputs)
    return Path(out)
