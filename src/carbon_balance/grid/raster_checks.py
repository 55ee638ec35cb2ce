"""Raster problems found without computing: metadata plus a small sample of values.

:func:`raster_problems` is what ``carbon-balance validate`` and the start of every grid
run call. The value rules (:func:`value_problems`) are applied again at run time to the
exact minimum and maximum of every input over the whole grid, with the same messages.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

import numba

from ..casa.tables import TABLE_NAMES, load_class_table
from ..errors import CarbonBalanceError, Problem, ProblemsError
from . import coverage, valid_share, value_checks
from .geotransform import geotransform_problems
from .unit_metadata import SPELLINGS, unit_metadata_problems
from ..study import INPUT_NAMES as INPUTS
from ..study import MONTHLY_INPUTS
from .conversions import DEFAULT_UNITS, KELVIN_AT_0C, monthly_factors
from .files import gdal_name, netcdf_variable, source_crs
from .study_grid import study_grid

log = logging.getLogger(__name__)

#: Plausible monthly means of air temperature [°C] (record lows/highs of monthly means).
TEMPERATURE_RANGE = (-90.0, 60.0)
#: Upper plausible monthly surface solar radiation [MJ m-2 month-1] (about 40 MJ m-2 d-1 x 31).
RADIATION_MAX = 1300.0
#: A year whose sunniest month stays below this [MJ m-2 month-1] is mislabelled (daily units?).
RADIATION_MIN_PEAK = 50.0
#: Above this monthly precipitation [mm month-1] a scale of 0.1 is the likelier story.
PRECIPITATION_MAX = 3000.0
#: Sunniest month below this [MJ m-2 month-1] is below any place under ~65° latitude
#: (cloudy Sichuan peaks ~450, 60° N ~540): monthly mean W m-2 (peaks 200-330) declared
#: as MJ/m2/month is the likelier story (a warning).
RADIATION_LOW_PEAK = 380.0
#: Cells read per band for the value checks (a decimated overview or whole blocks).
SAMPLE_CELLS = 512 * 512
#: Fewest blocks (tiles or strips) sampled per file when there is no overview.
SAMPLE_BLOCKS = 4
#: Tolerance of the NDVI range check (float32 rounding of scaled values).
NDVI_TOLERANCE = 1e-6


@numba.njit(nogil=True, cache=True)
def _finite_range(values):
    lo, hi = np.inf, -np.inf
    flat = values.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


def value_range(values: np.ndarray) -> tuple[float, float]:
    """(smallest, largest) value ignoring NaN; (inf, -inf) when all are NaN. One pass
    (numpy's nanmin and nanmax take two, and warn on all-NaN chunks): the run-time value
    checks apply :func:`value_problems` to these, chunk by chunk."""
    lo, hi = _finite_range(np.ascontiguousarray(values))
    return float(lo), float(hi)


def _key(name: str, part: str = "path") -> str:
    return f"inputs.{name}.{part}"


def value_problems(name: str, vmin: float, vmax: float, *, units: str | None, file: str,
                   scale: float = 1.0) -> list[Problem]:
    """Implausible values of input ``name`` given its min and max in MODEL units.

    ``units`` are the declared units; the messages name the likely fix.
    """
    if not (np.isfinite(vmin) and np.isfinite(vmax)):
        return []
    p: list[Problem] = []
    rng = f"(min {vmin:.6g}, max {vmax:.6g})"
    if name == "ndvi":
        if vmin < -1 - NDVI_TOLERANCE or vmax > 1 + NDVI_TOLERANCE:
            hint = ("set scale = 0.0001 (MODIS/AVHRR NDVI are stored as integers x 10000)"
                    if scale == 1.0 and vmax <= 10000 * (1 + NDVI_TOLERANCE) and vmax > 1
                    else "set scale (and offset) so that raw * scale + offset is NDVI, and "
                    "nodata to the file's fill value")
            p.append(Problem(f"NDVI outside -1..1 after scaling {rng}", file, _key(name, "scale"),
                             hint))
    elif name == "temperature":
        lo, hi = TEMPERATURE_RANGE
        declared = units or DEFAULT_UNITS[name]
        if vmin < lo or vmax > hi:
            if declared != "K" and vmin + 0 >= 150 and vmax <= 350:
                fix = 'the values look like kelvin: set units = "K"'
            elif declared == "degC" and -900 <= vmin and vmax <= 600:
                fix = 'the values look like tenths of a degree: set units = "0.1 degC"'
            elif declared == "K" and vmin + KELVIN_AT_0C >= -90 and vmax + KELVIN_AT_0C <= 60:
                fix = 'the values look like degrees Celsius: set units = "degC"'
            else:
                fix = ('set units to the file\'s units ("degC", "0.1 degC" or "K") and nodata '
                       "to its fill value")
            p.append(Problem(f"temperature outside {lo:g}..{hi:g} °C after conversion from "
                             f"{declared} {rng} °C", file, _key(name, "units"), fix))
    elif name == "precipitation":
        if vmin < 0:
            p.append(Problem(f"negative precipitation {rng} mm/month", file, _key(name, "nodata"),
                             "set nodata to the file's fill value (e.g. -9999), or correct the "
                             "file; precipitation cannot be negative"))
        elif vmax > PRECIPITATION_MAX and (units or "mm/month") == "mm/month":
            p.append(Problem(f"precipitation above {PRECIPITATION_MAX:g} mm/month {rng}", file,
                             _key(name, "units"), 'if the file stores tenths of a millimetre set '
                             'units = "0.1 mm/month"', fatal=False))
    elif name == "radiation":
        declared = units or DEFAULT_UNITS[name]
        if vmin < 0:
            p.append(Problem(f"negative radiation {rng} MJ/m2/month", file, _key(name, "nodata"),
                             "set nodata to the file's fill value, or correct the file"))
        elif vmax > RADIATION_MAX:
            fix = {"W/m2": 'values this large are not monthly mean W m-2; if they are MJ m-2 '
                           'per month set units = "MJ/m2/month"',
                   "kWh/m2/month": 'if the values are W m-2 set units = "W/m2", if MJ m-2 per '
                                   'month units = "MJ/m2/month"',
                   }.get(declared, 'if the values are monthly mean W m-2 set units = "W/m2", '
                         'if kJ or J per m2 set scale = 0.001 or 1e-6')
            p.append(Problem(f"radiation above {RADIATION_MAX:g} MJ/m2/month after conversion "
                             f"from {declared} {rng}", file, _key(name, "units"), fix))
        elif vmax < RADIATION_MIN_PEAK:
            p.append(Problem(f"radiation implausibly low for monthly totals after conversion "
                             f"from {declared}: the sunniest month peaks at {vmax:.6g} "
                             "MJ/m2/month", file, _key(name, "units"),
                             'daily values? monthly mean flux in W m-2: set units = "W/m2"; '
                             "MJ m-2 per day: convert to per month (x days) first"))
        elif vmax < RADIATION_LOW_PEAK and declared == "MJ/m2/month":
            p.append(Problem(f"radiation low for monthly totals: the sunniest month peaks at "
                             f"{vmax:.6g} MJ/m2/month, below any place under 65° latitude "
                             f"(~{RADIATION_LOW_PEAK:g})", file, _key(name, "units"),
                             'if the values are monthly mean W m-2 set units = "W/m2"',
                             fatal=False))
    return p


def _sample(src, bands: list[int]) -> np.ndarray:
    """float64 sample (bands, n) of a dataset: all of a small raster, a decimated
    overview when one exists, else whole blocks (tiles or strips) spread evenly over the
    file: reading a block costs one decompression, reading part of one costs the same."""
    h, w = src.height, src.width
    if h * w <= SAMPLE_CELLS:
        return src.read(bands, out_dtype="float64").reshape(len(bands), -1)
    if src.overviews(bands[0]):
        f = max(1.0, np.sqrt(h * w / SAMPLE_CELLS))
        shape = (len(bands), max(1, int(h / f)), max(1, int(w / f)))
        return src.read(bands, out_shape=shape, out_dtype="float64").reshape(len(bands), -1)
    bh, bw = src.block_shapes[0]
    nby, nbx = -(-h // bh), -(-w // bw)
    k = min(nby * nbx, max(SAMPLE_BLOCKS, SAMPLE_CELLS // (bh * bw)))
    step = max(1, int(np.sqrt(k * bh * bw / SAMPLE_CELLS)))   # keep ~SAMPLE_CELLS per band
    parts = []
    for i in np.unique(np.linspace(0, nby * nbx - 1, k).astype(int)):
        r, c = divmod(int(i), nbx)
        win = Window(c * bw, r * bh, min(bw, w - c * bw), min(bh, h - r * bh))
        block = src.read(bands, window=win)[:, ::step, ::step]
        parts.append(block.reshape(len(bands), -1).astype(np.float64))
    return np.concatenate(parts, axis=1)


def _class_lookup(study) -> tuple[np.ndarray, np.ndarray] | Problem:
    classes = study.inputs.vegetation.classes
    if classes not in TABLE_NAMES:
        classes = str(study.resolve(classes))
    try:
        table = load_class_table(classes)
    except CarbonBalanceError as exc:
        p = exc.problem
        return Problem(p.message, p.file, "inputs.vegetation.classes", p.fix)
    order = np.argsort(table["code"].to_numpy())
    codes = table["code"].to_numpy(np.float64)[order]
    casa = table["casa_code"].to_numpy(np.float64)[order]
    casa[casa < 0] = np.nan   # tables mark nodata codes with -1
    return codes, casa


def class_lookup(study) -> tuple[tuple, tuple]:
    """(sorted raw codes, their casa codes with NaN = nodata) of the study's class table."""
    lut = _class_lookup(study)
    if isinstance(lut, Problem):
        raise ProblemsError([lut])
    return tuple(lut[0].tolist()), tuple(lut[1].tolist())


def unknown_codes_problem(codes, file: str, classes: str) -> Problem:
    shown = ", ".join(f"{c:g}" for c in sorted(codes)[:20]) + (" ..." if len(codes) > 20 else "")
    return Problem(f"vegetation codes missing from the class table {classes!r}: {shown}", file,
                   "inputs.vegetation.classes", "choose the class table of the land-cover "
                   "product, add rows (code,name,casa_code) to your CSV table, or set "
                   "inputs.vegetation.nodata to the fill value")


def _file_problems(study, name: str, year: int, path: Path, n_files: int, grid, lut,
                   area=None) -> list[Problem]:
    cfg = getattr(study.inputs, name)
    f = str(path)
    if not path.exists():
        if path.is_symlink():
            return [Problem("a broken symbolic link, or a loop of links", f, _key(name),
                            "point the link at the real file")]
        return [Problem("file not found", f, _key(name),
                        "check the path pattern (relative to the study file; {year} and "
                        "{month:02d} are filled in) and that the file exists for every year")]
    try:
        variable = netcdf_variable(path, cfg.variable)
    except (ValueError, RasterioIOError) as exc:
        return [Problem(str(exc), f, _key(name, "variable"), "set variable = \"NAME\" in "
                        f"[inputs.{name}]")]
    try:
        src = rasterio.open(gdal_name(path, variable))
    except (RasterioIOError, OSError) as exc:
        return [Problem(f"cannot read the raster: corrupt or not a GeoTIFF/NetCDF file ({exc})",
                        f, _key(name), "re-download or re-export the file (gdalinfo FILE "
                        "should list its bands)")]
    problems = []
    with src:
        crs = source_crs(src)
        if crs is None:
            problems.append(Problem("the raster has no coordinate reference system", f,
                                    _key(name), "assign one, e.g. gdal_edit.py -a_srs EPSG:4326 "
                                    "FILE (or write the CF grid_mapping in a NetCDF)"))
        not_north_up = geotransform_problems(src.transform, f, _key(name))
        if not_north_up:   # coverage and values would be read wrongly
            return problems + not_north_up
        if name in MONTHLY_INPUTS:
            need = 12 if n_files == 1 else 1
            if (n_files == 1 and src.count != 12) or src.count < 1:
                problems.append(Problem(f"{src.count} band(s) / time steps; {need} needed", f,
                                        _key(name), "give one 12-band file (or 12-step NetCDF) "
                                        "per year, or one file per month with {month:02d} in "
                                        "the path"))
                return problems
            bands = list(range(1, 13)) if n_files == 1 else [1]
        else:
            bands = [1]
            if src.count != 1:
                problems.append(Problem(f"{src.count} bands; band 1 is used", f, _key(name),
                                        "give a single-band class raster", fatal=False))
        if crs is not None and grid is not None and \
                (share := coverage.uncovered_share(src, area, grid.crs)) > coverage.COVER_TOLERANCE:
            problems.append(Problem(f"the raster does not cover the study grid: {share:.1%} of "
                                    f"the study area lies outside it ({coverage.describe(src, grid)})",
                                    f, _key(name), "supply a file covering the NDVI extent, "
                                    "or set [grid] bounds to the extent all inputs share"))
        if name in SPELLINGS:
            problems += unit_metadata_problems(
                name, src.units, cfg.units or DEFAULT_UNITS[name], file=f, key=_key(name, "units"),
                rescaled=bool({"scale", "offset"} & cfg.model_fields_set))
        try:
            raw = _sample(src, bands)
        except (RasterioIOError, OSError) as exc:
            problems.append(Problem(f"cannot read the raster's values: corrupt file ({exc})", f,
                                    _key(name), "re-download or re-export the file"))
            return problems
        whole = src.height * src.width <= SAMPLE_CELLS or bool(src.overviews(bands[0]))
        nodata = cfg.nodata if cfg.nodata is not None else src.nodata
        scale = cfg.scale if "scale" in cfg.model_fields_set else (src.scales[0] or 1.0)
        offset = cfg.offset if "offset" in cfg.model_fields_set else (src.offsets[0] or 0.0)
    factor, off = monthly_factors(name, cfg.units, year)
    problems += value_checks.nodata_problems(
        name, nodata, raw, lambda r: (r * scale + offset) * np.ravel(factor)[0] + np.ravel(off)[0],
        file=f, key=_key(name, "nodata"))
    if nodata is not None:
        raw[raw == nodata] = np.nan
    if name == "vegetation":
        if (empty := valid_share.sample_problem(name, raw, file=f, whole=whole)) is not None:
            return problems + [empty]
        if lut is not None:
            codes = np.unique(raw[~np.isnan(raw)])
            missing = codes[~np.isin(codes, lut[0])]
            if missing.size:
                problems.append(unknown_codes_problem(missing.tolist(), f, cfg.classes))
        return problems
    values = raw * scale + offset
    idx = np.arange(12) if n_files == 1 else [0]
    values = values * factor[idx, None] + off[idx, None]
    if (empty := valid_share.sample_problem(name, values, file=f, whole=whole)) is not None:
        return problems + [empty]
    if np.isnan(values).all():
        return problems
    if name == "precipitation" and n_files == 1:
        problems += value_checks.precipitation_total_problems(values, cfg.units, file=f,
                                                              key=_key(name, "units"))
    vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
    if name == "radiation" and n_files > 1:
        vmax = max(vmax, RADIATION_MIN_PEAK)   # one month alone says nothing about the peak
    problems += value_problems(name, vmin, vmax, units=cfg.units, file=f, scale=scale)
    return problems


def raster_problems(study) -> list[Problem]:
    """Every raster problem findable from metadata and a sample of values (see module doc)."""
    if study.inputs is None:
        return [Problem("the study has no [inputs]", str(study.source), "inputs",
                        "add [inputs.ndvi], [inputs.temperature], [inputs.precipitation], "
                        "[inputs.radiation] and [inputs.vegetation] (see docs/study-file.md)")]
    problems: list[Problem] = []
    try:
        grid = study_grid(study)
    except CarbonBalanceError as exc:
        problems.extend(exc.problems)
        grid = None
    try:
        area = coverage.study_area(study, grid) if grid is not None else None
    except CarbonBalanceError:
        area = None   # the NDVI's own problem is reported below
    lut = _class_lookup(study)
    if isinstance(lut, Problem):
        problems.append(lut)
        lut = None
    jobs, seen = [], set()
    for year in study.study.years:
        for name in INPUTS:
            paths = study.input_paths(name, year)
            for path in paths:
                if path not in seen:
                    seen.add(path)
                    jobs.append((name, year, path, len(paths)))
    # Files are opened and sampled in parallel: GDAL releases the GIL while decoding.
    with ThreadPoolExecutor(min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        for found in pool.map(lambda j: _file_problems(study, j[0], j[1], j[2], j[3], grid, lut,
                                                       area), jobs):
            problems += found
    # one message per problem, even when every monthly file repeats it
    unique, keys = [], set()
    for p in problems:
        if (p.message, p.file, p.key) not in keys:
            keys.add((p.message, p.file, p.key))
            unique.append(p)
    return unique
