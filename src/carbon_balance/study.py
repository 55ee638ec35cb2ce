"""The study file: one TOML file that says what to compute, from which inputs, and how.

Paths in the file are relative to the file itself. The schema below is the single
source of truth for validation, the ``docs/study-file.md`` reference and the help text.
A minimal study (see ``docs/study-file.md`` for every key)::

    [study]
    name = "MRYRUA"
    years = [2005, 2010, 2015, 2020]

    [inputs.ndvi]
    path = "ndvi/ndvi_{year}.tif"        # one 12-band file per year
    scale = 0.0001
    [inputs.temperature]
    path = "climate/tmp_{year}.tif"
    units = "degC"
    ...
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .casa.tables import TABLE_NAMES
from .errors import Problem, ProblemsError, StudyError

#: Units accepted for each climate input, with the factor (and offset) to the model's
#: units. Radiation in "W/m2" is a monthly mean flux and is converted with the days of
#: the month (METHOD.md section 1), so it is handled in ``grid.conversions``.
TEMPERATURE_UNITS = ("degC", "0.1 degC", "K")
PRECIPITATION_UNITS = ("mm/month", "0.1 mm/month")
RADIATION_UNITS = ("MJ/m2/month", "W/m2", "kWh/m2/month")
VEGETATION_CLASSES = TABLE_NAMES  # the class tables shipped in casa/tables/
#: The raster inputs, in the order of the [inputs] tables; the first four are monthly.
INPUT_NAMES = ("ndvi", "temperature", "precipitation", "radiation", "vegetation")
MONTHLY_INPUTS = INPUT_NAMES[:4]


def safe_resolve(path: Path) -> Path:
    """``path.resolve()``, or the absolute path where a symbolic link loops (the file is
    then reported as missing or unreadable, not as a crash)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        import os
        return Path(os.path.abspath(path))


def check_path_text(path: str) -> str:
    """Refuse characters no file system accepts in a path."""
    if "\x00" in path:
        raise ValueError("the path holds a NUL character (\\u0000)")
    return path


#: The placeholders a raster path may hold.
PLACEHOLDERS = ("year", "month")


def check_placeholders(pattern: str) -> str:
    """Refuse placeholders other than {year} and {month}, and format specs that do not
    format an integer (e.g. {year:s}); ``{{`` and ``}}`` stand for braces."""
    import string

    check_path_text(pattern)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as exc:
        raise ValueError(f"unbalanced braces in the path ({exc}); write {{{{ and }}}} for "
                         "literal braces") from None
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)} "
                         "in the path; only {year} and {month} (e.g. {month:02d}) are filled in")
    try:
        pattern.format(year=2005, month=1)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValueError(f"the path's placeholders cannot be filled in ({exc}); use {{year}} "
                         "and {month} or {month:02d}") from None
    return pattern


#: The fix of every problem with ``[study] years``.
YEARS_FIX = ('write the years as a list, years = [2001, 2002, 2003], or as a text of years '
             'and ranges (both ends included), years = "2001-2020" or "2001-2005, 2010"')
#: The calendar years a study may hold.
FIRST_YEAR, LAST_YEAR = 1900, 2100


