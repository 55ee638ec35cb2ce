"""The CASA NPP beside an independent product (``[reference]``, e.g. MODIS MOD17A3HGF).

For each unit and year: the mean NPP of the run and of the reference over the unit's
vegetated cells where both are valid (the same cells for both, area-weighted with exact
partial coverage), and their difference in percent; and pixel statistics over every
vegetated cell of the grid where both are valid. The reference is resampled onto the NPP
grid with the area average ("average"). MOD17: Running S., Zhao M. 2021,
doi:10.5067/MODIS/MOD17A3HGF.061.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem

#: kg -> g
G_PER_KG = 1000.0
COMPARISON_COLUMNS = ["unit_id", "year", "npp_mean_g_c_m2", "reference_npp_mean_g_c_m2",
                      "difference_percent", "compared_area_km2"]
STATS_COLUMNS = ["year", "n", "bias_g_c_m2", "rmse_g_c_m2", "r2", "npp_mean_g_c_m2",
                 "reference_npp_mean_g_c_m2"]
#: Pixel pairs kept for the scatter plot (every k-th pair of each year, deterministic).
MAX_PIXEL_PAIRS = 20_000


@dataclass(frozen=True)
class ReferenceComparison:
    table: pd.DataFrame     # COMPARISON_COLUMNS
    stats: pd.DataFrame     # STATS_COLUMNS, one row per year and one "all"
    pixels: pd.DataFrame    # year, npp_g_c_m2, reference_npp_g_c_m2 (a sample)


def reference_problems(study) -> list[Problem]:
    """Missing reference rasters (checked by ``validate`` and before ``run``)."""
    ref = getattr(study, "reference", None)
    if ref is None:
        return []
    missing = [str(ref.path(study, y)) for y in study.study.years if not ref.path(study, y).is_file()]
    if missing:
        return [Problem(f"reference NPP raster(s) not found: {', '.join(missing)}",
                        str(study.source), "reference.npp",
                        "give an annual NPP raster per study year, or remove [reference]")]
    return []


def read_reference_on_grid(path: Path, like: Path, *, scale: float = 1.0, offset: float = 0.0,
                           nodata: float | None = None, units: str = "g C m-2 yr-1") -> np.ndarray:
    """The reference raster [g C m-2 yr-1] resampled (area average) onto the grid of ``like``."""
    import rioxarray
    from rasterio.enums import Resampling

    try:
        ref = rioxarray.open_rasterio(path, masked=nodata is None).isel(band=0)
        tgt = rioxarray.open_rasterio(like).isel(band=0)
    except Exception as exc:
        raise InputError(f"cannot read the reference raster ({exc.__class__.__name__})",
                         file=path, key="reference.npp", fix="give a GeoTIFF or NetCDF") from None
    ref = ref.astype("float64")
    if nodata is not None:
        ref = ref.where(ref != nodata)
    ref = ref * scale + offset
    if units == "kg C m-2 yr-1":
        ref = ref * G_PER_KG
    ref = ref.rio.write_nodata(np.nan)
    out = ref.rio.reproject_match(tgt, resampling=Resampling.average)
    return np.asarray(out.values, dtype="float64")


def pixel_statistics(npp: np.ndarray, ref: np.ndarray) -> dict:
    """n, bias = mean(NPP - ref), RMSE, R^2 (squared Pearson correlation) [g C m-2 yr-1]
    of paired finite values."""
    ok = np.isfinite(npp) & np.isfinite(ref)
    a, b = npp[ok], ref[ok]
    n = int(ok.sum())
    if n == 0:
        return {"n": 0, "bias_g_c_m2": np.nan, "rmse_g_c_m2": np.nan, "r2": np.nan,
                "npp_mean_g_c_m2": np.nan, "reference_npp_mean_g_c_m2": np.nan}
    d = a - b
    r2 = np.corrcoef(a, b)[0, 1] ** 2 if n > 1 and a.std() > 0 and b.std() > 0 else np.nan
    return {"n": n, "bias_g_c_m2": float(d.mean()), "rmse_g_c_m2": float(np.sqrt((d ** 2).mean())),
            "r2": float(r2), "npp_mean_g_c_m2": float(a.mean()),
            "reference_npp_mean_g_c_m2": float(b.mean())}


def reference_comparison(npp_paths: dict[int, Path], reference_paths: dict[int, Path], units,
                         vegetated: dict | None = None, *, scale: float = 1.0,
                         offset: float = 0.0, nodata: float | None = None,
                         reference_units: str = "g C m-2 yr-1") -> ReferenceComparison:
    """Compare the run's NPP grids with a reference product.

    ``npp_paths``: {year: npp.tif of the run} [g C m-2 yr-1]; ``reference_paths``: {year:
    reference raster} (any grid; ``scale``, ``offset``, ``nodata``, ``reference_units`` as
    in ``[reference]``); ``units``: GeoDataFrame with ``unit_id``; ``vegetated``: {year: 0/1
    array on the NPP grid} (default: NPP > 0).
    """
    import rasterio

    from .zonal import cell_areas_m2, coverage_fractions, zonal_sums

    rows, stats, pixels, cache = [], [], [], {}
    pooled = _Moments()
    years = [y for y in sorted(npp_paths) if y in reference_paths]
    per_year = max(1, MAX_PIXEL_PAIRS // max(1, len(years)))
    for year in years:
        with rasterio.open(npp_paths[year]) as ds:
            npp = ds.read(1, masked=True).astype("float64").filled(np.nan)
            transform, crs = ds.transform, ds.crs
        ref = read_reference_on_grid(Path(reference_paths[year]), Path(npp_paths[year]),
                                     scale=scale, offset=offset, nodata=nodata,
                                     units=reference_units)
        veg = (np.where(np.isfinite(npp), npp > 0, False) if vegetated is None or year not in vegetated
               else np.asarray(vegetated[year], float) > 0)
        both = veg & np.isfinite(npp) & np.isfinite(ref)
        key = (npp.shape, tuple(transform), str(crs))
        if key not in cache:
            cache[key] = (coverage_fractions(units, npp.shape, transform, crs),
                          cell_areas_m2(npp.shape, transform, crs))
        cov, area = cache[key]
        area_m2 = zonal_sums(both.astype(float), cov, area)
        npp_sum = zonal_sums(np.where(both, npp, 0.0), cov, area)
        ref_sum = zonal_sums(np.where(both, ref, 0.0), cov, area)
        with np.errstate(divide="ignore", invalid="ignore"):
            npp_mean = np.where(area_m2 > 0, npp_sum / area_m2, np.nan)
            ref_mean = np.where(area_m2 > 0, ref_sum / area_m2, np.nan)
            diff = 100.0 * (npp_mean - ref_mean) / ref_mean
        for i, uid in enumerate(cov.unit_ids):
            rows.append((uid, int(year), npp_mean[i], ref_mean[i], diff[i], area_m2[i] / 1e6))
        a, b = npp[both], ref[both]
        stats.append({"year": str(year), **pixel_statistics(a, b)})
        pooled.add(a, b)
        step = max(1, int(np.ceil(a.size / per_year)))
        pixels.append(pd.DataFrame({"year": int(year), "npp_g_c_m2": a[::step],
                                    "reference_npp_g_c_m2": b[::step]}))
    if pooled.n:
        stats.append({"year": "all", **pooled.statistics()})
    pix = pd.concat(pixels, ignore_index=True) if pixels else pd.DataFrame(
        columns=["year", "npp_g_c_m2", "reference_npp_g_c_m2"])
    return ReferenceComparison(pd.DataFrame(rows, columns=COMPARISON_COLUMNS),
                               pd.DataFrame(stats, columns=STATS_COLUMNS), pix)


class _Moments:
    """Running sums of paired values, for the all-years statistics without keeping every
    pixel of every year in memory."""

    def __init__(self):
        self.n = 0
        self.sa = self.sb = self.saa = self.sbb = self.sab = 0.0

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        self.n += a.size
        self.sa += a.sum()
        self.sb += b.sum()
        self.saa += (a * a).sum()
        self.sbb += (b * b).sum()
        self.sab += (a * b).sum()

    def statistics(self) -> dict:
        n = self.n
        ma, mb = self.sa / n, self.sb / n
        # mean((a-b)^2) = mean(a^2) - 2 mean(ab) + mean(b^2)
        msd = max(self.saa / n - 2 * self.sab / n + self.sbb / n, 0.0)
        va, vb = self.saa / n - ma * ma, self.sbb / n - mb * mb
        cov = self.sab / n - ma * mb
        r2 = cov * cov / (va * vb) if n > 1 and va > 0 and vb > 0 else np.nan
        return {"n": n, "bias_g_c_m2": ma - mb, "rmse_g_c_m2": float(np.sqrt(msd)),
                "r2": float(r2), "npp_mean_g_c_m2": ma, "reference_npp_mean_g_c_m2": mb}


def study_reference_comparison(study, grids: dict[int, dict[str, Path]], units,
                               vegetated: dict | None = None) -> ReferenceComparison | None:
    """:func:`reference_comparison` with the paths and settings of the study's ``[reference]``
    (None when the study has none). ``grids`` as in ``pipeline.account_study``."""
    ref = getattr(study, "reference", None)
    if ref is None:
        return None
    npp = {y: Path(p["npp"]) for y, p in grids.items() if "npp" in p}
    return reference_comparison(npp, {y: ref.path(study, y) for y in npp}, units, vegetated,
                                scale=ref.scale, offset=ref.offset, nodata=ref.nodata,
                                reference_units=ref.units)


def write_reference_comparison(folder: Path, result: ReferenceComparison) -> list[Path]:
    """tables/reference_comparison.csv, tables/reference_stats.csv and
    tables/reference_pixels.csv (the sample the scatter plot draws) in an output folder."""
    tables = Path(folder) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    out = []
    for name, df in (("reference_comparison", result.table), ("reference_stats", result.stats),
                     ("reference_pixels", result.pixels)):
        path = tables / f"{name}.csv"
        df.to_csv(path, index=False)
        out.append(path)
    return out


def write_study_reference(study, folder: Path, grids: dict[int, dict[str, Path]], units,
                          vegetated: dict | None = None) -> list[Path]:
    """The one call ``run`` needs: compare and write the tables when the study has a
    ``[reference]``; nothing (an empty list) when it has none."""
    result = study_reference_comparison(study, grids, units, vegetated)
    return [] if result is None else write_reference_comparison(folder, result)


def reference_input_files(study) -> list[Path]:
    """The reference rasters of the study years (for the manifest's input hashes)."""
    ref = getattr(study, "reference", None)
    return [] if ref is None else [ref.path(study, y) for y in study.study.years]
