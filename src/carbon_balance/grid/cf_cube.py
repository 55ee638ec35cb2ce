"""The annual grids of an output folder as one CF-1.8 NetCDF cube (``run --format netcdf``).

``grids/carbon.nc`` holds NPP, Rh and NEP with dimensions (time, y, x): one time step per
study year, with ``time_bnds`` spanning the year; each variable has its CF
``standard_name``, ``units``, ``cell_methods`` and ``grid_mapping`` (the study grid's CRS),
so xarray (``decode_cf``), QGIS and GDAL read it with its georeferencing and units.

The cube is written from the COGs already on disk, chunk by chunk through dask, so its
memory is that of a few chunks whatever the grid's size.

Units: the COGs say ``g C m-2 yr-1``; CF units must be UDUNITS strings, which have no
"C", so the cube says ``g m-2 yr-1`` and the standard names carry the element
("..._expressed_as_carbon", "..._carbon_flux"). The standard names are those of the
CMIP6 land variables ``npp``, ``rh`` and ``nep`` (CF standard name table; canonical units
kg m-2 s-1, to which g m-2 yr-1 converts).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import xarray as xr

from .. import __version__

#: CF attributes of each annual quantity (CF standard name table, as used for CMIP6's
#: Lmon/Eyr ``npp``, ``rh``, ``nep``).
CF_VARIABLES = {
    "npp": {"standard_name": "net_primary_productivity_of_biomass_expressed_as_carbon",
            "long_name": "net primary productivity (improved CASA)"},
    "rh": {"standard_name": "heterotrophic_respiration_carbon_flux",
           "long_name": "heterotrophic respiration (Pei et al. 2009)"},
    "nep": {"standard_name": "surface_net_downward_mass_flux_of_carbon_dioxide_expressed_as_"
                             "carbon_due_to_all_land_processes_excluding_anthropogenic_land_"
                             "use_change",
            "long_name": "net ecosystem productivity (NPP - Rh)"},
}
#: UDUNITS spelling of g C m-2 yr-1 (the element is in the standard name).
CF_UNITS = "g m-2 yr-1"
CF_FILL = np.float32(-9999.0)
CUBE_NAME = "carbon.nc"


def _year_grids(folder: Path, years: list[int], quantity: str, chunks: int):
    """(time, y, x) DataArray of one quantity, and the grids' CRS."""
    import rioxarray

    layers = []
    for year in years:
        da = rioxarray.open_rasterio(folder / "grids" / str(year) / f"{quantity}.tif",
                                     chunks={"x": chunks, "y": chunks}, masked=True)
        layers.append(da.squeeze("band", drop=True))
    crs = layers[0].rio.crs
    return xr.concat(layers, dim="time").drop_vars("spatial_ref", errors="ignore"), crs


def cf_cube(folder: str | Path, years: list[int], *, study_name: str = "",
            generated_note: str | None = None, chunks: int = 1024) -> xr.Dataset:
    """The lazy CF dataset of the annual NPP, Rh and NEP grids of ``folder`` [g C m-2 yr-1].

    ``generated_note``: when the inputs are generated, said in the global attributes.
    """
    folder = Path(folder)
    years = [int(y) for y in years]
    ds = xr.Dataset()
    for quantity, attrs in CF_VARIABLES.items():
        da, crs = _year_grids(folder, years, quantity, chunks)
        da = da.astype("float32")
        da.attrs = {**attrs, "units": CF_UNITS,
                    "cell_methods": "area: mean time: mean (annual total of 12 monthly values)"}
        ds[quantity] = da
    start = [dt.datetime(y, 1, 1) for y in years]
    end = [dt.datetime(y + 1, 1, 1) for y in years]
    mid = [a + (b - a) / 2 for a, b in zip(start, end)]
    ds = ds.assign_coords(time=("time", np.array(mid, dtype="datetime64[ns]")))
    ds["time_bnds"] = (("time", "nv"), np.array([start, end], dtype="datetime64[ns]").T)
    ds["time"].attrs = {"standard_name": "time", "bounds": "time_bnds", "axis": "T"}
    ds = ds.rio.write_crs(crs)   # grid_mapping variable (spatial_ref) on every data variable
    for name in ("x", "y"):
        ds[name].attrs.update({"axis": name.upper()})
    if crs is not None and crs.is_geographic:
        ds["x"].attrs.update(standard_name="longitude", units="degrees_east")
        ds["y"].attrs.update(standard_name="latitude", units="degrees_north")
    else:
        ds["x"].attrs.update(standard_name="projection_x_coordinate", units="m")
        ds["y"].attrs.update(standard_name="projection_y_coordinate", units="m")
    ds.attrs = {"Conventions": "CF-1.8",
                "title": f"{study_name}: annual NPP, Rh and NEP" if study_name
                else "annual NPP, Rh and NEP",
                "source": f"carbon-balance {__version__}, improved CASA model "
                          "(Fan et al. 2024, Land 13:297, doi:10.3390/land13030297)",
                "history": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ} "
                           "written from the grids/{year}/*.tif of this folder"}
    if generated_note is not None:
        ds.attrs["comment"] = "GENERATED INPUTS: " + (generated_note or "some inputs are generated")
    return ds


def write_cf_cube(folder: str | Path, years: list[int], *, study_name: str = "",
                  generated_note: str | None = None, chunks: int = 1024) -> Path:
    """Write ``folder/grids/carbon.nc`` (:func:`cf_cube`), compressed, chunked like the
    grids; atomically (a reader never sees half a file)."""
    folder = Path(folder)
    ds = cf_cube(folder, years, study_name=study_name, generated_note=generated_note,
                 chunks=chunks)
    ny, nx = ds.sizes["y"], ds.sizes["x"]
    encoding = {q: {"zlib": True, "complevel": 4, "_FillValue": CF_FILL, "dtype": "float32",
                    "chunksizes": (1, min(ny, 512), min(nx, 512)),
                    # write_crs put the grid mapping's name in each variable's encoding,
                    # which this dict replaces
                    "grid_mapping": ds[q].encoding.get("grid_mapping", "spatial_ref")}
                for q in CF_VARIABLES}
    since = f"hours since {int(min(years))}-01-01 00:00:00"
    for name in ("time", "time_bnds"):
        encoding[name] = {"units": since, "calendar": "standard", "dtype": "int64"}
    path = folder / "grids" / CUBE_NAME
    tmp = path.with_name(f".{CUBE_NAME}.partial")
    ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    os.replace(tmp, path)
    return path
