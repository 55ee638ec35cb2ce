"""ARIMA as auto.arima chooses it, the scale-free fit, the cache key and the fill verdict
(METHOD.md section 3; Hyndman & Khandakar 2008, doi:10.18637/jss.v027.i03)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from carbon_balance.accounting import emissions as E
from carbon_balance.accounting import forecast as fc
from carbon_balance.accounting.table_readers import read_ceads_county

DATA = Path(__file__).parents[3] / "shared" / "data"
CEADS = DATA / "ceads" / "ceads_county_co2_1997_2017.xlsx"
needs_data = pytest.mark.skipif(not CEADS.exists(), reason="../shared/data is absent")
SRC = Path(__file__).parents[2] / "src"

#: Kwiatkowski et al. 1992 (J. Econometrics 54:159), Table 1: 5 % critical value of the
#: KPSS statistic for level stationarity.
KPSS_CRITICAL_5 = 0.463


@pytest.fixture(scope="module")
def ceads_mt():
    return read_ceads_county(CEADS)  # Mt CO2, cities x 1997-2017


def _kpss_d(x: np.ndarray) -> int:
    """d by repeated KPSS at 5 %, from statsmodels' statistic and the published critical
    value (the short lag rule trunc(4 (n / 100)^(1/4)) of Kwiatkowski et al. 1992)."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels: p-value outside its table
            stat = kpss(x, regression="c", nlags=int(4 * (x.size / 100) ** 0.25))[0]
        if stat < KPSS_CRITICAL_5:
            break
        x, d = np.diff(x), d + 1
    return d


def _order(method: str) -> tuple[int, int, int]:
    assert method.startswith("arima("), method
    return tuple(int(v) for v in method[6:method.index(")")].split(","))


@needs_data
@pytest.mark.parametrize("code", ["420100", "420600", "360400", "360800", "360600"])
def test_d_is_chosen_by_kpss_not_aicc(ceads_mt, code):
    """Wuhan, Xiangyang, Jiujiang, Ji'an, Yingtan 1997-2014 (CEADs): the differencing
    order equals that of an independent repeated KPSS test (d = 2 for Jiujiang and Ji'an,
    1 for the others)."""
    y = ceads_mt.loc[code, 1997:2014].to_numpy(dtype=float)
    assert _order(fc.arima(y, 3).method)[1] == _kpss_d(y)


@needs_data
def test_order_search_is_scale_free_on_ceads_series(ceads_mt):
    """The same CEADs series in Mt, kt and t CO2 gives the same order and the same
    estimates and intervals once rescaled (Wuhan, Xiangyang, Jingmen 1997-2017; Jiujiang
    1997-2014, which takes d = 2)."""
    for code, last in (("420100", 2017), ("420600", 2017), ("420800", 2017), ("360400", 2014)):
        y = ceads_mt.loc[code, 1997:last].to_numpy(dtype=float)
        fits = {s: fc.arima(y * s, 3) for s in (1.0, 1e3, 1e6)}
        assert len({f.method for f in fits.values()}) == 1, {s: f.method for s, f in fits.items()}
        for s, f in fits.items():
            for got, ref in ((f.mean, fits[1.0].mean), (f.low, fits[1.0].low),
                             (f.high, fits[1.0].high)):
                assert got / s == pytest.approx(ref, rel=1e-12)
    e = {s: fc.ets(ceads_mt.loc["420100"].to_numpy(dtype=float) * s, 3) for s in (1.0, 1e6)}
    assert e[1e6].mean / 1e6 == pytest.approx(e[1.0].mean, rel=1e-12)


@needs_data
def test_random_walk_with_drift_by_hand(ceads_mt):
    """Wuhan 1997-2017 takes ARIMA(0,1,0) with drift. Its maximum-likelihood drift is the
    mean yearly change (89.0716 - 32.6419) / 20 = 2.8215 Mt, sigma the root-mean-square
    deviation of the changes from it, and the h-step interval +- 1.96 sigma sqrt(h)."""
    y = ceads_mt.loc["420100"].to_numpy(dtype=float)
    f = fc.arima(y, 3)
    assert f.method == "arima(0,1,0)+drift"
    changes = np.diff(y)
    mu = (y[-1] - y[0]) / (y.size - 1)
    sigma = np.sqrt(np.mean((changes - mu) ** 2))
    h = np.arange(1, 4)
    assert f.mean == pytest.approx(y[-1] + mu * h, rel=1e-6)
    assert f.high - f.mean == pytest.approx(norm.ppf(0.975) * sigma * np.sqrt(h), rel=1e-4)