def parse_years(text: str) -> list[int]:
    """The years of a range text: ``"2001-2020"`` (both ends included), ``"2005"``, or
    pieces separated by commas, ``"2001-2005, 2010"``; ascending, each year once.

    Raises ``ValueError`` saying which piece is wrong (the callers add :data:`YEARS_FIX`).
    """
    pieces = [p.strip() for p in str(text).split(",")]
    if not any(pieces):
        raise ValueError("the years text is empty")
    years: list[int] = []
    whole = f" in {text!r}" if len(pieces) > 1 else ""
    for piece in pieces:
        if not piece:
            raise ValueError(f"empty piece between commas in {text!r}")
        ends = [e.strip() for e in piece.replace("\u2013", "-").split("-")]
        if len(ends) > 2 or not all(e.isascii() and e.isdigit() and len(e) == 4 for e in ends):
            raise ValueError(f"{piece!r}{whole} is neither a four-digit year nor a "
                             "range of two (2001-2020)")
        first, last = int(ends[0]), int(ends[-1])
        if last < first:
            raise ValueError(f"the range {piece!r} ends before it starts; write the earlier "
                             f"year first ({last}-{first})")
        if years and first <= years[-1]:
            raise ValueError(f"{piece!r}{whole} repeats or comes before {years[-1]}; "
                             "the pieces must be ascending and must not overlap")
        years += range(first, last + 1)
    return years


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudySection(_Section):
    name: str = Field(description="Name of the study, used in titles and the report.")
    years: list[int] = Field(min_length=1, description="Study years, ascending: a list "
                             "[2005, 2010, 2015, 2020] or a text of years and ranges, both "
                             "ends included: \"2001-2020\", \"2001-2005, 2010\".")
    description: str = Field("", description="Free text shown in the report.")
    generated_inputs: bool = Field(
        False, description="True when some inputs are generated (synthetic), not observed; "
        "every figure and page then says so.")
    generated_note: str = Field("", description="What is generated, shown with the label.")

    @field_validator("years", mode="before")
    @classmethod
    def _years_text(cls, v):
        if isinstance(v, list):
            return v
        if not isinstance(v, str):
            raise PydanticCustomError("years_type", "years must be a list of years or a "
                                      "text of years and ranges, not {given}",
                                      {"given": repr(v), "fix": YEARS_FIX})
        try:
            return parse_years(v)
        except ValueError as exc:
            raise PydanticCustomError("years_text", "{reason}",
                                      {"reason": str(exc), "fix": YEARS_FIX}) from None

    @field_validator("years")
    @classmethod
    def _years_sorted(cls, v: list[int]) -> list[int]:
        if sorted(set(v)) != list(v):
            raise PydanticCustomError("years_order", "years must be unique and ascending, "
                                      "e.g. [2005, 2010, 2015, 2020]", {"fix": YEARS_FIX})
        if any(y < FIRST_YEAR or y > LAST_YEAR for y in v):
            raise PydanticCustomError("years_range", "years must be four-digit calendar "
                                      f"years between {FIRST_YEAR} and {LAST_YEAR}",
                                      {"fix": YEARS_FIX})
        return v


class RasterInput(_Section):
    path: str = Field(description="File path pattern relative to the study file; may use "
                      "{year} and {month:02d}. One 12-band (or 12-step NetCDF) file per year, "
                      "or one file per month.")
    scale: float = Field(1.0, allow_inf_nan=False, description="value = raw * scale + offset")
    offset: float = Field(0.0, allow_inf_nan=False, description="value = raw * scale + offset")
    nodata: float | None = Field(None, description="Raw nodata value; default: the file's own.")
    units: str | None = Field(None, description="Declared units of the (scaled) values.")
    variable: str | None = Field(None, description="NetCDF variable name (default: the only one).")
    resampling: str | None = Field(None, description="Resampling onto the study grid: bilinear, "
                                   "average, nearest or mode (default: bilinear for continuous "
                                   "fields, mode for classes).")
    classes: str | None = Field(None, description="Vegetation only: class table (casa, cas-lucc, "
                                "modis-igbp, esa-worldcover, clcd) or a CSV path.")

    @field_validator("path")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        return check_placeholders(v)


class Inputs(_Section):
    ndvi: RasterInput
    temperature: RasterInput
    precipitation: RasterInput
    radiation: RasterInput
    vegetation: RasterInput

    @model_validator(mode="after")
    def _units(self) -> "Inputs":
        checks = [("temperature", TEMPERATURE_UNITS, "degC"),
                  ("precipitation", PRECIPITATION_UNITS, "mm/month"),
                  ("radiation", RADIATION_UNITS, "MJ/m2/month")]
        for name, allowed, default in checks:
            units = getattr(self, name).units
            if units is not None and units not in allowed:
                raise ValueError(f"inputs.{name}.units = {units!r} is not one of {allowed}")
        classes = self.vegetation.classes
        if classes is None:
            raise ValueError("inputs.vegetation.classes is required: one of "
                             f"{VEGETATION_CLASSES} or the path of a class table CSV")
        return self


