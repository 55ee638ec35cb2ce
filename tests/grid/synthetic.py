"""Synthetic (generated) rasters and study files for the grid engine tests.

Everything here is generated data, labelled as such in the study files it writes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

#: Study grid of the default synthetic study: 0.01° cells, 40 rows x 60 columns.
ORIGIN = (110.0, 30.0)
RES = 0.01
SHAPE = (40, 60)
MONTH = np.arange(12)[:, None, None]
SEASON = np.sin((MONTH - 3) / 12 * 2 * np.pi)


def write_raster(path, data, *, transform=None, crs="EPSG:4326", nodata=None, dtype=None,
                 **profile):
    """Write a (bands, rows, cols) or (rows, cols) array as a GeoTIFF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    dtype = dtype or data.dtype
    transform = transform or from_origin(*ORIGIN, RES, RES)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1],
                       count=data.shape[0], dtype=dtype, crs=crs, transform=transform,
                       nodata=nodata, **profile) as dst:
        dst.write(data.astype(dtype))
    return path


def climate(seed: int, shape=SHAPE):
    """Generated monthly fields in model units: NDVI raw (int16 x 1e-4), T [°C],
    P [mm month-1], SOL [MJ m-2 month-1], and CAS-LUCC classes."""
    rng = np.random.default_rng(seed)
    h, w = shape
    ndvi = np.round(np.clip(0.45 + 0.3 * SEASON + 0.08 * rng.standard_normal((12, h, w)), -0.2, 0.95)
                    * 10000)
    ndvi[:, :2, :3] = -3000                      # nodata corner
    temp = 17 + 12 * SEASON + rng.standard_normal((12, h, w))
    prec = 40 + 160 * rng.random((12, h, w))
    sol = 420 + 200 * SEASON + 20 * rng.random((12, h, w))
    veg = rng.choice([11, 21, 22, 31, 51, 41], size=(h, w)).astype(np.uint8)
    return {"ndvi": ndvi.astype(np.int16), "temperature": temp.astype(np.float32),
            "precipitation": prec.astype(np.float32), "radiation": sol.astype(np.float32),
            "vegetation": veg}


STUDY = """\
[study]
name = "generated test study"
years = {years}
generated_inputs = true

[inputs.ndvi]
path = "ndvi/ndvi_{{year}}.tif"
scale = 0.0001
[inputs.temperature]
path = "climate/tmp_{{year}}.tif"
units = "degC"
[inputs.precipitation]
path = "climate/pre_{{year}}.tif"
units = "mm/month"
[inputs.radiation]
path = "climate/sol_{{year}}.tif"
units = "MJ/m2/month"
[inputs.vegetation]
path = "lc/lc_{{year}}.tif"
classes = "cas-lucc"

[grid]
chunk_size = 16
"""


def write_study(root: Path, years=(2005,), text: str | None = None, seed: int = 1) -> tuple[Path, dict]:
    """A study on the default grid (all inputs already on it); returns (path, fields)."""
    fields = {}
    for i, year in enumerate(years):
        f = climate(seed + i)
        fields[year] = f
        write_raster(root / f"ndvi/ndvi_{year}.tif", f["ndvi"], nodata=-3000)
        write_raster(root / f"climate/tmp_{year}.tif", f["temperature"])
        write_raster(root / f"climate/pre_{year}.tif", f["precipitation"])
        write_raster(root / f"climate/sol_{year}.tif", f["radiation"])
        write_raster(root / f"lc/lc_{year}.tif", f["vegetation"])
    path = root / "study.toml"
    path.write_text(text or STUDY.format(years=list(years)))
    return path, fields


def model_inputs(f: dict):
    """The generated fields as the model sees them (float32, NaN nodata, NDVI scaled)."""
    ndvi = f["ndvi"].astype(np.float32)
    ndvi[f["ndvi"] == -3000] = np.nan
    ndvi *= np.float32(1e-4)
    return ndvi, f["temperature"], f["precipitation"], f["radiation"], f["vegetation"]


def read(path, band=None):
    with rasterio.open(path) as src:
        return src.read(band) if band else src.read()


def toml(text: str) -> str:
    return textwrap.dedent(text)