def test_no_constant_at_d2():
    """A quadratic trend with noise needs d = 2; auto.arima allows no constant there (it
    would be a cubic trend in the forecast)."""
    t = np.arange(30.0)
    y = 50 + 0.3 * t ** 2 + np.random.default_rng(0).normal(0, 1.0, t.size)
    p, d, q = _order(fc.arima(y, 2).method)
    assert d == _kpss_d(y) == 2
    assert not fc.arima(y, 2).method.endswith(("+drift", "+mean"))


SERIES = [1.0, 2.0, 3.5, 4.0, 5.5, 6.0, 7.5, 8.0, 9.5, 10.0, 10.5, 11.0]


def _run_arima(env: dict) -> list[float]:
    code = ("import json; from carbon_balance.accounting import forecast as fc; "
            f"print(json.dumps(fc.arima({SERIES!r}, 2).mean.tolist()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_disk_cache_is_keyed_on_the_code_fingerprint(tmp_path, monkeypatch):
    """An entry is read back under the same fingerprint, and never under another: the
    result of an older search (here: a folder of another fingerprint) is not reused."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(fc.CACHE_ENV, "1")
    fresh = fc.arima(SERIES, 2).mean.tolist()  # this series is used by no other test
    folder = tmp_path / "carbon-balance" / f"arima-{fc.code_fingerprint()[:20]}"
    (entry,) = folder.glob("*.json")
    stored = json.loads(entry.read_text())
    stored["mean"] = [-1.0, -1.0]  # mark the entry, so that reading it shows
    entry.write_text(json.dumps(stored))
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    assert _run_arima(env) == [-1.0, -1.0]  # a new process reads the entry
    folder.rename(folder.with_name("arima-0123456789abcdef0123"))  # another code's result
    assert _run_arima(env) == pytest.approx(fresh)


def _table(**mapes):
    return pd.DataFrame({"method": list(mapes), "mape_percent": list(mapes.values()),
                         "n_units": 31, "holdout_years": "2015-2017"})


def test_fill_verdict():
    v = E.fill_verdict(_table(arima=13.0, naive=5.6, drift=12.4, ets=12.9), "arima")
    assert v.warn and v.other == "naive" and v.ratio == pytest.approx(13.0 / 5.6)
    assert "13.0 %" in v.message and "'naive'" in v.message and "2015-2017" in v.message
    assert not E.fill_verdict(_table(arima=11.0, naive=5.6), "arima").warn  # 1.96 x
    assert E.fill_verdict(_table(arima=11.2, naive=5.6), "arima").warn  # exactly 2 x
    assert not E.fill_verdict(_table(arima=11.0, naive=5.6), "arima", ratio=3.0).warn
    ok = E.fill_verdict(_table(arima=13.0, naive=5.6), "naive")
    assert not ok.warn and ok.other == "arima" and ok.ratio == pytest.approx(5.6 / 13.0)
    assert E.fill_verdict(_table(naive=1.0, drift=0.0), "naive").warn  # 0 % beats any error
    # ... but not an error below FILL_WARN_MIN_MAPE (a series every method follows)
    assert not E.fill_verdict(_table(arima=0.001, naive=5.4, drift=0.0), "arima").warn
    assert not E.fill_verdict(_table(naive=0.9, drift=0.0), "naive").warn
    unscored = E.fill_verdict(_table(arima=13.0, naive=5.6), "best")
    assert not unscored.warn and np.isnan(unscored.mape_percent) and unscored.message == ""
    assert not E.fill_verdict(_table(arima=13.0), "arima").warn  # nothing to compare with
    # tables/emissions_backtest.csv as the report reads it: every column text
    as_text = E.fill_verdict(_table(arima=13.0, naive=5.6, best="").astype(str), "arima")
    assert as_text.warn and as_text.other == "naive" and as_text.holdout_years == "2015-2017"


@needs_data
@pytest.mark.slow
def test_arima_fill_warns_on_ceads_cities(ceads_mt):
    """METHOD.md: emissions plateaued after 2013, the last value misses 2015-2017 by
    5.6 %, ARIMA by more than twice that: the verdict on the study's own data warns."""
    import geopandas as gpd

    codes = gpd.read_file(DATA / "boundaries" / "mryrua_31_cities_wgs84_simplified.geojson"
                          ).adcode.astype(str).tolist()
    table = E.backtest(ceads_mt * 1e6, holdout=3, methods=("arima", "naive"), units=codes,
                       workers=2)
    v = E.fill_verdict(table, "arima")
    assert v.other == "naive" and 5.0 < v.other_mape_percent < 7.0
    assert v.warn and v.ratio > 2.0