class CasaSection(_Section):
    ndvi_bounds: Literal["percentile", "zhu", "table"] = Field(
        "percentile", description="Per-class NDVI bounds: the lower/upper percentiles of the "
        "class's valid NDVI (the paper's); 'zhu': NDVI_min 0.023 for every class and "
        "NDVI_max the upper percentile (Zhu et al. 2006 practice); or the Zhu et al. table.")
    ndvi_bounds_pool: Literal["study", "year"] = Field(
        "study", description="Which NDVI the percentiles pool: 'study' (every month of every "
        "study year together, so greening between years shows in NPP) or 'year' (each year "
        "its own bounds: NDVI becomes a within-year rank). Either way only cells at least "
        "partly inside a unit (the whole grid when the study has no units).")
    lower_percentile: float = Field(5.0, ge=0, le=100)
    upper_percentile: float = Field(95.0, ge=0, le=100)
    rn_coefficient: float = Field(0.598, gt=0, description="Zhou & Zhang (1995) Rn coefficient.")
    rh_coefficient: float = Field(0.0913, gt=0, description="Pei et al. (2009) Rh exponent (per degC).")


class AccountingSection(_Section):
    method: Literal["exact", "centres"] = Field(
        "exact", description="Zonal sums: 'exact' partial-cell coverage (exactextract), or "
        "'centres' (a cell counts whole for the unit holding its centre: faster and "
        "chunked for national 30 m grids, but it misses or double-counts boundary cells).")


class GridSection(_Section):
    crs: str | None = Field(None, description="CRS of the study grid (default: the NDVI grid's).")
    resolution: float | None = Field(None, gt=0, description="Cell size in CRS units.")
    bounds: tuple[float, float, float, float] | None = Field(
        None, description="xmin, ymin, xmax, ymax in the grid CRS (default: the NDVI extent).")
    chunk_size: int = Field(1024, ge=16, description="Chunk edge in pixels for dask.")


class ChecksSection(_Section):
    """How strictly the inputs are checked (docs/bad-input.md)."""

    min_valid_fraction: float = Field(
        0.5, ge=0, le=1, allow_inf_nan=False, description="Smallest share of valid (not "
        "nodata, finite) values an input may have inside the units (the whole grid without "
        "units) in any year; below it the run stops naming the file, the year and the share.")


class UnitsSection(_Section):
    path: str = Field(description="Polygons: GeoPackage, Shapefile or GeoJSON.")

    @field_validator("path")
    @classmethod
    def _path_text(cls, v: str) -> str:
        return check_path_text(v)
    id: str = Field(description="Column with a unique id per unit.")
    name: str = Field(description="Column with the unit's display name.")
    group: str | None = Field(None, description="Optional column grouping units (e.g. agglomerations).")
    layer: str | None = Field(None, description="Layer of a multi-layer GeoPackage.")


class TableSection(_Section):
    path: str = Field(description="CSV or XLSX table.")

    @field_validator("path")
    @classmethod
    def _path_text(cls, v: str) -> str:
        return check_path_text(v)
    format: Literal["ceads-county", "wide", "long"] = "wide"
    id: str = Field("unit_id", description="Column with the unit id (for ceads-county, the "
                    "column with the city code the counties are summed to).")
    year: str = Field("year", description="long format: the year column.")
    value: str = Field("value", description="long format: the value column.")
    sheet: str | int | None = Field(None, description="XLSX sheet (default: the first).")
    fill: Literal["arima", "naive", "drift", "ets", "best", "none"] | None = Field(
        None, description="How study years missing from the table are estimated.")
    decimal: Literal[".", ","] = Field(".", description="Decimal mark of the table's numbers "
                                       "(\",\" for 55,05).")
    thousands: Literal[",", ".", " ", "'"] | None = Field(
        None, description="Thousands separator of the table's numbers, if any (1,234.5).")

    @model_validator(mode="after")
    def _marks_differ(self) -> "TableSection":
        if self.thousands == self.decimal:
            raise ValueError(f"decimal and thousands are both {self.decimal!r}; they must differ")
        return self


class EmissionsSection(TableSection):
    units: Literal["Mt CO2", "t CO2", "t C"] = "Mt CO2"
    fill: Literal["arima", "naive", "drift", "ets", "best", "none"] = "arima"


