"""The trend outputs of ``run`` (issue 16 part C, docs/trends.md): grids and ``trends.csv``.

With at least :data:`~.trends.MIN_YEARS` study years, :func:`write_trends` writes

- ``grids/trends/{npp,nep}_slope.tif``: Theil–Sen slope of the annual grid
  [g C m-2 yr-2], and ``{npp,nep}_p.tif``: the two-sided Mann–Kendall p-value [-];
  float32 COGs, nodata -9999 (:mod:`carbon_balance.grid.writers`). They are computed
  window by window from the annual COGs, so memory is bounded by chunk x years.
- ``tables/trends.csv``: the same per unit, group and region for CE, CS, CB, CBI, ECC
  and ESC (:data:`TREND_COLUMNS`).

With fewer years nothing is written and one INFO line says why.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import Window

from .. import __version__, progress
from ..grid.study_grid import StudyGrid, chunk_shape, windows
from ..grid.writers import GridTarget, NODATA, create_tiled, overview_factors, write_cogs
from .trends import ALPHA, MIN_YEARS, direction, trend

log = logging.getLogger(__name__)

#: Annual grids with a trend map, and the trend grids of each.
GRID_QUANTITIES = ("npp", "nep")
#: Units of the trend grids.
SLOPE_UNITS = "g C m-2 yr-2"
P_UNITS = "1"
METHOD = ("Theil-Sen slope (Sen 1968, doi:10.1080/01621459.1968.10480934) of the annual "
          "values over the years with a value; Mann-Kendall test (Mann 1945, Kendall 1975), "
          "variance with the tie correction, Z with the continuity correction, two-sided "
          "normal p-value")
#: Quantities of tables/trends.csv per level (groups and the region have no ECC or ESC:
#: both are a unit's share of the region's).
UNIT_QUANTITIES = ("ce_t_co2", "cs_t_co2", "cb_t", "cbi", "ecc", "esc")
AGGREGATE_QUANTITIES = ("ce_t_co2", "cs_t_co2", "cb_t", "cbi")
#: Columns of tables/trends.csv (docs/trends.md).
TREND_COLUMNS = ["level", "unit_id", "name", "quantity", "units", "year_from", "year_to",
                 "n_years", "slope_per_yr", "p_value", "tau", "mk_s", "mk_z", "significant",
                 "direction"]


def trend_folder(folder: Path) -> Path:
    """``folder/grids/trends``."""
    return Path(folder) / "grids" / "trends"


def _grid_of(path: Path) -> StudyGrid:
    with rasterio.open(path) as src:
        return StudyGrid(src.crs, src.transform, src.width, src.height)


def write_trend_grids(folder: Path, grids: dict[int, dict[str, Path]], *, chunks, study_name: str,
                      generated_note: str | None = None,
                      min_years: int = MIN_YEARS) -> dict[str, Path]:
    """Write ``folder/grids/trends/{q}_slope.tif`` and ``{q}_p.tif`` for q in npp, nep.

    ``grids``: {year: {"npp": path, "nep": path}} annual COGs [g C m-2 yr-1];
    ``chunks``: (rows, cols) of the windows read at once (memory: rows x cols x years x
    the 2 quantities x 4 bytes, plus the kernel's pairwise block, :data:`.trends.PAIR_BUDGET`);
    ``generated_note``: set when the inputs are generated (tagged in every grid).
    Returns {"npp_slope": path, "npp_p": ..., "nep_slope": ..., "nep_p": ...}.
    """
    years = sorted(grids)
    out = trend_folder(folder)
    out.mkdir(parents=True, exist_ok=True)
    grid = _grid_of(grids[years[0]][GRID_QUANTITIES[0]])
    wins = windows(grid, chunks)
    factors = overview_factors(grid.width, grid.height, chunks)
    names = [f"{q}_{kind}" for q in GRID_QUANTITIES for kind in ("slope", "p")]
    files = {f"{n}.tif": (out / f".{n}.tmp.tif", 1) for n in names}
    for tmp, count in files.values():
        create_tiled(tmp, grid, count, factors)
    target = GridTarget([(str(tmp), 1) for tmp, _ in files.values()], None, factors)
    sources = {q: [rasterio.open(grids[y][q]) for y in years] for q in GRID_QUANTITIES}
    try:
        for rows, cols in wins:
            w = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
            layers = []
            for q in GRID_QUANTITIES:
                x = np.stack([src.read(1, window=w, masked=True).filled(np.nan)
                              .astype(np.float32) for src in sources[q]])
                r = trend(x, years, min_years=min_years)
                layers += [r.slope, r.p_value]
            target[(slice(0, len(names)), rows, cols)] = np.stack(layers).astype(np.float32)
    finally:
        for srcs in sources.values():
            for src in srcs:
                src.close()
    span = f"{years[0]}-{years[-1]} ({len(years)} years)"

    def tags_of(name):
        quantity, kind = name.rsplit("_", 1)
        tags = {"quantity": name, "of": f"annual {quantity} [g C m-2 yr-1]",
                "statistic": "Theil-Sen slope" if kind == "slope" else "Mann-Kendall p-value",
                "units": SLOPE_UNITS if kind == "slope" else P_UNITS, "years": span,
                "min_years": str(min_years), "study": study_name, "nodata": f"{NODATA:g}",
                "method": METHOD, "software": f"carbon-balance {__version__}"}
        if generated_note is not None:
            tags["generated_inputs"] = "true: " + (generated_note or "generated inputs")
        return tags

    return write_cogs(files, out, factors, tags_of)


def _units_of(quantity: str, basis: str) -> str:
    if quantity in ("cbi", "ecc", "esc"):
        return "yr-1"
    if quantity == "cb_t":
        return f"t {basis} yr-1"
    return "t CO2 yr-1"


def _level_trends(table: pd.DataFrame, *, level: str, id_col: str | None, name_col: str | None,
                  quantities, basis: str, min_years: int) -> pd.DataFrame:
    """The rows of one level: one per entity and quantity, the years on axis 0."""
    t = table.copy()
    t["_id"] = t[id_col].astype(str) if id_col else level
    t["_name"] = t[name_col].astype(str) if name_col else level
    years = sorted(int(y) for y in t["year"].unique())
    ids = list(dict.fromkeys(t["_id"]))
    names = t.drop_duplicates("_id").set_index("_id")["_name"]
    parts = []
    for q in [q for q in quantities if q in t]:
        wide = (t.assign(year=t["year"].astype(int))
                .pivot_table(index="year", columns="_id", values=q, aggfunc="first", dropna=False)
                .reindex(index=years, columns=ids))
        x = wide.to_numpy(dtype=float, copy=True)
        x[~np.isfinite(x)] = np.nan          # CBI of a CS <= 0 is missing, not infinite
        r = trend(x, years, min_years=min_years)
        parts.append(pd.DataFrame({
            "level": level, "unit_id": ids, "name": [names[i] for i in ids], "quantity": q,
            "units": _units_of(q, basis), "year_from": years[0], "year_to": years[-1],
            "n_years": r.n_years.astype(int), "slope_per_yr": r.slope, "p_value": r.p_value,
            "tau": r.tau, "mk_s": r.s, "mk_z": r.z,
            "significant": np.nan_to_num(r.p_value, nan=1.0) < ALPHA,
            "direction": direction(r.s)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TREND_COLUMNS)


def unit_trends(units: pd.DataFrame, groups: pd.DataFrame | None, region: pd.DataFrame | None,
                *, basis: str = "CO2", min_years: int = MIN_YEARS) -> pd.DataFrame:
    """``tables/trends.csv``: per unit, group and region (level), for CE, CS, CB, CBI and
    (units only) ECC and ESC: Theil–Sen slope [unit of the quantity per yr], Mann–Kendall
    p-value, tau, S, Z, the number of years with a value, ``significant`` (p < 0.05) and
    ``direction`` (the sign of S). Columns :data:`TREND_COLUMNS`."""
    parts = [_level_trends(units, level="unit", id_col="unit_id", name_col="name",
                           quantities=UNIT_QUANTITIES, basis=basis, min_years=min_years)]
    if groups is not None and len(groups):
        parts.append(_level_trends(groups, level="group", id_col="group", name_col="group",
                                   quantities=AGGREGATE_QUANTITIES, basis=basis,
                                   min_years=min_years))
    if region is not None and len(region):
        parts.append(_level_trends(region, level="region", id_col=None, name_col=None,
                                   quantities=AGGREGATE_QUANTITIES, basis=basis,
                                   min_years=min_years))
    return pd.concat(parts, ignore_index=True)[TREND_COLUMNS]


def has_trends(years) -> bool:
    """Whether a study with these years gets trend outputs (at least MIN_YEARS)."""
    return len(years) >= MIN_YEARS


def write_trends(study, folder: Path, grids: dict[int, dict[str, Path]]) -> dict[str, Path]:
    """The trend grids and ``tables/trends.csv`` of a study whose grids and unit tables
    are in ``folder`` (``run``); nothing, with one INFO line, below MIN_YEARS years.
    Returns {name: path} of what was written."""
    s = study.study
    if not has_trends(s.years):
        log.info("trends: not computed: the study has %d year(s), fewer than the %d that "
                 "Theil-Sen slopes and Mann-Kendall tests need (docs/trends.md)",
                 len(s.years), MIN_YEARS)
        return {}
    folder = Path(folder)
    generated = (s.generated_note or "") if s.generated_inputs else None
    with progress.stage("trends", total=2, unit="steps"):
        progress.item("trend grids")
        written = write_trend_grids(folder, grids, chunks=chunk_shape(study),
                                    study_name=s.name, generated_note=generated)
        progress.item("unit trends")
        tables = folder / "tables"
        read = lambda n: (pd.read_csv(tables / f"{n}.csv", dtype={"unit_id": str, "group": str,
                                                                  "name": str})
                          if (tables / f"{n}.csv").exists() else None)
        units = read("units")
        if units is not None:
            df = unit_trends(units, read("groups"), read("region"), basis=study.zoning.basis)
            df.to_csv(tables / "trends.csv", index=False)
            written["trends"] = tables / "trends.csv"
    log.info("trends over %d years (%d-%d): grids/trends/*.tif, tables/trends.csv",
             len(s.years), min(s.years), max(s.years))
    return written
