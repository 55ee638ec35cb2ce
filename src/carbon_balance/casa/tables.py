"""Vegetation class tables: the 12 CASA vegetation types and crosswalks from land-cover products.

The canonical table ``casa`` lists the types (code 0 non-vegetated ... 11 other vegetation)
with their maximum light-use efficiency and table-mode NDVI bounds. Crosswalk tables map
the codes of a land-cover product (``cas-lucc``, ``modis-igbp``, ``esa-worldcover``,
``clcd``) to these types. A user CSV in the crosswalk layout works the same way::

    code,name,casa_code,source
    21,forest land,6,my regional forest inventory

An empty ``casa_code`` marks a nodata code (outputs NaN there). Lines starting with ``#``
are comments. Sources of every shipped table are in its header and in docs/method.md.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

#: Names of the shipped tables (file ``tables/<name>.csv``).
TABLE_NAMES = ("casa", "cas-lucc", "modis-igbp", "esa-worldcover", "clcd", "esa-cci-lc")
#: Number of CASA vegetation types (codes 0..11).
N_TYPES = 12
#: Integer used for "nodata" after the crosswalk (outputs NaN).
NODATA = -1

_CROSSWALK_COLUMNS = ("code", "name", "casa_code")


def _read_csv(source) -> pd.DataFrame:
    return pd.read_csv(source, comment="#", skipinitialspace=True, dtype={"name": str})


@cache
def _shipped(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath("tables").joinpath(f"{name}.csv").open("r", encoding="utf-8") as f:
        return _read_csv(f)


def vegetation_types() -> pd.DataFrame:
    """The canonical CASA vegetation types.

    Parameters
    ----------
    None: the shipped table ``tables/casa.csv``.

    Returns
    -------
    DataFrame with columns ``code`` (0..11), ``name``, ``eps_max`` [g C MJ-1],
    ``ndvi_min``, ``ndvi_max`` [-] (table-mode bounds, NaN for non-vegetated),
    ``vegetated`` (bool) and ``source``.

    References: Zhu W. et al. 2006, Chin. Sci. Bull. 51:457;
    Zhu W., Pan Y., Zhang J. 2007, J. Plant Ecol. 31:413.

    Examples
    --------
    >>> vegetation_types().set_index("code").loc[4, "eps_max"]   # evergreen broadleaf
    np.float64(0.985)
    """
    df = _shipped("casa").copy()
    df["vegetated"] = df["vegetated"].astype(bool)
    return df


def load_class_table(name_or_csv_path: str | Path = "casa") -> pd.DataFrame:
    """Read a class table: a shipped name (see :data:`TABLE_NAMES`) or a CSV path.

    Parameters
    ----------
    name_or_csv_path : str or Path
        "casa", "cas-lucc", "modis-igbp", "esa-worldcover", "clcd", or a CSV in the
        crosswalk layout (``code,name,casa_code[,source]``).

    References
    ----------
    The sources of each shipped table are in its header (CAS/RESDC: Liu J. et al. 2014,
    doi:10.1007/s11442-014-1082-6; MODIS MCD12Q1: doi:10.5067/MODIS/MCD12Q1.006; ESA
    WorldCover: doi:10.5281/zenodo.5571936; CLCD: doi:10.5194/essd-13-3907-2021).

    Examples
    --------
    >>> load_class_table("modis-igbp").set_index("code").loc[2, "casa_code"]
    np.int64(4)

    Returns a DataFrame with at least ``code`` (int), ``name`` and ``casa_code``
    (int, :data:`NODATA` for nodata codes). For ``"casa"`` the CASA parameter columns
    are included and ``casa_code == code``.

    Raises :class:`~carbon_balance.errors.InputError` naming the file and column when
    the table is unreadable, lacks a column, repeats a code or maps to an unknown type.
    """
    label = str(name_or_csv_path)
    if isinstance(name_or_csv_path, str) and name_or_csv_path in TABLE_NAMES:
        df = vegetation_types() if name_or_csv_path == "casa" else _shipped(name_or_csv_path).copy()
        if name_or_csv_path == "casa":
            df["casa_code"] = df["code"]
    else:
        path = Path(name_or_csv_path)
        if not path.is_file():
            raise InputError("class table not found", file=label, key="classes",
                             fix=f"use one of {', '.join(TABLE_NAMES)} or the path of a CSV "
                             "with columns code,name,casa_code")
        try:
            df = _read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the class table ({exc.__class__.__name__})",
                             file=label, fix="save it as a UTF-8 CSV with a header line "
                             "code,name,casa_code") from None
        df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _CROSSWALK_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"class table lacks column(s) {', '.join(missing)}", file=label,
                         key=missing[0], fix="the header must be code,name,casa_code[,source]")
    codes = pd.to_numeric(df["code"], errors="coerce")
    if codes.isna().any() or (codes != np.round(codes)).any():
        raise InputError("every code must be an integer", file=label, key="code",
                         fix="fill the code column with the product's integer class codes")
    dup = codes[codes.duplicated()].unique()
    if len(dup):
        raise InputError(f"codes listed twice: {sorted(int(c) for c in dup)}", file=label,
                         key="code", fix="keep one row per code")
    casa = pd.to_numeric(df["casa_code"], errors="coerce")
    bad = df.loc[casa.notna() & ~casa.isin(range(N_TYPES)), "code"]
    if len(bad):
        raise InputError(f"casa_code outside 0..{N_TYPES - 1} for codes {bad.astype(int).tolist()}",
                         file=label, key="casa_code",
                         fix="use a CASA type 0..11 (see docs/method.md) or leave it empty for nodata")
    df["code"] = codes.astype(np.int64)
    df["casa_code"] = casa.fillna(NODATA).astype(np.int64)
    return df


@cache
def _shipped_lookup(name):
    table = load_class_table(name)
    return table["code"].to_numpy(np.int64), table["casa_code"].to_numpy(np.int64), name


def _lookup(classes) -> tuple[np.ndarray, np.ndarray, str]:
    if isinstance(classes, str) and classes in TABLE_NAMES:
        return _shipped_lookup(classes)
    table = classes if isinstance(classes, pd.DataFrame) else load_class_table(classes)
    return table["code"].to_numpy(np.int64), table["casa_code"].to_numpy(np.int64), str(
        "class table" if isinstance(classes, pd.DataFrame) else classes)


def to_casa_codes(codes_array, classes="casa") -> np.ndarray:
    """Cross-walk land-cover codes to CASA types 0..11.

    Parameters
    ----------
    codes_array : array of int or float
        Land-cover codes of the product ``classes``; NaN (float input) is nodata.
    classes : str, Path or DataFrame
        Table name, CSV path, or a table from :func:`load_class_table`.

    Returns
    -------
    int8 array of the same shape: the CASA type, or :data:`NODATA` (-1) for nodata.

    Raises InputError listing the codes missing from the table.

    References
    ----------
    See :func:`load_class_table` for the sources of the shipped tables.

    Examples
    --------
    >>> to_casa_codes([21, 42, 51], "cas-lucc").tolist()   # forest, water, urban
    [6, 0, 0]
    """
    codes = np.asarray(codes_array)
    src, dst, label = _lookup(classes)
    out = np.full(codes.shape, NODATA, dtype=np.int8)
    if codes.dtype.kind == "f":
        valid = np.isfinite(codes)
        ints = np.where(valid, codes, 0)
        nonint = valid & (ints != np.round(ints))
        if nonint.any():
            raise InputError(f"vegetation codes are not integers (e.g. {codes[nonint].flat[0]!r})",
                             file=label, key="classes",
                             fix="resample the land-cover raster with 'mode' or 'nearest'")
        ints = ints.astype(np.int64)
    elif codes.dtype.kind in "iub":
        valid = np.ones(codes.shape, dtype=bool)
        ints = codes.astype(np.int64, copy=False)
    else:
        raise InputError(f"vegetation codes have dtype {codes.dtype}", file=label, key="classes",
                         fix="pass an integer (or float with NaN nodata) array of class codes")
    lo, hi = int(src.min()), int(src.max())
    # A dense lookup table is O(1) per pixel; codes outside [lo, hi] are missing by definition.
    lut = np.full(hi - lo + 1, -2, dtype=np.int8)
    lut[src - lo] = dst
    inside = valid & (ints >= lo) & (ints <= hi)
    out[inside] = lut[ints[inside] - lo]
    missing_mask = valid & ((out == -2) | ~inside)
    if missing_mask.any():
        missing = np.unique(ints[missing_mask])
        shown = ", ".join(str(int(c)) for c in missing[:20]) + (" ..." if len(missing) > 20 else "")
        raise InputError(f"vegetation codes missing from the class table: {shown}", file=label,
                         key="code", fix="add rows for these codes (code,name,casa_code) to the "
                         "class table, or choose the table that matches the land-cover product")
    return out


def casa_parameters(eps_max=None) -> dict[str, np.ndarray]:
    """Per-type parameter vectors indexed by CASA code 0..11.

    Parameters
    ----------
    eps_max : mapping {casa_code: ε_max [g C MJ-1]}, optional
        Values overriding the table's (Zhu et al. 2006).

    Returns
    -------
    dict of fresh, writable arrays: ``eps_max``, ``ndvi_min``, ``ndvi_max`` (float64,
    [g C MJ-1], [-], [-]) and ``vegetated`` (bool). Writable matters: pandas 3 hands out
    read-only views, for which numba would compile the kernel a second time.

    Examples
    --------
    >>> casa_parameters({4: 1.0})["eps_max"][4]
    np.float64(1.0)
    """
    base = _default_parameters()
    out = {k: np.array(v, copy=True) for k, v in base.items()}
    for code, value in (eps_max or {}).items():
        code = int(code)
        if not 0 <= code < N_TYPES:
            raise InputError(f"eps_max given for unknown CASA type {code}", key="eps_max",
                             fix=f"use CASA codes 0..{N_TYPES - 1}")
        if not np.isfinite(value) or value < 0:
            raise InputError(f"eps_max for type {code} is {value!r}", key="eps_max",
                             fix="give a finite, non-negative value in g C MJ-1")
        out["eps_max"][code] = float(value)
    return out


@lru_cache(maxsize=1)
def _default_parameters():
    types = vegetation_types().set_index("code").reindex(range(N_TYPES))
    return {"eps_max": types["eps_max"].to_numpy(np.float64),
            "ndvi_min": types["ndvi_min"].to_numpy(np.float64),
            "ndvi_max": types["ndvi_max"].to_numpy(np.float64),
            "vegetated": types["vegetated"].to_numpy(bool)}