class GdpSection(TableSection):
    units: Literal["yuan", "1e4 yuan", "1e8 yuan"] = "1e8 yuan"
    fill: Literal["arima", "none"] = "none"


class ZoningSection(_Section):
    basis: Literal["CO2", "C"] = "CO2"
    ecc_threshold: float = 1.0
    esc_threshold: float = 1.0


class UncertaintySection(_Section):
    """What the Monte Carlo draws (issues 7 and 11; docs/uncertainty.md). Factors are
    uniform within +/- their relative range; coefficient variants are equiprobable; the
    NDVI bound modes are scenarios beside the draws, never drawn."""

    draws: int = Field(1000, ge=1)
    seed: int = 20240297
    eps_max_relative: float = Field(0.20, ge=0, lt=1, description="epsilon_max of each "
                                    "vegetation type times an independent uniform factor "
                                    "1 +/- this fraction.")
    rh_scale_relative: float = Field(0.20, ge=0, lt=1, description="The Rh scale factor "
                                     "0.22 (Pei et al. 2009) times a uniform factor 1 +/- "
                                     "this fraction.")
    rn_coefficient: list[float] = Field([0.589, 0.598], min_length=1, description="Variants "
                                        "of the Zhou-Zhang Rn coefficient in use (a "
                                        "transcription variant, not a range): one is drawn, "
                                        "each equally likely.")
    rh_coefficient: list[float] = Field([0.0912, 0.0913], min_length=1, description="Variants "
                                        "of the Pei et al. Rh exponent [1/degC] (the original "
                                        "and the study's): one is drawn, each equally likely.")
    ndvi_bounds: list[Literal["percentile", "zhu", "table"]] = Field(
        ["percentile", "table"], min_length=1, description="NDVI bound modes reported as "
        "scenarios (plain results beside the draws); the draws use [casa] ndvi_bounds.")
    emissions_interval: bool = Field(True, description="Draw estimated emissions from their "
                                     "95 % forecast interval.")
    emissions_correlation: float = Field(0.5, ge=0, le=1, description="Correlation of the "
                                         "estimated emissions' errors between any two units "
                                         "in a draw and year (equicorrelated normal).")

    @field_validator("rn_coefficient", "rh_coefficient")
    @classmethod
    def _positive_variants(cls, v):
        if any(x <= 0 for x in v):
            raise ValueError("every variant must be > 0")
        return sorted(set(v))


class ReferenceSection(_Section):
    """An independent NPP product to set beside the CASA NPP (docs/inputs.md)."""

    npp: str = Field(description="Annual NPP raster(s) of an independent product, any grid; "
                     "may use {year}, e.g. MODIS MOD17A3HGF (carbon-balance fetch fills it).")
    scale: float = Field(1.0, description="value = raw * scale + offset")
    offset: float = Field(0.0, description="value = raw * scale + offset")
    nodata: float | None = Field(None, description="Raw nodata value; default: the file's own.")
    units: Literal["g C m-2 yr-1", "kg C m-2 yr-1"] = Field(
        "g C m-2 yr-1", description="Units of the (scaled) values.")

    def path(self, study: "Study", year: int) -> Path:
        """The reference raster of ``year``."""
        return study.resolve(self.npp.format(year=year))


