"""Changes over time, zone area shares and zone transitions (METHOD.md section 6).

    change [%] = (v2 - v1) / |v1| x 100          (NaN when v1 = 0 or either is NaN)
    zone share [%] = sum area of the units in a zone / sum area of all units x 100
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..balance import ZONES

CHANGE_COLUMNS = ["level", "unit_id", "name", "quantity", "year_from", "year_to",
                  "value_from", "value_to", "change_percent"]
UNIT_QUANTITIES = ("cs_t_c", "cs_t_co2", "ce_t_co2", "gdp_yuan", "cb_t", "cbi", "ecc", "esc",
                   "npp_mean_g_c_m2", "nep_mean_g_c_m2")
AGGREGATE_QUANTITIES = ("cs_t_c", "cs_t_co2", "ce_t_co2", "gdp_yuan", "cb_t", "cbi")


def change_percent(v1, v2) -> np.ndarray:
    """(v2 - v1) / |v1| x 100 [%]; NaN when v1 is 0 or NaN."""
    v1, v2 = np.asarray(v1, float), np.asarray(v2, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v1 != 0, (v2 - v1) / np.abs(v1) * 100, np.nan)


def year_pairs(years) -> list[tuple[int, int]]:
    """Consecutive pairs and, when there are more than two years, first -> last."""
    years = sorted(int(y) for y in years)
    pairs = list(zip(years[:-1], years[1:]))
    if len(years) > 2:
        pairs.append((years[0], years[-1]))
    return pairs


def changes(table: pd.DataFrame, *, level: str, quantities, id_col: str | None,
            name_col: str | None) -> pd.DataFrame:
    """Long table of changes of ``quantities`` per entity between the study's year pairs."""
    quantities = [q for q in quantities if q in table.columns]
    rows = []
    keys = [id_col] if id_col else []
    groups = table.groupby(keys, sort=False) if keys else [((None,), table)]
    for key, g in groups:
        g = g.set_index("year")
        uid = key[0] if isinstance(key, tuple) else key
        name = g[name_col].iloc[0] if name_col and name_col in g else (uid if uid else level)
        for y1, y2 in year_pairs(g.index.unique()):
            for q in quantities:
                v1, v2 = float(g.at[y1, q]), float(g.at[y2, q])
                rows.append((level, uid if uid is not None else level, name, q, y1, y2, v1, v2,
                             float(change_percent(v1, v2))))
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def all_changes(units: pd.DataFrame, groups: pd.DataFrame | None, region: pd.DataFrame) -> pd.DataFrame:
    """Changes for units, groups (if any) and the region, in one table."""
    parts = [changes(units, level="unit", quantities=UNIT_QUANTITIES, id_col="unit_id",
                     name_col="name")]
    if groups is not None and len(groups):
        parts.append(changes(groups, level="group", quantities=AGGREGATE_QUANTITIES,
                             id_col="group", name_col="group"))
    parts.append(changes(region, level="region", quantities=AGGREGATE_QUANTITIES, id_col=None,
                         name_col=None))
    return pd.concat(parts, ignore_index=True)


def zone_shares(units: pd.DataFrame) -> pd.DataFrame:
    """Per year and zone: number of units, area [km2] and share of the total area [%]."""
    rows = []
    for year, g in units.groupby("year", sort=True):
        total = g["area_km2"].sum()
        for z in ZONES:
            sel = g[g["zone"] == z]
            area = float(sel["area_km2"].sum())
            rows.append((int(year), z, len(sel), area, area / total * 100 if total > 0 else np.nan))
    return pd.DataFrame(rows, columns=["year", "zone", "n_units", "area_km2", "share_percent"])


def zone_transitions(units: pd.DataFrame) -> pd.DataFrame:
    """Zone transitions between consecutive study years, by number of units and area [km2].

    Only observed transitions (n_units > 0) are listed; the area is that of the later year.
    """
    years = sorted(units["year"].unique())
    rows = []
    for y1, y2 in zip(years[:-1], years[1:]):
        a = units[units.year == y1].set_index("unit_id")
        b = units[units.year == y2].set_index("unit_id")
        common = a.index.intersection(b.index)
        pair = pd.DataFrame({"zone_from": a.loc[common, "zone"], "zone_to": b.loc[common, "zone"],
                             "area_km2": b.loc[common, "area_km2"]})
        agg = pair.groupby(["zone_from", "zone_to"]).agg(n_units=("area_km2", "size"),
                                                         area_km2=("area_km2", "sum")).reset_index()
        for r in agg.itertuples(index=False):
            rows.append((int(y1), int(y2), r.zone_from, r.zone_to, int(r.n_units), float(r.area_km2)))
    return pd.DataFrame(rows, columns=["year_from", "year_to", "zone_from", "zone_to", "n_units",
                                       "area_km2"])
