"""CASA net primary productivity, heterotrophic respiration and NEP (METHOD.md sections 1-2).

Pure, vectorised array functions. Monthly inputs have the 12 months on axis 0 (numpy) or
on a ``month`` dimension (xarray; ``time`` of length 12 also works) and any spatial
shape; NaN is nodata; float32 and float64 both work; xarray and dask inputs give
DataArrays with coordinates, ``units`` and chunks (:mod:`.xarray_api`). Every constant
is a field of :class:`CasaParameters`, overridable per call. No I/O beyond the packaged
class tables. Method: Fan et al. 2024, Land 13:297, doi:10.3390/land13030297;
Potter et al. 1993, doi:10.1029/93GB02725; Zhu et al. 2007, J. Plant Ecol. 31:413.
"""

from .fpar import fpar, percentile_bounds, simple_ratio, table_bounds
from .model import annual_carbon, annual_nep, monthly_npp
from .parameters import CASA_PARAMETERS, DEFAULT_PARAMETERS, CasaParameters, resolve_parameters
from .reference import reference_carbon
from .respiration import heterotrophic_respiration
from .tables import load_class_table, to_casa_codes, vegetation_types
from .temperature import optimum_temperature, te1, te2, temperature_stress
from .water import actual_evapotranspiration, heat_index, thornthwaite_pet, water_stress

__all__ = [
    "CASA_PARAMETERS", "CasaParameters", "DEFAULT_PARAMETERS",
    "actual_evapotranspiration", "annual_carbon", "annual_nep", "fpar", "heat_index",
    "heterotrophic_respiration", "load_class_table", "monthly_npp", "optimum_temperature",
    "percentile_bounds", "reference_carbon", "resolve_parameters", "simple_ratio",
    "table_bounds", "te1", "te2", "temperature_stress", "thornthwaite_pet", "to_casa_codes",
    "vegetation_types", "water_stress",
]
