"""Grid engine: read, align and unit-convert a study's rasters, run CASA chunk by chunk
and write NPP, Rh and NEP as Cloud Optimized GeoTIFFs (``carbon-balance nep``).

Modules, by job: :mod:`.study_grid` (the study grid and its chunks), :mod:`.files`,
:mod:`.readers` and :mod:`.conversions` (reading and aligning the inputs, unit
conversion), :mod:`.raster_checks` (raster problems), :mod:`.bounds` and :mod:`.percentiles`
(the NDVI bounds: one histogram reduction), :mod:`.evaluate` (the CASA kernel over
blocks, numpy or dask), :mod:`.writers` (COGs), :mod:`.runner` (scheduler and progress)
and :mod:`.nep` (the command).
"""
