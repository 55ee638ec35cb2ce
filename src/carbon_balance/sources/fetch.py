"""``carbon-balance fetch``: a ready study folder of real inputs for a region and years.

The folder is built in a hidden sibling ``.DIR.fetching`` and renamed to ``DIR`` only when
every raster, ``sources.json`` and ``study.toml`` are written, so a folder named ``DIR``
is always complete. A failed or interrupted fetch keeps the files finished so far in the
hidden folder (each written whole, then renamed), and a rerun of the same command fetches
only what is missing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from .. import __version__
from ..errors import InputError, OutputExistsError
from . import composite
from .read import CHUNK, TargetGrid, load_cog, load_netcdf
from .registry import Source, select_sources
from .stac import PLANETARY_COMPUTER, Catalog, NetworkError, item_period, network_errors, year_span

log = logging.getLogger(__name__)

#: Cell size when --resolution is not given: about MOD13A1's 500 m.
DEFAULT_RESOLUTION_DEG = 0.005
DEFAULT_RESOLUTION_M = 500.0
#: A land-cover year missing from the collection (ESA CCI ends in 2020) takes the latest
#: earlier year within this many years; recorded in sources.json.
LANDCOVER_LOOKBACK_YEARS = 5
#: kg C -> g C (MOD17 NPP is kg C m-2 yr-1; the study's reference is g C m-2 yr-1).
G_PER_KG = 1000.0

#: Study input -> (file pattern in the study folder, roles it is made of, study units).
OUTPUTS = {
    "ndvi": ("ndvi/ndvi_{year}.tif", ("ndvi",), None),
    "temperature": ("climate/temperature_{year}.tif", ("temperature_max", "temperature_min"), "degC"),
    "precipitation": ("climate/precipitation_{year}.tif", ("precipitation",), "mm/month"),
    "radiation": ("climate/radiation_{year}.tif", ("radiation",), "W/m2"),
    "vegetation": ("landcover/landcover_{year}.tif", ("vegetation",), None),
    "reference": ("reference/npp_{year}.tif", ("reference_npp",), "g C m-2 yr-1"),
}
#: Per 16-day source and year: the number of composites per month and cell that passed
#: the quality mask (12 bands, uint8), written with the monthly values.
COUNTS = "masks/{output}_composites_{year}.tif"
#: The land-cover crosswalk, copied from the package's class tables into the study folder
#: (the study says which table it used, and a user can adapt it to the region).
CLASS_TABLE = "landcover/{name}.csv"


@dataclass
class Job:
    """One output raster: a study input for one year."""

    output: str
    year: int
    sources: tuple[Source, ...]
    path: str = ""


def default_resolution(crs: str) -> float:
    from pyproj import CRS

    return DEFAULT_RESOLUTION_DEG if CRS.from_user_input(crs).is_geographic else DEFAULT_RESOLUTION_M


def units_bbox(path: Path, id_col: str | None, name_col: str | None, margin_deg: float):
    """(lon/lat bbox, [units] section) of a polygon file given with --units."""
    import geopandas as gpd

    try:
        units = gpd.read_file(path)
    except Exception as exc:
        raise InputError(f"cannot read the units file ({exc.__class__.__name__})", file=path,
                         fix="give a GeoPackage, Shapefile or GeoJSON of polygons") from None
    for opt, col in (("--units-id", id_col), ("--units-name", name_col)):
        if col is None or col not in units.columns:
            cols = ", ".join(c for c in units.columns if c != "geometry")
            raise InputError(f"{opt} {col!r} is not a column of the units file", file=path,
                             key=opt, fix=f"give one of: {cols}")
    w, s, e, n = units.to_crs("EPSG:4326").total_bounds
    return (w - margin_deg, s - margin_deg, e + margin_deg, n + margin_deg)


def plan_jobs(years, sources: dict[str, Source], *, reference: bool = True) -> list[Job]:
    jobs = []
    for year in years:
        for output, (pattern, roles, _) in OUTPUTS.items():
            if output == "reference" and not reference:
                continue
            jobs.append(Job(output, year, tuple(sources[r] for r in roles),
                            pattern.format(year=year)))
    return jobs


def _search(cat: Catalog, source: Source, bbox, year: int) -> tuple[list, int]:
    """Items of ``source`` for ``year`` (land cover: the latest earlier year within
    :data:`LANDCOVER_LOOKBACK_YEARS` if the year is missing). Returns (items, year used)."""
    tries = [year] + ([year - k for k in range(1, LANDCOVER_LOOKBACK_YEARS + 1)]
                      if source.role == "vegetation" else [])
    for y in tries:
        start, end = year_span(y)
        items = cat.search(source.collection, bbox, start, end)
        if source.cadence in ("annual", "16-day"):
            # the maps and composites of that year only, by the midpoint of their period
            # (a search also returns those touching the year at its ends)
            items = [it for it in items if _mid_year(it) == y]
        if items:
            if y != year:
                log.warning("%s: no %d map; using %d (the latest within %d years)",
                            source.name, year, y, LANDCOVER_LOOKBACK_YEARS)
            return items, y
    return [], year


def _zarr_asset(cat: Catalog, source: Source):
    """(href, xarray open kwargs) of a collection-level Zarr asset (Planetary Computer's
    TerraClimate), or None."""
    col = cat.sign(cat.collection(source.collection))
    for key, a in col.assets.items():
        if "zarr" in (a.media_type or "") or key.startswith("zarr"):
            return a.href, dict(a.extra_fields.get("xarray:open_kwargs", {"engine": "zarr"}))
    return None


def _require_zarr(href: str, source: Source) -> None:
    """The Zarr store of a collection needs zarr (and adlfs for az:// or abfs://), which
    carbon-balance does not install: say so before trying."""
    from importlib.util import find_spec

    needed = ["zarr"] + (["adlfs"] if href.startswith(("az://", "abfs://")) else
                         ["aiohttp"] if href.startswith("http") else [])
    missing = [m for m in needed if find_spec(m) is None]
    if missing:
        raise InputError(f"{source.collection} is a Zarr store ({href}); reading it needs "
                         f"{', '.join(missing)}", key=source.name,
                         fix=f"pip install {' '.join(missing)}, or point --stac-url at a "
                         "catalog with per-year NetCDF items (docs/inputs.md)")


def _clean_href(href: str) -> str:
    """An asset href without its query string (Planetary Computer's SAS token)."""
    parts = urlsplit(href)
    return urlunsplit(parts._replace(query="")) if parts.query else href


def _record(item, source: Source, asset: str) -> dict:
    start, end = item_period(item)
    a = item.assets.get(asset)
    return {"source": source.name, "collection": source.collection, "item": item.id,
            "asset": asset, "href": _clean_href(a.href) if a is not None else None,
            "start_datetime": start.isoformat(), "end_datetime": end.isoformat(),
            "licence": source.licence, "citation": source.citation}


def _monthly(cat: Catalog, source: Source, grid: TargetGrid, year: int, records: list):
    """(values, GeoBox): (12, y, x) [source units] of a monthly source for ``year`` on its
    own grid; of a 16-day source, (24, y, x) on the study grid: the 12 monthly
    composites, then the 12 counts of composites kept."""
    import dask.array as da

    items, _ = _search(cat, source, grid.bbox, year)
    if source.cadence == "16-day":
        if not items:
            raise _empty(cat, source, grid, year)
        items = [cat.sign(it) for it in items]
        raw, steps = load_cog(items, source, grid)
        months = composite.composite_months(steps, year)
        raw = raw.rechunk({0: -1})
        if source.quality_asset:
            qual, _ = load_cog(items, source, grid, asset=source.quality_asset,
                               resampling="nearest", nodata=source.quality_nodata)
            qual = qual.rechunk(raw.chunks)
        else:
            qual = da.zeros_like(raw)
        keep = source.quality_keep or None

        def block(r, q):
            v = composite.physical_values(r, scale=source.scale, offset=source.offset,
                                          nodata=source.nodata, valid_min=source.valid_min,
                                          valid_max=source.valid_max)
            if keep is not None:
                v = composite.quality_masked(v, q, keep)
            # 12 monthly maxima (months without a kept composite interpolated), then 12
            # counts of the composites kept (the record of the mask; 0 = filled)
            monthly = composite.fill_missing_months(composite.monthly_maximum(v, months))
            return np.concatenate([monthly, composite.monthly_counts(v, months).astype("float32")])

        records += [_record(it, source, source.asset) for it in items]
        if source.quality_asset:
            records += [_record(it, source, source.quality_asset) for it in items]
        return da.map_blocks(block, raw, qual, dtype="float32",
                             chunks=((24,),) + raw.chunks[1:]), grid.geobox()
    # monthly: NetCDF items (one file per year), or one Zarr store for the collection
    if items:
        items = [cat.sign(it) for it in items]
        hrefs = [it.assets[source.asset].href for it in items if source.asset in it.assets]
        records += [_record(it, source, source.asset) for it in items]
        kwargs = None
    else:
        zarr = _zarr_asset(cat, source)
        if zarr is None:
            raise _empty(cat, source, grid, year)
        hrefs, kwargs = [zarr[0]], zarr[1]
        _require_zarr(zarr[0], source)
        records.append({"source": source.name, "collection": source.collection, "item": None,
                        "asset": "zarr", "href": _clean_href(zarr[0]), "year": year,
                        "licence": source.licence, "citation": source.citation})
    with network_errors(f"reading {source.name} {year}", hrefs[0]):
        raw, native = load_netcdf(hrefs, source, grid, year, kwargs)
    return composite.physical_values(raw, scale=source.scale, offset=source.offset,
                                     nodata=source.nodata, valid_min=source.valid_min,
                                     valid_max=source.valid_max), native


def _annual(cat: Catalog, source: Source, grid: TargetGrid, year: int, records: list):
    """(1, y, x) of an annual source (land cover codes, or MOD17 NPP [g C m-2 yr-1])."""
    import dask.array as da

    items, used = _search(cat, source, grid.bbox, year)
    if not items:
        raise _empty(cat, source, grid, year)
    items = [cat.sign(it) for it in items]
    raw, _ = load_cog(items, source, grid)
    raw = raw[:1]   # the tiles of a year's map share a day and are mosaicked into one step
    records += [dict(_record(it, source, source.asset), year_used=used) for it in items]
    if source.role == "vegetation":
        return raw.astype("uint8")
    factor = G_PER_KG if source.units == "kg C m-2 yr-1" else 1.0
    return da.map_blocks(lambda r: composite.physical_values(
        r, scale=source.scale * factor, offset=source.offset * factor, nodata=source.nodata,
        valid_min=source.valid_min, valid_max=source.valid_max), raw, dtype="float32")


def _mid_year(item) -> int:
    start, end = item_period(item)
    return (start + (end - start) / 2).year


def _empty(cat: Catalog, source: Source, grid: TargetGrid, year: int) -> NetworkError:
    return NetworkError(f"no items of {source.collection} ({source.name}) for {year} in "
                        f"bbox {tuple(round(v, 4) for v in grid.bbox)}", file=cat.url,
                        fix="check that --bbox/--units and --years lie in the collection's "
                        "extent (docs/inputs.md lists them), or choose another --source")


def compute_job(cat: Catalog, job: Job, grid: TargetGrid, records: list):
    """(lazy array (bands, y, x), GeoBox) of one output raster. Climate stays on its own
    grid (``run`` aligns it); NDVI, land cover and the reference are on the study grid."""
    import dask.array as da

    def lazy(a):
        return da.asarray(a, chunks=(-1, CHUNK, CHUNK))

    if job.output == "temperature":
        (tmax, box), (tmin, box_min) = (_monthly(cat, s, grid, job.year, records)
                                        for s in job.sources)
        if tmax.shape != tmin.shape or box != box_min:
            raise NetworkError(f"{job.sources[0].name} and {job.sources[1].name} of {job.year} "
                               "are on different grids", file=cat.url,
                               fix="use one product for Tmax and Tmin (--source)")
        return da.map_blocks(composite.mean_temperature, lazy(tmax), lazy(tmin),
                             dtype="float32"), box
    src = job.sources[0]
    if src.cadence == "annual":
        return lazy(_annual(cat, src, grid, job.year, records)), grid.geobox()
    values, box = _monthly(cat, src, grid, job.year, records)
    return lazy(values), box


def write_rasters(outputs: dict, array, geobox, *, progress=None) -> list[Path]:
    """Write bands of a (bands, y, x) array block by block as tiled GeoTIFFs, each
    written whole under a temporary name, then renamed. ``outputs``: {path: (band slice,
    dtype, nodata)}; one pass over the blocks fills every file (the inputs are read once)."""
    import dask.array as da
    import rasterio
    from rasterio.windows import Window

    array = da.asarray(array)
    dsts = {}
    try:
        for path, (bands, dtype, nodata) in outputs.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            count = len(range(*bands.indices(array.shape[0])))
            dsts[path] = rasterio.open(
                path.with_name(path.name + ".part"), "w", driver="GTiff",
                width=geobox.shape.x, height=geobox.shape.y, count=count, dtype=dtype,
                crs=geobox.crs.to_wkt(), transform=geobox.affine, tiled=True,
                blockxsize=256, blockysize=256, compress="deflate", nodata=nodata)
        y0 = 0
        for ys in array.chunks[1]:
            x0 = 0
            for xs in array.chunks[2]:
                block = np.asarray(array[:, y0:y0 + ys, x0:x0 + xs].compute())
                for path, (bands, dtype, _) in outputs.items():
                    dsts[path].write(block[bands].astype(dtype), window=Window(x0, y0, xs, ys))
                x0 += xs
                if progress is not None:
                    progress()
            y0 += ys
    finally:
        for dst in dsts.values():
            dst.close()
    for path in outputs:
        os.replace(path.with_name(path.name + ".part"), path)
    return list(outputs)


def fetch_study(out, *, years, bbox=None, units=None, units_id=None, units_name=None,
                stac_url: str = PLANETARY_COMPUTER, crs: str = "EPSG:4326",
                resolution: float | None = None, choices=None, reference: bool = True,
                plan: bool = False, overwrite: bool = False, name: str | None = None,
                workers: int = 2, show_progress: bool = True):
    """Fetch every input of a study into the folder ``out``; see the module docstring.

    ``plan``: only search, and return the list of what would be fetched (nothing written).
    Returns the study file's path (or the plan, a list of dicts).
    """
    out = Path(out).resolve()
    years = sorted(set(int(y) for y in years))
    resolution = resolution or default_resolution(crs)
    margin = resolution if crs.upper() == "EPSG:4326" else 0.01
    units_section = None
    if units is not None:
        units = Path(units).resolve()
        bbox = units_bbox(units, units_id, units_name, 2 * margin)
        units_section = {"path": str(units), "id": units_id, "name": units_name}
    if bbox is None:
        raise InputError("no region given", key="--bbox", fix="give --bbox W S E N (degrees) "
                         "or --units FILE.gpkg --units-id COL --units-name COL")
    w, s, e, n = bbox
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(f"bbox {bbox} is not W S E N in degrees with W < E and S < N",
                         key="--bbox", fix="e.g. --bbox 113.0 29.0 115.0 31.0")
    if not plan and out.exists() and not overwrite:
        raise OutputExistsError("the output folder already exists", file=out,
                                fix="choose another --out folder, or pass --overwrite to replace it")
    grid = TargetGrid(tuple(float(v) for v in bbox), crs, float(resolution))
    sources = select_sources(choices)
    jobs = plan_jobs(years, sources, reference=reference)
    cat = Catalog(stac_url)
    if plan:
        return _plan(cat, jobs, grid)
    staging = out.parent / f".{out.name}.fetching"
    records_dir = staging / ".records"
    _prepare_staging(staging, records_dir, {
        "stac_url": stac_url, "bbox": list(grid.bbox), "crs": crs, "resolution": resolution,
        "sources": sorted(s.name for s in sources.values())})
    todo = [j for j in jobs if not ((staging / j.path).is_file()
                                    and (records_dir / (j.path.replace("/", "__") + ".json")).is_file())]
    if len(todo) < len(jobs):
        log.info("resuming: %d of %d rasters already fetched in %s", len(jobs) - len(todo),
                 len(jobs), staging)
    try:
        _run_jobs(cat, todo, grid, staging, records_dir, workers, show_progress)
    except NetworkError as exc:
        p = exc.problem
        raise NetworkError(p.message, file=p.file, key=p.key,
                           fix=f"{p.fix}. Nothing was written to {out}; the rasters finished "
                           f"so far are kept in {staging} and a rerun fetches only the rest") from None
    records = []
    for j in jobs:
        records.append(json.loads((records_dir / (j.path.replace("/", "__") + ".json"))
                                  .read_text(encoding="utf-8")))
    sources_json = {
        "tool": "carbon-balance", "version": __version__, "command": "fetch",
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "stac_url": stac_url, "bbox": list(grid.bbox), "crs": crs, "resolution": resolution,
        "years": years,
        "sources": {s.role: {k: v for k, v in s.__dict__.items()} for s in sources.values()},
        "quality_masks": {s.name: {"asset": s.quality_asset, "kept_values": list(s.quality_keep),
                                   "rule": "pixels whose quality value is not kept are NaN before "
                                   "the monthly maximum",
                                   "counts": COUNTS.format(output=s.role, year="{year}")}
                          for s in sources.values() if s.quality_asset},
        "rasters": records,
    }
    (staging / "sources.json").write_text(json.dumps(sources_json, indent=2, default=str) + "\n",
                                          encoding="utf-8")
    _copy_class_table(sources["vegetation"], staging)
    study_path = staging / "study.toml"
    study_path.write_text(study_toml(name or out.name, years, units_section, stac_url,
                                     sources, reference=reference), encoding="utf-8")
    shutil.rmtree(records_dir)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out / "study.toml"


def _prepare_staging(staging: Path, records_dir: Path, request: dict) -> None:
    """Create the hidden staging folder, or reuse the one of an interrupted fetch of the
    same request (same catalog, region, grid and sources; years may differ). The
    rasters of another request are removed, never mixed in."""
    marker = records_dir / "request.json"
    if staging.exists():
        same = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == request
        if not same:
            log.info("%s holds rasters of another request; starting afresh", staging)
            shutil.rmtree(staging)
    records_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(request), encoding="utf-8")


def _copy_class_table(source: Source, staging: Path) -> None:
    from importlib import resources

    target = staging / CLASS_TABLE.format(name=source.classes)
    target.parent.mkdir(parents=True, exist_ok=True)
    table = resources.files("carbon_balance.casa").joinpath("tables", f"{source.classes}.csv")
    target.write_text(table.read_text(encoding="utf-8"), encoding="utf-8")


def job_outputs(job: Job, folder: Path) -> dict:
    """{path: (band slice, dtype, nodata)} of the files one job writes."""
    if job.output == "vegetation":
        return {folder / job.path: (slice(None), "uint8", 0)}
    if job.sources[0].cadence == "16-day":   # monthly values, then the composite counts
        counts = folder / COUNTS.format(output=job.output, year=job.year)
        return {folder / job.path: (slice(0, 12), "float32", np.nan),
                counts: (slice(12, 24), "uint8", None)}
    return {folder / job.path: (slice(None), "float32", np.nan)}


def _run_jobs(cat, jobs, grid, staging, records_dir, workers, show_progress):
    from rich.progress import Progress

    with Progress(disable=not show_progress, transient=False) as bar:
        def one(job: Job):
            records: list = []
            with network_errors(f"finding {job.output} {job.year}", cat.url):
                array, box = compute_job(cat, job, grid, records)
            n_blocks = len(array.chunks[1]) * len(array.chunks[2])
            task = bar.add_task(f"{job.output} {job.year}", total=n_blocks)
            outputs = job_outputs(job, staging)
            with network_errors(f"reading {job.output} {job.year}", cat.url):
                write_rasters(outputs, array, box, progress=lambda: bar.advance(task))
            (records_dir / (job.path.replace("/", "__") + ".json")).write_text(
                json.dumps({"path": job.path, "output": job.output, "year": job.year,
                            "files": [p.relative_to(staging).as_posix() for p in outputs],
                            "items": records}, default=str), encoding="utf-8")

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for f in [pool.submit(one, j) for j in jobs]:
                f.result()


def _plan(cat: Catalog, jobs: list[Job], grid: TargetGrid) -> list[dict]:
    geobox = grid.geobox()
    rows = []
    for job in jobs:
        n_items, size = 0, 0
        for src in job.sources:
            items, used = _search(cat, src, grid.bbox, job.year)
            if not items and src.role.startswith(("temperature", "precipitation", "radiation")):
                n_items += 1 if _zarr_asset(cat, src) else 0
            n_items += len(items)
            for it in items:
                for key in filter(None, (src.asset, src.quality_asset)):
                    a = it.assets.get(key)
                    size += int(a.extra_fields.get("file:size", 0)) if a is not None else 0
        bands = 1 if job.output in ("vegetation", "reference") else 12
        nbytes = bands * geobox.shape.x * geobox.shape.y * (1 if job.output == "vegetation" else 4)
        rows.append({"raster": job.path, "year": job.year,
                     "sources": ", ".join(s.name for s in job.sources), "items": n_items,
                     "listed_input_bytes": size or None, "output_bytes_max": nbytes})
    return rows


def study_toml(name: str, years, units_section, stac_url, sources, *, reference: bool) -> str:
    """The study file of a fetched folder (paths relative to it)."""
    veg = sources["vegetation"]
    lines = [
        f"# Written by `carbon-balance fetch` {__version__} from {stac_url}.",
        "# Every raster is an observation-based product (none is generated); sources.json",
        "# lists each item, its licence and citation. Check it: carbon-balance validate study.toml",
        "",
        "[study]",
        f"name = {json.dumps(name)}",
        f"years = [{', '.join(str(y) for y in years)}]",
        f"description = {json.dumps('Inputs fetched with carbon-balance fetch: ' + ', '.join(s.name for s in sources.values()))}",
        "",
    ]
    for key, (pattern, _, units) in OUTPUTS.items():
        if key == "reference":
            continue
        lines.append(f"[inputs.{key}]")
        lines.append(f'path = "{pattern}"')
        if units:
            lines.append(f'units = "{units}"')
        if key == "vegetation":
            lines.append(f'classes = "{CLASS_TABLE.format(name=veg.classes)}"   '
                         '# the crosswalk to the CASA types; edit it for your region')
        lines.append("")
    if units_section:
        lines += ["[units]", f"path = {json.dumps(units_section['path'])}",
                  f"id = {json.dumps(units_section['id'])}",
                  f"name = {json.dumps(units_section['name'])}", ""]
    else:
        lines += ["# [units]: add the polygons of your cities or counties before `run`",
                  '# path = "boundaries/cities.gpkg"', '# id = "code"', '# name = "name"', ""]
    if reference:
        lines += ["[reference]", f'npp = "{OUTPUTS["reference"][0]}"',
                  f'units = "{OUTPUTS["reference"][2]}"', ""]
    lines += [
        "# [emissions] and [gdp] are yours to add before `carbon-balance run` (docs/accounting.md):",
        "# [emissions]",
        '# path = "ceads/emissions.csv"',
        '# format = "wide"',
        '# units = "Mt CO2"',
        "# [gdp]",
        '# path = "gdp/gdp.csv"',
        '# format = "wide"',
        '# units = "1e8 yuan"',
        "",
    ]
    return "\n".join(lines)
