"""Spatial autocorrelation of unit results: global Moran's I and local Moran (LISA).

METHOD.md section 6: queen contiguity, row-standardised weights, permutation p-values with
a fixed seed, so that the same inputs always give the same tables.

References
----------
Moran P.A.P. (1950) Notes on continuous stochastic phenomena. Biometrika 37:17-23,
https://doi.org/10.2307/2332142 · Anselin L. (1995) Local indicators of spatial
association - LISA. Geographical Analysis 27:93-115,
https://doi.org/10.1111/j.1538-4632.1995.tb00338.x · Rey S.J., Anselin L. (2010) PySAL,
https://doi.org/10.1007/978-3-642-03647-7_11 (esda, libpysal) · Benjamini Y., Hochberg Y.
(1995) Controlling the false discovery rate. J. R. Stat. Soc. B 57:289-300,
https://doi.org/10.1111/j.2517-6161.1995.tb02031.x · Caldas de Castro M., Singer B.H.
(2006) Controlling the false discovery rate: a new application to account for multiple
and dependent tests in local statistics of spatial association. Geographical Analysis
38:180-208, https://doi.org/10.1111/j.0016-7363.2006.00682.x
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: Default seed of the permutation tests (the study's DOI numbers: Land 13:297, 2024).
SEED = 20240297
#: Significance level below which a local Moran's I gets a cluster label.
ALPHA = 0.05
#: esda's quadrant codes (1 HH, 2 LH, 3 LL, 4 HL) as the cluster labels of the tables.
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
NOT_SIGNIFICANT = "not significant"
#: Fewer units than this in a test draw a warning (log and report): a permutation test on
#: a handful of units has little power, and each LISA value rests on 2-5 neighbours.
MIN_UNITS = 20
#: ``significance`` of the global table: how the cluster labels were decided.
FDR_METHOD = "fdr_bh"
GLOBAL_COLUMNS = ["quantity", "year", "moran_i", "expected_i", "z", "p_sim", "permutations",
                  "n_units", "n_islands", "significance"]
LOCAL_COLUMNS = ["unit_id", "name", "quantity", "year", "local_i", "p_sim", "p_fdr",
                 "cluster"]
#: Decimals kept in the tables (far below the permutation noise of 999 draws).
DECIMALS = 6


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """esda's global Moran draws from numpy's global generator: seed it, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def queen_weights(polygons, ids: Sequence[str]):
    """Row-standardised queen contiguity weights of ``polygons`` (a GeoDataFrame)."""
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands; handled by the caller
        w = Queen.from_dataframe(polygons.reset_index(drop=True), ids=list(ids),
                                 use_index=False, silence_warnings=True)
    return w


def local_moran_p_sim(z: np.ndarray, w, observed: np.ndarray, *, permutations: int,
                      seed: int) -> np.ndarray:
    """Pseudo p-values of local Moran's I by conditional randomisation (Anselin 1995).

    The algorithm of ``esda.crand`` (which ``esda.Moran_Local`` uses), vectorised with
    numpy: for each unit i the value z_i is held fixed and its k_i neighbours are replaced
    by k_i values drawn without replacement from the other n - 1 units, ``permutations``
    times; one draw of positions is shared by all units, as in esda. The p-value is
    folded as esda's default (``alternative="directed"``): (min(#sim >= I_i,
    #sim < I_i) + 1) / (permutations + 1). esda's own kernels are numba code that takes
    30-50 s to compile in every new process, longer than a whole demo run on tens of units.

    Parameters
    ----------
    z : standardised values (y - mean) / std [-], shape (n,)
    w : libpysal W, row-standardised, without islands
    observed : local Moran's I of each unit [-] (``esda.Moran_Local(...).Is``)
    """
    n = z.size
    scaling = (n - 1) / float(z @ z)
    sparse = w.sparse.tocsr()
    cards = np.diff(sparse.indptr)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((permutations, n - 1)), axis=1)[:, : int(cards.max())]
    p = np.empty(n)
    for i in range(n):
        k = cards[i]
        weights = sparse.data[sparse.indptr[i]: sparse.indptr[i + 1]]
        drawn = order[:, :k]
        drawn = drawn + (drawn >= i)  # positions among the others: skip unit i itself
        sims = z[i] * (z[drawn] @ weights) * scaling
        larger = int(np.sum(sims >= observed[i]))
        larger = min(larger, permutations - larger)
        p[i] = (larger + 1) / (permutations + 1)
    return p


