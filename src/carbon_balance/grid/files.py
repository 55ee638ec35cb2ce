"""GDAL names of the study's input files (GeoTIFF, or a variable of a NetCDF file)."""

from __future__ import annotations

from pathlib import Path

import rasterio

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")


def gdal_name(path: str | Path, variable: str | None = None) -> str:
    """The name GDAL opens: ``NETCDF:"file.nc":variable`` for a NetCDF variable."""
    path = str(path)
    if variable and path.lower().endswith(NETCDF_SUFFIXES):
        return f'NETCDF:"{path}":{variable}'
    return path


def netcdf_variable(path: str | Path, variable: str | None) -> str | None:
    """The NetCDF variable to read: the declared one, or the only gridded one in the file."""
    if variable or not str(path).lower().endswith(NETCDF_SUFFIXES):
        return variable
    with rasterio.open(path) as src:
        subs = src.subdatasets
    if not subs:
        return None
    names = [s.rsplit(":", 1)[-1] for s in subs]
    if len(names) == 1:
        return names[0]
    raise ValueError(f"the NetCDF file holds several variables ({', '.join(names)})")


#: CF spellings of the units of longitude and latitude coordinates (CF-1.8 sections 4.1, 4.2).
_LON_UNITS = {"degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese"}
_LAT_UNITS = {"degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn"}


def source_crs(src):
    """The CRS of an open raster; for a NetCDF variable on CF longitude/latitude coordinates
    without a grid mapping (ERA5, CRU, TerraClimate and most climate NetCDFs), WGS 84.

    CF-1.8 section 4.1-4.2: coordinates with units ``degrees_east``/``degrees_north`` are
    longitude and latitude; with no ``grid_mapping`` the datum is unstated, and WGS 84
    (EPSG:4326) is what GDAL, CDO and QGIS assume for them. Anything else without a CRS
    stays without one (the checks refuse it).
    """
    if src.crs is not None or src.driver != "netCDF":
        return src.crs
    tags = {k.lower(): str(v).lower() for k, v in src.tags().items()}
    units = {v for k, v in tags.items() if k.endswith("#units")}
    if units & _LON_UNITS and units & _LAT_UNITS:
        from rasterio.crs import CRS

        return CRS.from_epsg(4326)
    return None
