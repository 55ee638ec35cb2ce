"""The per-unit, group and region tables of a run: ``units.csv``, ``groups.csv``,
``region.csv`` and ``units.gpkg`` (docs/developing.md, output folder contract)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import CO2_PER_C, M2_PER_KM2, T_PER_G

log = logging.getLogger(__name__)

UNITS_COLUMNS = ["unit_id", "name", "group", "year", "area_km2", "npp_mean_g_c_m2",
                 "nep_mean_g_c_m2", "cs_t_c", "cs_t_co2", "ce_t_co2", "ce_estimated", "gdp_yuan",
                 "cb_t", "cbi", "ecc", "esc", "budget_state", "zone", "basis", "ce_method",
                 "ce_low_t_co2", "ce_high_t_co2", "gdp_estimated", "vegetated_area_km2",
                 "zone_reason", "valid_fraction", "low_valid_fraction"]
AGG_COLUMNS = ["year", "n_units", "area_km2", "cs_t_c", "cs_t_co2", "ce_t_co2", "gdp_yuan",
               "cb_t", "cbi", "budget_state", "basis", "esc_usable"]


#: zone_reason of a unit whose cells are all nodata in the NEP grid.
NO_VALID_PIXELS = "no valid pixels: every cell of the unit is nodata in the NEP grid"


def units_table(units, carbon: pd.DataFrame, emissions: pd.DataFrame, gdp: pd.DataFrame, *,
                basis: str = "CO2", ecc_threshold: float = 1.0, esc_threshold: float = 1.0,
                min_valid_fraction: float = 0.95) -> pd.DataFrame:
    """Assemble ``units.csv`` (docs/developing.md column order) and compute the indicators.

    ``valid_fraction`` (from :func:`~carbon_balance.accounting.zonal.zonal_carbon`): share
    of the unit's vegetated area with a valid NEP; ``low_valid_fraction`` is True below
    ``min_valid_fraction`` (the unit's CS misses the carbon of the cells without data)."""
    from ..balance import UNCLASSIFIED, indicators

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
    if "valid_fraction" not in t:
        t["valid_fraction"] = np.nan
    # NaN (no vegetated area) is not flagged: there is nothing to miss
    t["low_valid_fraction"] = t["valid_fraction"].to_numpy(float) < min_valid_fraction
    order = {u: i for i, u in enumerate(units.unit_id)}
    t = t.sort_values(["year", "unit_id"], key=lambda s: s.map(order) if s.name == "unit_id" else s)
    return t[UNITS_COLUMNS].reset_index(drop=True)


def aggregate_tables(table: pd.DataFrame, basis: str) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """groups.csv and region.csv rows: sums; CB = sum CE - sum CS, CBI = sum CE / sum CS."""
    from ..balance import aggregate

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


def write_units_gpkg(path: Path, units, table: pd.DataFrame) -> Path:
    """units.gpkg: one layer ``units_{year}`` of polygons with the units.csv columns, one
    layer ``units`` of all years (``year``, ``date``: QGIS's temporal controller), each
    with the zone colours as its default QGIS style (``layer_styles``)."""
    from ..qgis_styles import style_units_gpkg, write_time_layer
    from ..reproducible import fixed_gpkg_dates

    geo = units[["unit_id", "geometry"]]
    with fixed_gpkg_dates():   # byte-identical reruns (GDAL stamps each layer's last change)
        for year, rows in table.groupby("year", sort=True):
            layer = geo.merge(rows, on="unit_id", how="inner")
            layer.to_file(path, layer=f"units_{year}", driver="GPKG", engine="pyogrio")
        write_time_layer(path, geo.merge(table, on="unit_id", how="inner"))
        style_units_gpkg(path)
    return path
