"""Time of emission gap filling and of the backtest on the 31 MRYRUA cities (CEADs).

Run from the repository root:  python benchmarks/emissions_fill.py
Prints, side by side in one run, the wall time of the 2020 ARIMA estimates with 1 and 2
worker processes, and of the holdout-3 backtest of every method, with its MAPE (all
cold: the on-disk ARIMA cache off); then fill + backtest with the disk cache.
Needs ../shared/data (CEADs workbook, boundaries).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import geopandas as gpd

from carbon_balance.accounting import emissions as E
from carbon_balance.accounting import forecast as fc
from carbon_balance.accounting.table_readers import read_ceads_county

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    os.environ[fc.CACHE_ENV] = "0"  # cold: every fit computed (workers inherit this)
    wide = read_ceads_county(DATA / "ceads" / "ceads_county_co2_1997_2017.xlsx") * 1e6
    units = gpd.read_file(DATA / "boundaries" / "mryrua_31_cities_wgs84_simplified.geojson")
    ids = units.adcode.astype(str).tolist()
    for workers in (1, 2):
        fc._arima_cached.cache_clear()
        t = time.perf_counter()
        E.fill_years(wide, [2005, 2010, 2015, 2020], "arima", units=ids, workers=workers)
        print(f"fill 2020 arima, 31 units, workers={workers}: {time.perf_counter() - t:.1f} s",
              flush=True)
    fc._arima_cached.cache_clear()
    t = time.perf_counter()
    table = E.backtest(wide, holdout=3, units=ids, workers=2)
    print(f"backtest (holdout 3, all methods, workers=2): {time.perf_counter() - t:.1f} s")
    print(table.to_string(index=False))
    os.environ[fc.CACHE_ENV] = "1"
    for label in ("warm-up (fills the disk cache)", "disk cache"):
        fc._arima_cached.cache_clear()
        t = time.perf_counter()
        E.fill_years(wide, [2005, 2010, 2015, 2020], "arima", units=ids, workers=2)
        E.backtest(wide, holdout=3, units=ids, workers=2)
        print(f"fill + backtest, {label}: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