def fdr_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values [-] of ``p`` (NaN stays NaN).

    A cluster labelled where the adjusted value is below alpha keeps the expected share
    of false clusters among all labelled ones at alpha (Benjamini and Hochberg 1995),
    where the unadjusted rule labels about alpha x n units of a random map.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=FDR_METHOD)[1]
    return out


def _one(y: np.ndarray, ids: list[str], polygons, permutations: int, seed: int,
         alpha: float, fdr: bool) -> tuple[dict, dict[str, tuple], int]:
    """Global row and local results of one quantity and year (islands removed first)."""
    import esda

    w = queen_weights(polygons, ids)
    islands = set(w.islands)
    keep = [i for i, u in enumerate(ids) if u not in islands]
    nan_row = {"moran_i": np.nan, "expected_i": np.nan, "z": np.nan, "p_sim": np.nan}
    if len(keep) < 3 or np.nanstd(y[keep]) == 0:
        return nan_row, {}, len(islands)
    if islands:  # a unit without neighbours has no spatial lag: leave it out of the test
        polygons = polygons.iloc[keep]
        ids = [ids[i] for i in keep]
        y = y[keep]
        w = queen_weights(polygons, ids)
    w.transform = "r"
    with _seeded(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mi = esda.Moran(y, w, permutations=permutations)
        lisa = esda.Moran_Local(y, w, permutations=0)
    row = {"moran_i": float(mi.I), "expected_i": float(mi.EI),
           "z": float(mi.z_sim) if permutations else float(mi.z_norm),
           "p_sim": float(mi.p_sim) if permutations else float(mi.p_norm)}
    if permutations:
        p_sim = local_moran_p_sim(np.asarray(lisa.z, dtype=float).ravel(), w,
                                  np.asarray(lisa.Is, dtype=float),
                                  permutations=permutations, seed=seed)
    else:
        p_sim = np.full(len(ids), np.nan)
    p_fdr = fdr_adjust(p_sim)
    decide = p_fdr if fdr else p_sim
    local = {}
    for u, li, p, pf, d, q in zip(ids, lisa.Is, p_sim, p_fdr, decide, lisa.q):
        cluster = QUADRANTS[int(q)] if d < alpha else NOT_SIGNIFICANT
        local[u] = (float(li), float(p), float(pf), cluster)
    return row, local, len(islands)


def autocorrelation_tables(units_gdf, units_table: pd.DataFrame, *,
                           quantities: Sequence[str] = ("cb_t", "cbi"),
                           permutations: int = 999, seed: int = SEED,
                           alpha: float = ALPHA, fdr: bool = True,
                           min_units: int = MIN_UNITS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Global Moran's I and LISA of ``quantities`` for every year of ``units_table``.

    Parameters
    ----------
    units_gdf : GeoDataFrame with ``unit_id`` and polygons (one row per unit; a long
        table with several years is reduced to the first row of each unit)
    units_table : ``units.csv`` (unit_id, name, year and the quantities)
    quantities : columns to test, e.g. ``cb_t`` [basis unit] and ``cbi`` [-]
    permutations : conditional permutations for ``p_sim`` (0: analytical p, z under
        normality)
    seed : seed of every permutation test (each quantity and year starts from it, so a
        result does not depend on which others were computed)
    alpha : p-value below which a local statistic gets its HH/LL/HL/LH label
    fdr : decide the labels on the Benjamini-Hochberg adjusted p-value ``p_fdr`` over the
        units of each quantity and year (default; Caldas de Castro and Singer 2006); False:
        on ``p_sim`` unadjusted, as GeoDa's default map does
    min_units : fewer units in a test log a warning (the report repeats it)

    Returns
    -------
    (global_df, local_df) with the columns of ``spatial_global.csv`` (quantity, year,
    moran_i, expected_i, z, p_sim, permutations, n_units, n_islands, significance:
    ``fdr_bh`` or ``none``) and ``spatial_local.csv`` (unit_id, name, quantity, year,
    local_i, p_sim, p_fdr, cluster).
    Units without a finite value (CBI is undefined where CS <= 0) and islands (units with
    no queen neighbour among those with a value) are left out of the test; their local
    row has no statistic and ``cluster = "not significant"``. ``z`` is the permutation
    z-score (I - mean of the permuted I) / their standard deviation.
    """
    geo = units_gdf[["unit_id", "geometry"]].copy()
    geo["unit_id"] = geo["unit_id"].astype(str)
    geo = geo.drop_duplicates("unit_id").reset_index(drop=True)
    table = units_table.copy()
    table["unit_id"] = table["unit_id"].astype(str)
    missing = sorted(set(table["unit_id"]) - set(geo["unit_id"]))
    if missing:
        from ..errors import InputError

        raise InputError(f"units without a polygon: {', '.join(missing[:5])}", key="unit_id",
                         fix="the units table and the polygons must share their unit ids")
    global_rows, local_rows, few = [], [], []
    for quantity in quantities:
        if quantity not in table:
            log.warning("spatial autocorrelation: no column %s in the units table", quantity)
            continue
        for year, g in table.groupby("year", sort=True):
            g = g.drop_duplicates("unit_id")
            values = pd.to_numeric(g[quantity], errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(values)
            ids = g["unit_id"].to_numpy()[ok].tolist()
            polygons = geo.set_index("unit_id").loc[ids].reset_index()
            if len(ids) >= 3:
                row, local, n_islands = _one(values[ok], ids, polygons, permutations, seed,
                                             alpha, fdr)
            else:
                row, local, n_islands = ({"moran_i": np.nan, "expected_i": np.nan,
                                          "z": np.nan, "p_sim": np.nan}, {}, 0)
            global_rows.append({"quantity": quantity, "year": int(year), **row,
                                "permutations": int(permutations),
                                "n_units": len(ids) - n_islands, "n_islands": n_islands,
                                "significance": FDR_METHOD if fdr else "none"})
            if len(ids) - n_islands < min_units:
                few.append(f"{quantity} {int(year)}: {len(ids) - n_islands}")
            names = g["name"] if "name" in g else g["unit_id"]
            for u, name in zip(g["unit_id"], names):
                li, p, pf, cluster = local.get(u, (np.nan, np.nan, np.nan, NOT_SIGNIFICANT))
                local_rows.append({"unit_id": u, "name": name, "quantity": quantity,
                                   "year": int(year), "local_i": li, "p_sim": p,
                                   "p_fdr": pf, "cluster": cluster})
    if few:
        log.warning("spatial autocorrelation on fewer than %d units (%s): the tests have "
                    "little power; read Moran's I and the LISA clusters as descriptive",
                    min_units, ", ".join(few[:4]) + (" ..." if len(few) > 4 else ""))
    global_df = pd.DataFrame(global_rows, columns=GLOBAL_COLUMNS)
    local_df = pd.DataFrame(local_rows, columns=LOCAL_COLUMNS)
    for df, cols in ((global_df, ["moran_i", "expected_i", "z"]), (local_df, ["local_i", "p_fdr"])):
        df[cols] = df[cols].astype(float).round(DECIMALS)
    return global_df, local_df


def write_autocorrelation_tables(folder: str | Path, units_gdf, units_table: pd.DataFrame,
                                 **kwargs) -> tuple[Path, Path]:
    """Write ``tables/spatial_global.csv`` and ``tables/spatial_local.csv`` into ``folder``."""
    tables = Path(folder) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    global_df, local_df = autocorrelation_tables(units_gdf, units_table, **kwargs)
    paths = tables / "spatial_global.csv", tables / "spatial_local.csv"
    global_df.to_csv(paths[0], index=False)
    local_df.to_csv(paths[1], index=False)
    return paths
