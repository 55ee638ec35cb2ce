"""Grid engine: read, align and unit-convert a study's rasters, run CASA chunk by chunk
and write NPP, Rh and NEP as Cloud Optimized GeoTIFFs (``carbon-balance nep``).

Modules: :mod:`.template` (the study grid), :mod:`.readers` and :mod:`.units` (inputs),
:mod:`.checks` (raster problems), :mod:`.percentiles` (exact streaming NDVI bounds),
:mod:`.compute` (the kernel over dask chunks), :mod:`.cog` (writing), :mod:`.pipeline`.
"""

import os as _os

#: GDAL's block cache [MB]. Inputs are read once, window by window, so a large cache only
#: inflates memory (GDAL's default is 5 % of RAM); set GDAL_CACHEMAX to override.
GDAL_CACHE_MB = 128
_os.environ.setdefault("GDAL_CACHEMAX", str(GDAL_CACHE_MB))
