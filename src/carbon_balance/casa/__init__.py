"""CASA net primary productivity, heterotrophic respiration and NEP (METHOD.md sections 1-2).

Pure, vectorised array functions: monthly inputs have the 12 months on axis 0 and any
spatial shape after it; NaN is nodata; float32 and float64 both work. No I/O beyond the
packaged class tables. Method: Fan et al. 2024, Land 13:297, doi:10.3390/land13030297;
Potter et al. 1993, doi:10.1029/93GB02725; Zhu et al. 2007, J. Plant Ecol. 31:413.
"""

from .fpar import fpar, percentile_bounds, simple_ratio, table_bounds
from .model import annual_carbon, annual_nep, monthly_npp
from .respiration import heterotrophic_respiration
from .tables import load_class_table, to_casa_codes, vegetation_types
from .temperature import optimum_temperature, temperature_stress
from .water import actual_evapotranspiration, thornthwaite_pet, water_stress

__all__ = [
    "actual_evapotranspiration", "annual_carbon", "annual_nep", "fpar",
    "heterotrophic_respiration", "load_class_table", "monthly_npp", "optimum_temperature",
    "percentile_bounds", "simple_ratio", "table_bounds", "temperature_stress",
    "thornthwaite_pet", "to_casa_codes", "vegetation_types", "water_stress",
]
