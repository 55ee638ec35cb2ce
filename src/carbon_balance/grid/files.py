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
