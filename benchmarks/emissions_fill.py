"""Every backtest figure of docs/accounting.md, and the time of emission gap filling.

Run from the repository root:  python benchmarks/emissions_fill.py
Needs ../shared/data (CEADs county workbook, MRYRUA boundaries). On the 31 MRYRUA cities
(CEADs 1997-2017, real data), with the on-disk ARIMA cache off (every fit computed):

1. the holdout-3 backtest (2015-2017) of every fill method, and the fill verdict for
   ``arima`` (the demo's and the study's fill);
2. the ARIMA orders chosen on 1997-2014 (the backtest's fits) and on 1997-2017 (the
   2020 estimates), and whether they and the estimates are the same in t CO2 as in Mt CO2;
3. wall times of the 2020 ARIMA estimates with 1 and 2 worker processes, then of
   fill + backtest with a cold and a warm disk cache (in a temporary folder).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np

from carbon_balance.accounting import emissions as E
from carbon_balance.accounting import forecast as fc
from carbon_balance.accounting.table_readers import read_ceads_county

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
YEARS = [2005, 2010, 2015, 2020]


def _fill(wide, ids, workers):
    # the in-memory cache would answer from the fits above (forked workers inherit it)
    fc._arima_cached.cache_clear()
    return E.fill_years(wide, YEARS, "arima", units=ids, workers=workers)


def main() -> None:
    import pmdarima
    import statsmodels

    os.environ[fc.CACHE_ENV] = "0"  # cold: every fit computed (workers inherit this)
    mt = read_ceads_county(DATA / "ceads" / "ceads_county_co2_1997_2017.xlsx")
    wide = mt * 1e6  # t CO2, as the tool holds inventories
    units = gpd.read_file(DATA / "boundaries" / "mryrua_31_cities_wgs84_simplified.geojson")
    ids = units.adcode.astype(str).tolist()
    print(f"pmdarima {pmdarima.__version__}, statsmodels {statsmodels.__version__}, "
          f"numpy {np.__version__}; 31 MRYRUA cities, CEADs 1997-2017")

    fc._arima_cached.cache_clear()
    table = E.backtest(wide, holdout=3, units=ids, workers=2)
    print("\n1. backtest, holdout 3 (MAPE over cities and years):")
    print(table.to_string(index=False))
    print("verdict:", E.fill_verdict(table, "arima").message)

    print("\n2. ARIMA orders")
    for label, last in (("1997-2014 (backtest fits)", 2014), ("1997-2017 (2020 estimates)", 2017)):
        fits = {s: [fc.arima(mt.loc[u, 1997:last].to_numpy(float) * s, 3) for u in ids]
                for s in (1.0, 1e6)}
        counts = Counter(f.method for f in fits[1.0])
        same_order = all(a.method == b.method for a, b in zip(fits[1.0], fits[1e6]))
        worst = max(float(np.max(np.abs(b.mean / 1e6 - a.mean) / np.abs(a.mean)))
                    for a, b in zip(fits[1.0], fits[1e6]))
        print(f"{label}: " + ", ".join(f"{m} x{n}" for m, n in counts.most_common()))
        print(f"  Mt vs t CO2: same orders {same_order}; largest relative difference of "
              f"the estimates {worst:.1e}")

    print("\n3. wall times")
    for workers in (1, 2):
        t = time.perf_counter()
        _fill(wide, ids, workers)
        print(f"fill {YEARS} arima, 31 units, workers={workers}, no cache: "
              f"{time.perf_counter() - t:.1f} s", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        os.environ[fc.CACHE_ENV] = "1"
        for label in ("cold disk cache (fills it)", "warm disk cache"):
            t = time.perf_counter()
            _fill(wide, ids, 2)
            fc._arima_cached.cache_clear()
            E.backtest(wide, holdout=3, units=ids, workers=2,
                       methods=[m for m in E.BACKTEST_METHODS if m != "best"])
            print(f"fill + backtest without best (as run does), {label}: "
                  f"{time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
