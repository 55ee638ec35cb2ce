"""Reading only the windows a study needs, onto the study grid.

COG assets (MODIS, ESA CCI) are read with odc-stac, which reprojects (e.g. from MODIS
sinusoidal) and mosaics tiles lazily on dask; NetCDF and Zarr assets (TerraClimate) with
xarray and rioxarray. Results are dask arrays (time, y, x) of raw values on one grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import Source
from .stac import item_period

#: Pixels per dask chunk edge. Memory is bounded by one block of every time step of a
#: year: 46 MODIS composites (Terra and Aqua) x 512 x 512 x (int16 NDVI + int8 quality
#: + float32 values) is about 100 MB.
CHUNK = 512


@dataclass(frozen=True)
class TargetGrid:
    """The study grid: CRS, resolution and the lon/lat box it covers."""

    bbox: tuple[float, float, float, float]
    crs: str
    resolution: float

    def geobox(self):
        from odc.geo.geobox import GeoBox

        return GeoBox.from_bbox(self.bbox, crs=self.crs, resolution=self.resolution,
                                tight=False) if self.crs in ("EPSG:4326", "epsg:4326") else \
            GeoBox.from_bbox(_bbox_in(self.bbox, self.crs), crs=self.crs,
                             resolution=self.resolution)


def _bbox_in(bbox, crs):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return t.transform_bounds(*bbox, densify_pts=21)


def load_cog(items, source: Source, grid: TargetGrid, *, asset: str | None = None,
             resampling: str | None = None, nodata: float | None = None):
    """Raw values of ``asset`` (default: the source's) on the grid: (dask array
    (time, y, x), [(start, end) of each time step]).

    ``nodata`` (default: the source's) is given to odc-stac explicitly: tiles of one day are
    mosaicked where the earlier tile is nodata, and the real collections' ``raster:bands``
    do not all declare it (MOD13A1 and MOD17A3HGF do not).
    """
    import odc.stac

    if asset is None:
        asset, nodata = source.asset, source.nodata
    geobox = grid.geobox()
    ds = odc.stac.load(items, bands=[asset], geobox=geobox, groupby="solar_day",
                       resampling=resampling or source.resampling,
                       chunks={"x": CHUNK, "y": CHUNK}, fail_on_error=True,
                       **({} if nodata is None else {"nodata": nodata}))
    # one time step per solar day (tiles of one composite are mosaicked); its period is
    # that of the item whose period holds the step's time (a solar day may be a calendar
    # day before or after the UTC date of the item's start)
    periods = sorted({item_period(it) for it in items})
    steps = [_period_of(t, periods) for t in ds.time.values]
    return ds[asset].data, steps


def _period_of(time, periods):
    """The (start, end) among ``periods`` that holds ``time`` (within a day), else the one
    starting nearest to it."""
    from .composite import to_datetime64 as naive

    t = np.datetime64(time, "s")
    day = np.timedelta64(1, "D")
    holding = [p for p in periods if naive(p[0]) - day <= t <= naive(p[1]) + day]
    pool = holding or periods
    return min(pool, key=lambda p: abs(naive(p[0]) - t))


def load_netcdf(items_or_assets, source: Source, grid: TargetGrid, year: int,
                open_kwargs: dict | None = None):
    """Raw (decoded, CF-unpacked) values of variable ``source.asset`` for the 12 months of
    ``year`` on the source's own lon/lat grid, clipped to the region plus two cells:
    (numpy (12, y, x), its GeoBox). They are not resampled here: ``run`` aligns them onto
    the study grid like any input, and a 4 km field is not stored at 500 m.

    ``items_or_assets``: hrefs of NetCDF files (one per year, TerraClimate's THREDDS
    layout) or of one Zarr store with every year (its ``xarray:open_kwargs``).
    """
    import xarray as xr

    frames = []
    for href in items_or_assets:
        kw = dict(open_kwargs or {})
        if not kw:
            kw = {"engine": "h5netcdf"}
        with xr.open_dataset(href, **kw) as ds:
            da = ds[source.asset]
            da = da.sel(time=da["time"].dt.year == year)
            lon, lat = _lonlat_names(da)
            w, s, e, n = grid.bbox
            pad = 2 * float(abs(da[lon][1] - da[lon][0]))
            da = da.sel({lon: slice(w - pad, e + pad)})
            lat_desc = bool(da[lat][0] > da[lat][-1])
            da = da.sel({lat: slice(n + pad, s - pad) if lat_desc else slice(s - pad, n + pad)})
            frames.append(da.load())
    da = xr.concat(frames, "time") if len(frames) > 1 else frames[0]
    da = da.sortby("time")
    if da.sizes["time"] != 12:
        from .stac import NetworkError

        raise NetworkError(f"{source.name}: {da.sizes['time']} months of {year} instead of 12",
                           file=", ".join(map(str, items_or_assets)),
                           fix="the archive is incomplete for this year; choose other --years")
    lon, lat = _lonlat_names(da)
    da = da.sortby(lat, ascending=False).transpose("time", lat, lon)
    x, y = da[lon].values.astype(float), da[lat].values.astype(float)
    dx, dy = (x[-1] - x[0]) / (x.size - 1), (y[-1] - y[0]) / (y.size - 1)   # dy < 0
    from affine import Affine
    from odc.geo.geobox import GeoBox

    native = GeoBox((y.size, x.size), Affine(dx, 0, x[0] - dx / 2, 0, dy, y[0] - dy / 2),
                    "EPSG:4326")
    return np.asarray(da.values, dtype="float32"), native


def _lonlat_names(da) -> tuple[str, str]:
    lon = next(n for n in ("lon", "longitude", "x") if n in da.dims)
    lat = next(n for n in ("lat", "latitude", "y") if n in da.dims)
    return lon, lat
