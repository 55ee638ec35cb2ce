"""Column headers with units for the tables of an output folder (docs/developing.md)."""

from __future__ import annotations

#: Header of each known column; "{basis}" is the unit of CB (t CO2 or t C).
COLUMN_LABELS: dict[str, str] = {
    "unit_id": "Unit id", "name": "Unit", "group": "Group", "year": "Year",
    "level": "Level", "quantity": "Quantity", "method": "Method", "mode": "Mode",
    "area_km2": "Area [km²]", "vegetated_area_km2": "Vegetated area [km²]",
    "npp_mean_g_c_m2": "Mean NPP [g C m⁻² yr⁻¹]", "nep_mean_g_c_m2": "Mean NEP [g C m⁻² yr⁻¹]",
    "cs_t_c": "CS [t C]", "cs_t_co2": "CS [t CO₂]", "ce_t_co2": "CE [t CO₂]",
    "ce_t_c": "CE [t C]", "ce_low_t_co2": "CE 95 % low [t CO₂]",
    "ce_high_t_co2": "CE 95 % high [t CO₂]", "ce_estimated": "CE estimated [true/false]",
    "ce_method": "CE method", "gdp_yuan": "GDP [yuan]",
    "gdp_estimated": "GDP estimated [true/false]", "cb_t": "CB = CE − CS [{basis}]",
    "cbi": "CBI = CE/CS [–]", "ecc": "ECC [–]", "esc": "ESC [–]",
    "budget_state": "Budget state", "zone": "Zone", "zone_reason": "Zone reason",
    "basis": "Basis", "year_from": "From year", "year_to": "To year",
    "value_from": "Value from [unit of the quantity]",
    "value_to": "Value to [unit of the quantity]", "change_percent": "Change [%]",
    "n_units": "Units [count]", "share_percent": "Area share [%]", "zone_from": "Zone from",
    "zone_to": "Zone to", "mape_percent": "MAPE [%]", "holdout_years": "Held-out years",
    "moran_i": "Moran's I [–]", "expected_i": "E[I] [–]", "z": "z (permutation) [–]",
    "p_sim": "p (permutation) [–]", "permutations": "Permutations [count]",
    "n_islands": "Islands [count]", "local_i": "Local I [–]", "cluster": "LISA cluster",
    "code": "Class code", "ndvi_min": "NDVI min [–]", "ndvi_max": "NDVI max [–]",
    "n_pixels": "Pixels [count]", "path": "File", "sha256": "sha256", "bytes": "Size [bytes]",
    "probability": "Probability [–]",
    "valid_fraction": "Valid share of vegetated area [–]",
    "low_valid_fraction": "Valid share below 95 % [true/false]",
    "pool": "Bounds pool", "pool_years": "Pooled years", "pool_area": "Pooled cells",
    # tables/attribution.csv, attribution_groups.csv
    "from_year": "From year", "to_year": "To year", "cs_change_t_c": "CS change [t C]",
    "ndvi_t_c": "NDVI [t C]", "temperature_t_c": "Temperature [t C]",
    "precipitation_t_c": "Precipitation [t C]", "radiation_t_c": "Radiation [t C]",
    "land_cover_t_c": "Land cover [t C]", "interaction_t_c": "Interaction [t C]",
    "cs_from_t_c": "CS of the first year [t C]", "ce_change_t_co2": "CE change [t CO₂]",
    "cb_change_t": "CB change = CE change − CS change [{basis}]",
    # tables/trends.csv (analysis/trend_outputs.py, docs/trends.md)
    "units": "Unit of the quantity", "n_years": "Years with a value [count]",
    "slope_per_yr": "Theil–Sen slope [unit of the quantity per yr]",
    "p_value": "Mann–Kendall p (two-sided) [–]", "tau": "Kendall's τ [–]",
    "mk_s": "Mann–Kendall S [–]", "mk_z": "Mann–Kendall Z [–]",
    "significant": "p < 0.05 [true/false]", "direction": "Direction (sign of S)",
}

_TEXT_COLUMNS = {"unit_id", "name", "group", "level", "quantity", "method", "mode",
                 "ce_method", "budget_state", "zone", "zone_reason", "basis", "zone_from",
                 "zone_to", "holdout_years", "cluster", "path", "sha256", "ce_estimated",
                 "gdp_estimated", "units", "significant", "direction"}


def column_label(column: str, basis_unit: str = "t CO2") -> str:
    """Header text of ``column`` with its unit in brackets (unknown columns: their name)."""
    unit = basis_unit.replace("CO2", "CO₂")
    return COLUMN_LABELS.get(column, column).replace("{basis}", unit)


def is_numeric_column(column: str) -> bool:
    """Whether the column holds numbers (right-aligned in the report)."""
    return column not in _TEXT_COLUMNS
