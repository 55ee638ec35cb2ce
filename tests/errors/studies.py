"""A tiny complete study (generated rasters, two or three units, complete tables) for the
error tests. Everything here is generated data, labelled as such in the study file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from tests.grid.synthetic import write_study

#: Unit polygons inside the generated grid (110-110.6 E, 29.6-30 N).
UNITS = {"A1": box(110.05, 29.65, 110.25, 29.95), "B2": box(110.3, 29.65, 110.55, 29.95)}
#: Inventory years: complete (no gap filling), long enough for the backtest.
TABLE_YEARS = list(range(1998, 2006))

TABLES = """
[units]
path = "units.gpkg"
id = "code"
name = "label"

[emissions]
path = "emissions.csv"
id = "code"
units = "Mt CO2"
fill = "naive"

[gdp]
path = "gdp.csv"
id = "code"
units = "1e8 yuan"
"""


def full_study(root: Path, *, years=(2005,), units: dict | None = None,
               names: dict | None = None) -> Path:
    """Write a complete study under ``root`` and return the study file's path."""
    root = Path(root)
    path, _ = write_study(root, years=years)
    units = units or UNITS
    ids = list(units)
    g = gpd.GeoDataFrame({"code": ids, "label": [(names or {}).get(i, f"unit {i}") for i in ids]},
                         geometry=list(units.values()), crs="EPSG:4326")
    g.to_file(root / "units.gpkg", driver="GPKG")
    # generated inventories: Mt CO2 and 1e8 yuan growing 5 % a year
    ce = pd.DataFrame({"code": ids} | {str(y): [2.0 * (k + 1) * 1.05 ** (y - 1998)
                                                for k in range(len(ids))] for y in TABLE_YEARS})
    gdp = pd.DataFrame({"code": ids} | {str(y): [300.0 * (k + 1) * 1.05 ** (y - 1998)
                                                 for k in range(len(ids))] for y in TABLE_YEARS})
    ce.to_csv(root / "emissions.csv", index=False)
    gdp.to_csv(root / "gdp.csv", index=False)
    path.write_text(path.read_text() + TABLES)
    return path


def cli(*args, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """``python -m carbon_balance ARGS`` in a fresh process (the user's view)."""
    return subprocess.run([sys.executable, "-m", "carbon_balance", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **kw)


def flat(text: str) -> str:
    """stderr without rich's line wrapping."""
    return " ".join(text.split())