class Study(_Section):
    """A validated study file. ``root`` is the folder the relative paths start from."""

    study: StudySection
    inputs: Inputs | None = None
    casa: CasaSection = CasaSection()
    grid: GridSection = GridSection()
    units: UnitsSection | None = None
    emissions: EmissionsSection | None = None
    gdp: GdpSection | None = None
    zoning: ZoningSection = ZoningSection()
    accounting: AccountingSection = AccountingSection()
    checks: ChecksSection = ChecksSection()
    uncertainty: UncertaintySection = UncertaintySection()
    reference: ReferenceSection | None = None
    root: Path = Field(Path("."), exclude=True)
    source: Path | None = Field(None, exclude=True)

    def resolve(self, relative: str | Path) -> Path:
        """Absolute path of a path written in the study file."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else safe_resolve(self.root / p)

    def input_paths(self, name: str, year: int) -> list[Path]:
        """The file(s) of input ``name`` for ``year``: one path, or 12 (one per month)."""
        pattern = getattr(self.inputs, name).path
        if "{month" in pattern:
            return [self.resolve(pattern.format(year=year, month=m)) for m in range(1, 13)]
        return [self.resolve(pattern.format(year=year))]

    def raster_files(self) -> list[Path]:
        """Every raster input file, and a class table of the study's own (the built-in
        ones are part of the version), once each."""
        files: list[Path] = []
        if self.inputs is None:
            return files
        for year in self.study.years:
            for name in INPUT_NAMES:
                files += self.input_paths(name, year)
        if self.inputs.vegetation.classes not in VEGETATION_CLASSES:
            files.append(self.resolve(self.inputs.vegetation.classes))
        return list(dict.fromkeys(files))

    def input_files(self) -> list[Path]:
        """Every input file of the study (rasters and tables), for the manifest's hashes."""
        files = self.raster_files()
        for section in (self.units, self.emissions, self.gdp):
            if section is not None:
                files.append(self.resolve(section.path))
        if self.reference is not None:
            files += [self.reference.path(self, year) for year in self.study.years]
        return list(dict.fromkeys(files))


_SECTION_KEYS: dict[str, Any] = {
    "": Study, "study": StudySection, "casa": CasaSection, "grid": GridSection,
    "units": UnitsSection, "emissions": EmissionsSection, "gdp": GdpSection,
    "zoning": ZoningSection, "accounting": AccountingSection, "checks": ChecksSection,
    "uncertainty": UncertaintySection, "inputs": Inputs,
    "reference": ReferenceSection,
}


def _valid_keys(loc: tuple) -> list[str]:
    """Valid keys at the place a pydantic error points to (for 'did you mean')."""
    model: Any = Study
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        ann = field.annotation
        for cand in getattr(ann, "__args__", (ann,)):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                model = cand
                break
        else:
            return []
    return [k for k in model.model_fields if k not in ("root", "source")]


def problems_from_validation(exc: ValidationError, file: str) -> list[Problem]:
    """Turn pydantic errors into :class:`Problem` items with a fix each."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or None
        if err["type"] == "extra_forbidden":
            valid = _valid_keys(loc)
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            fix = (f"did you mean '{close[0]}'?" if close else
                   f"remove it; valid keys here are: {', '.join(valid)}")
            problems.append(Problem(f"unknown key '{loc[-1]}'", file, key, fix))
        elif err["type"] == "missing":
            problems.append(Problem("required key is missing", file, key,
                                    f"add '{loc[-1]}' (see docs/study-file.md)"))
        else:
            msg = err["msg"].removeprefix("Value error, ")
            fix = (err.get("ctx") or {}).get("fix") or "correct the value (see docs/study-file.md)"
            problems.append(Problem(msg, file, key, fix))
    return problems


def parse_study(text: str, *, root: Path = Path("."), source: Path | None = None) -> Study:
    """Parse and validate study-file text. Raises :class:`ProblemsError` listing every problem."""
    file = str(source) if source else "<study>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"TOML syntax error: {exc}", file=file,
                         fix="correct the syntax at that line (strings need quotes, "
                         "tables are written [section])") from None
    try:
        return Study(**data, root=root, source=source)
    except ValidationError as exc:
        raise ProblemsError(problems_from_validation(exc, file)) from None
    except TypeError as exc:  # e.g. a top-level key that is not a table
        raise StudyError(str(exc), file=file, fix="each section must be a [table]") from None


def load_study(path: str | Path) -> Study:
    """Read, parse and validate a study file; paths in it are relative to its folder."""
    path = Path(path)
    try:
        # utf-8-sig: Windows editors (Notepad) save UTF-8 with a byte-order mark
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StudyError("study file not found", file=path,
                         fix="check the path; relative paths start from the current folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"cannot read the study file ({exc.__class__.__name__})", file=path,
                         fix="save it as UTF-8 text and check its permissions") from None
    return parse_study(text, root=path.resolve().parent, source=path)
