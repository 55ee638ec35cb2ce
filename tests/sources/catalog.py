"""A static STAC catalog with the structure of the real collections (generated data).

Built by the tests, offline: the collections ``modis-13A1-061``, ``terraclimate``,
``esa-cci-lc`` and ``modis-17A3HGF-061`` with the Planetary Computer's collection ids,
asset keys and ``raster:bands`` (from github.com/microsoft/planetary-computer-tasks,
datasets/*/collection/*/template.json), MODIS items per sinusoidal tile (h27v06, h28v06:
the region straddles their boundary), TerraClimate per-year NetCDF files in the THREDDS
layout (int16 packed with scale_factor and _FillValue). The values are generated and say
nothing about the region.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pystac
import rasterio
import xarray as xr
from pyproj import Transformer
from rasterio.transform import from_origin

#: The region: 0.2 x 0.2 degrees across the h27/h28 boundary (lon ~114.44 at 29.1 N).
BBOX = (114.35, 29.0, 114.55, 29.2)
SINUSOIDAL = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
TILE_M = 1111950.5197665
X_ORIGIN, Y_ORIGIN = -20015109.354, 10007554.677
PIXEL_500M = TILE_M / 2400           # 463.3127 m, MOD13A1 / MOD17A3HGF
MARGIN = 0.05                        # degrees of data around BBOX


def _cog(path: Path, data, transform, crs, dtype, nodata=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(data, dtype=dtype)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=dtype, crs=crs, transform=transform, nodata=nodata,
                       tiled=True, blockxsize=16, blockysize=16) as dst:
        dst.write(data, 1)


def _tile_window(h: int, v: int):
    """Sinusoidal pixel window of tile (h, v) covering BBOX + MARGIN: (transform, shape)."""
    t = Transformer.from_crs("EPSG:4326", SINUSOIDAL, always_xy=True)
    w, s, e, n = BBOX
    xs, ys = t.transform([w - MARGIN, e + MARGIN, w - MARGIN, e + MARGIN],
                         [s - MARGIN, s - MARGIN, n + MARGIN, n + MARGIN])
    tx0, ty0 = X_ORIGIN + h * TILE_M, Y_ORIGIN - v * TILE_M
    x0, x1 = max(min(xs), tx0), min(max(xs), tx0 + TILE_M)
    y1, y0 = min(max(ys), ty0), max(min(ys), ty0 - TILE_M)
    c0, c1 = int((x0 - tx0) // PIXEL_500M), int(np.ceil((x1 - tx0) / PIXEL_500M))
    r0, r1 = int((ty0 - y1) // PIXEL_500M), int(np.ceil((ty0 - y0) / PIXEL_500M))
    transform = from_origin(tx0 + c0 * PIXEL_500M, ty0 - r0 * PIXEL_500M, PIXEL_500M, PIXEL_500M)
    return transform, (r1 - r0, c1 - c0)


def _footprint(transform, shape, crs):
    t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x0, y0 = transform * (0, 0)
    x1, y1 = transform * (shape[1], shape[0])
    lons, lats = t.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return [min(lons), min(lats), max(lons), max(lats)]


def _item(item_id, bbox, start, end, props=None):
    geom = {"type": "Polygon", "coordinates": [[[bbox[0], bbox[1]], [bbox[2], bbox[1]],
                                                [bbox[2], bbox[3]], [bbox[0], bbox[3]],
                                                [bbox[0], bbox[1]]]]}
    return pystac.Item(item_id, geom, bbox, None, {
        "start_datetime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_datetime": end.strftime("%Y-%m-%dT%H:%M:%SZ"), **(props or {})})


def _asset(href, transform, shape, crs_wkt, band):
    return pystac.Asset(str(href), media_type="image/tiff; application=geotiff; profile=cloud-optimized",
                        roles=["data"], extra_fields={
                            "raster:bands": [band], "proj:shape": list(shape),
                            "proj:transform": list(transform)[:6], "proj:wkt2": crs_wkt})


def ndvi_raw(n_rows, n_cols, doy):
    """Generated MOD13A1 raw NDVI (int16, x 0.0001): a seasonal cycle, fill -3000 in one
    corner pixel."""
    season = np.sin((doy - 80) / 365 * 2 * np.pi)
    base = 4500 + 2500 * season + np.linspace(0, 1000, n_cols)[None, :]
    raw = np.broadcast_to(base, (n_rows, n_cols)).astype("int16").copy()
    raw[0, 0] = -3000
    return raw


def reliability(n_rows, n_cols, doy, h):
    """Generated pixel_reliability: 0 (good), except the whole h28 tile cloudy (3) in the
    composite starting on DOY 129, the only one whose midpoint falls in May."""
    return np.full((n_rows, n_cols), 3 if (h == 28 and doy == 129) else 0, "int8")


def build_catalog(root: Path, years=(2005,)) -> Path:
    """Write the static catalog under ``root``; returns the path of catalog.json."""
    root = Path(root)
    data = root / "data"
    cat = pystac.Catalog("fixture", "Generated static catalog with the real collections' structure")
    sinu_wkt = rasterio.crs.CRS.from_string(SINUSOIDAL).to_wkt()
    utc = timezone.utc

    ndvi = pystac.Collection("modis-13A1-061", "MODIS Vegetation Indices 16-Day (500m), generated",
                             pystac.Extent.from_dict({"spatial": {"bbox": [[-180, -90, 180, 90]]},
                                                      "temporal": {"interval": [["2000-02-18T00:00:00Z", None]]}}),
                             license="proprietary")
    npp = pystac.Collection("modis-17A3HGF-061", "MODIS NPP Yearly Gap-Filled, generated",
                            ndvi.extent.clone(), license="proprietary")
    for year in years:
        for h in (27, 28):
            transform, shape = _tile_window(h, 6)
            fp = _footprint(transform, shape, SINUSOIDAL)
            for doy in range(1, 366, 16):
                start = datetime(year, 1, 1, tzinfo=utc) + timedelta(days=doy - 1)
                end = start + timedelta(days=15, hours=23, minutes=59, seconds=59)
                iid = f"MOD13A1.A{year}{doy:03d}.h{h:02d}v06.061"
                f_ndvi = data / "modis-13A1-061" / f"{iid}_500m_16_days_NDVI.tif"
                f_rel = data / "modis-13A1-061" / f"{iid}_500m_16_days_pixel_reliability.tif"
                _cog(f_ndvi, ndvi_raw(*shape, doy), transform, SINUSOIDAL, "int16", -3000)
                _cog(f_rel, reliability(*shape, doy, h), transform, SINUSOIDAL, "int8", -1)
                item = _item(iid, fp, start, end, {"platform": "terra", "modis:horizontal-tile": h,
                                                   "modis:vertical-tile": 6, "proj:wkt2": sinu_wkt})
                item.add_asset("500m_16_days_NDVI", _asset(f_ndvi, transform, shape, sinu_wkt, {
                    "unit": "NDVI", "scale": 0.0001, "data_type": "int16", "nodata": -3000,
                    "spatial_resolution": 500}))
                item.add_asset("500m_16_days_pixel_reliability", _asset(f_rel, transform, shape, sinu_wkt, {
                    "unit": "Rank", "data_type": "int8", "spatial_resolution": 500}))
                ndvi.add_item(item)
            iid = f"MOD17A3HGF.A{year}001.h{h:02d}v06.061"
            f_npp = data / "modis-17A3HGF-061" / f"{iid}_Npp_500m.tif"
            raw = np.full(shape, 800 + 100 * (h - 27), "int16")   # 0.08-0.09 kg C m-2 yr-1
            raw[0, :] = 32767                                     # fill
            _cog(f_npp, raw, transform, SINUSOIDAL, "int16", 32767)
            item = _item(iid, fp, datetime(year, 1, 1, tzinfo=utc),
                         datetime(year, 12, 31, 23, 59, 59, tzinfo=utc),
                         {"platform": "terra", "proj:wkt2": sinu_wkt})
            item.add_asset("Npp_500m", _asset(f_npp, transform, shape, sinu_wkt, {
                "unit": "kg C/m^2", "scale": 0.0001, "data_type": "int16",
                "spatial_resolution": 500}))
            npp.add_item(item)

    tc = pystac.Collection("terraclimate", "TerraClimate, generated (per-year NetCDF, THREDDS layout)",
                           pystac.Extent.from_dict({"spatial": {"bbox": [[-180, -90, 180, 90]]},
                                                    "temporal": {"interval": [["1958-01-01T00:00:00Z", "2021-12-01T00:00:00Z"]]}}),
                           license="CC0-1.0")
    step = 1 / 24
    lat = np.round(np.arange(29.5 - step / 2, 28.7, -step), 6)
    lon = np.round(np.arange(114.0 + step / 2, 114.9, step), 6)
    for year in years:
        time = np.array([np.datetime64(f"{year}-{m:02d}-01") for m in range(1, 13)])
        month = np.arange(12)[:, None, None]
        fields = {
            "tmax": (22 + 10 * np.sin((month - 3) / 12 * 2 * np.pi), "degC", 0.01),
            "tmin": (12 + 10 * np.sin((month - 3) / 12 * 2 * np.pi), "degC", 0.01),
            "ppt": (60 + 140 * (month >= 3) * (month <= 8), "mm", 0.1),
            "srad": (150 + 80 * np.sin((month - 3) / 12 * 2 * np.pi), "W/m^2", 0.1),
        }
        item = _item(f"terraclimate-{year}", [float(lon.min()), float(lat.min()), float(lon.max()),
                                              float(lat.max())],
                     datetime(year, 1, 1, tzinfo=utc), datetime(year, 12, 31, tzinfo=utc))
        for var, (values, units, scale) in fields.items():
            arr = np.broadcast_to(values, (12, lat.size, lon.size)).astype("float64").copy()
            arr[:, 0, 0] = np.nan                                  # _FillValue
            ds = xr.Dataset({var: (("time", "lat", "lon"), arr, {"units": units})},
                            coords={"time": time, "lat": lat, "lon": lon})
            path = data / "terraclimate" / f"TerraClimate_{var}_{year}.nc"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.to_netcdf(path, engine="h5netcdf", encoding={var: {
                "dtype": "int16", "scale_factor": scale, "add_offset": 0.0, "_FillValue": -32768}})
            item.add_asset(var, pystac.Asset(str(path), media_type="application/netcdf",
                                             roles=["data"]))
        tc.add_item(item)

    lc = pystac.Collection("esa-cci-lc", "ESA CCI land cover, generated", tc.extent.clone(),
                           license="proprietary")
    res = 1 / 360
    w, s, e, n = BBOX
    for year in years:
        transform = from_origin(w - MARGIN, n + MARGIN, res, res)
        shape = (int(round((n - s + 2 * MARGIN) / res)), int(round((e - w + 2 * MARGIN) / res)))
        codes = np.full(shape, 50, "uint8")         # evergreen broadleaf forest
        codes[:, : shape[1] // 3] = 10              # rainfed cropland
        codes[: shape[0] // 4, :] = 190             # urban
        codes[-3:, -3:] = 210                       # water
        f = data / "esa-cci-lc" / f"C3S-LC-L4-LCCS-Map-300m-P1Y-{year}-N30E110_lccs_class.tif"
        _cog(f, codes, transform, "EPSG:4326", "uint8", 0)
        item = _item(f"C3S-LC-L4-LCCS-Map-300m-P1Y-{year}-N30E110",
                     [w - MARGIN, s - MARGIN, e + MARGIN, n + MARGIN],
                     datetime(year, 1, 1, tzinfo=utc), datetime(year, 12, 31, tzinfo=utc))
        item.add_asset("lccs_class", _asset(f, transform, shape,
                                            rasterio.crs.CRS.from_epsg(4326).to_wkt(), {
                                                "nodata": 0, "data_type": "uint8",
                                                "spatial_resolution": 300}))
        item.properties["proj:epsg"] = 4326
        lc.add_item(item)

    for col in (ndvi, tc, lc, npp):
        cat.add_child(col)
    cat.normalize_hrefs(str(root / "stac"))
    cat.save(pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return root / "stac" / "catalog.json"
