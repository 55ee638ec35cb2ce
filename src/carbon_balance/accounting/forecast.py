"""Estimating missing years of a unit's annual series (METHOD.md section 3).

Methods (each returns a mean and a 95 % interval):

- ``arima``: order (p, d, q), each in {0, 1, 2}, with the lowest AICc (Hurvich & Tsai 1989,
  Biometrika 76:297, doi:10.1093/biomet/76.2.297); a constant for d = 0, none otherwise.
  Fitted by exact Gaussian likelihood in statsmodels. With fewer than
  ``min_arima_obs`` observations: an ordinary least-squares linear trend.
- ``naive``: the last value; interval sigma sqrt(h) (Hyndman & Athanasopoulos 2021,
  Forecasting: Principles and Practice, 3rd ed., section 5.5).
- ``drift``: the last value plus h times the mean change; sigma sqrt(h (1 + h / (T - 1))).
- ``ets``: additive damped-trend exponential smoothing (Gardner & McKenzie 1985,
  Manage. Sci. 31:1237, doi:10.1287/mnsc.31.10.1237), statsmodels ``ETSModel``.
- ``best``: per series, the method above with the lowest rolling-origin MAPE computed on
  the observations given (those before the forecast origin) only.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

METHODS = ("arima", "naive", "drift", "ets")
#: Below this many observations ARIMA falls back to a linear trend (METHOD.md section 3).
MIN_ARIMA_OBS = 8
#: Orders searched by ``arima``.
ARIMA_ORDERS = tuple(itertools.product(range(3), range(3), range(3)))
#: Interval coverage.
CONFIDENCE = 0.95
#: Rolling origins scored by ``best``.
BEST_ORIGINS = 2


@dataclass(frozen=True)
class Forecast:
    """Estimates for ``horizon`` years after the last observation."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    method: str


def _quiet():
    """Silence statsmodels' convergence chatter and keep BLAS single-threaded.

    Tiny models gain nothing from BLAS threads; on a busy 2-core machine threads make
    every fit several times slower.
    """
    from contextlib import ExitStack

    from threadpoolctl import threadpool_limits

    stack = ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(threadpool_limits(1))
    return stack


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def naive(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE) -> Forecast:
    """Last value; y [any unit], h forecast steps."""
    y = np.asarray(y, dtype=float)
    steps = np.arange(1, h + 1)
    sigma = np.std(np.diff(y), ddof=1) if y.size > 2 else 0.0
    mean = np.full(h, y[-1])
    half = _z(confidence) * sigma * np.sqrt(steps)
    return Forecast(mean, mean - half, mean + half, "naive")


def drift(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE) -> Forecast:
    """Random walk with drift: last value + h x mean change."""
    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 2:
        return Forecast(*naive(y, h, confidence=confidence).__dict__.values())
    steps = np.arange(1, h + 1)
    slope = (y[-1] - y[0]) / (n - 1)
    resid = np.diff(y) - slope
    sigma = np.sqrt(np.sum(resid ** 2) / max(n - 2, 1))
    mean = y[-1] + slope * steps
    half = _z(confidence) * sigma * np.sqrt(steps * (1 + steps / (n - 1)))
    return Forecast(mean, mean - half, mean + half, "drift")


def linear_trend(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE) -> Forecast:
    """OLS line through the observations, with its prediction interval."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 3:
        f = drift(y, h, confidence=confidence)
        return Forecast(f.mean, f.low, f.high, "linear trend")
    t = np.arange(n, dtype=float)
    fit = sm.OLS(y, sm.add_constant(t)).fit()
    tf = sm.add_constant(np.arange(n, n + h, dtype=float), has_constant="add")
    frame = fit.get_prediction(tf).summary_frame(alpha=1 - confidence)
    return Forecast(frame["mean"].to_numpy(), frame["obs_ci_lower"].to_numpy(),
                    frame["obs_ci_upper"].to_numpy(), "linear trend")


def arima(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE,
          orders=ARIMA_ORDERS, min_obs: int = MIN_ARIMA_OBS) -> Forecast:
    """AICc-selected ARIMA(p, d, q); a linear trend below ``min_obs`` observations."""
    y = np.asarray(y, dtype=float)
    return _arima_cached(tuple(y.tolist()), h, confidence, tuple(orders), min_obs)


#: Environment variable: set to 0 to switch the on-disk ARIMA cache off.
CACHE_ENV = "CARBON_BALANCE_ARIMA_CACHE"


def _cache_file(key: tuple):
    """File of one cached ARIMA result, or None when caching is off or impossible.

    An AICc search is 27 maximum-likelihood fits (about 40 ms each); the same series
    (the same inventory) is met again by every run, ``best`` and the backtest. The
    result depends only on the numbers, so it is stored under their hash, with the
    statsmodels version in the folder name.
    """
    import hashlib
    import os

    import statsmodels

    from ..user_cache import user_cache_dir

    if os.environ.get(CACHE_ENV, "1") == "0":
        return None
    folder = user_cache_dir(f"arima-v1-statsmodels-{statsmodels.__version__}")
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return folder / f"{digest}.json"


def _arima_disk(values: tuple, h: int, confidence: float, orders: tuple, min_obs: int) -> Forecast:
    import json
    import os

    path = _cache_file((values, h, confidence, orders, min_obs))
    if path is not None and path.exists():
        try:
            d = json.loads(path.read_text())
            return Forecast(np.array(d["mean"]), np.array(d["low"]), np.array(d["high"]),
                            d["method"])
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is simply recomputed
    f = _arima_fit(values, h, confidence, orders, min_obs)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"mean": f.mean.tolist(), "low": f.low.tolist(),
                                       "high": f.high.tolist(), "method": f.method}))
            tmp.replace(path)
        except OSError:
            pass  # a read-only home: no cache, same results
    return f


@functools.lru_cache(maxsize=4096)
def _arima_cached(values: tuple, h: int, confidence: float, orders: tuple, min_obs: int) -> Forecast:
    # the same series is met again by 'best' and by the backtest: fit it once
    return _arima_disk(values, h, confidence, orders, min_obs)


def _arima_fit(values: tuple, h: int, confidence: float, orders: tuple, min_obs: int) -> Forecast:
    from statsmodels.tsa.arima.model import ARIMA

    y = np.asarray(values, dtype=float)
    if np.isfinite(y).sum() < min_obs:
        return linear_trend(y[np.isfinite(y)], h, confidence=confidence)
    best = None
    with _quiet():
        for p, d, q in orders:
            try:
                res = ARIMA(y, order=(p, d, q), trend="c" if d == 0 else "n").fit(cov_type="none")
            except Exception:  # a failing order is simply not a candidate
                continue
            if np.isfinite(res.aicc) and (best is None or res.aicc < best[0]):
                best = (res.aicc, (p, d, q), res)
        if best is None:
            return linear_trend(y[np.isfinite(y)], h, confidence=confidence)
        fc = best[2].get_forecast(h)
        ci = np.asarray(fc.conf_int(alpha=1 - confidence))
    p, d, q = best[1]
    return Forecast(np.asarray(fc.predicted_mean), ci[:, 0], ci[:, 1], f"arima({p},{d},{q})")


def ets(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE) -> Forecast:
    """Additive damped-trend exponential smoothing; a drift below 5 observations."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, dtype=float)
    if y.size < 5:
        f = drift(y, h, confidence=confidence)
        return Forecast(f.mean, f.low, f.high, "drift")
    with _quiet():
        try:
            import pandas as pd

            # a Series: statsmodels' ETS prediction needs an index
            res = ETSModel(pd.Series(y), error="add", trend="add",
                           damped_trend=True).fit(disp=False)
            frame = res.get_prediction(start=y.size, end=y.size + h - 1).summary_frame(
                alpha=1 - confidence)
        except Exception:
            f = drift(y, h, confidence=confidence)
            return Forecast(f.mean, f.low, f.high, "drift")
    return Forecast(frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(),
                    frame["pi_upper"].to_numpy(), "ets")


_FUNCS = {"arima": arima, "naive": naive, "drift": drift, "ets": ets}


def mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute percentage error [%] over the finite, non-zero actuals."""
    forecast, actual = np.asarray(forecast, float), np.asarray(actual, float)
    ok = np.isfinite(actual) & (actual != 0) & np.isfinite(forecast)
    return float(np.mean(np.abs(forecast[ok] - actual[ok]) / np.abs(actual[ok])) * 100) \
        if ok.any() else np.nan


def rolling_origin_errors(y: np.ndarray, h: int, *, methods=None,
                          n_origins: int = BEST_ORIGINS) -> dict[str, float]:
    """MAPE [%] of each method over ``n_origins`` rolling origins inside ``y``.

    Origin k trains on y[:T - h - k] and is scored on the next (up to) h values, all of
    which are inside ``y``: nothing after the last value given is ever looked at.
    """
    methods = METHODS if methods is None else methods
    y = np.asarray(y, dtype=float)
    n = y.size
    errors: dict[str, list[float]] = {m: [] for m in methods}
    for k in range(n_origins):
        cut = n - h - k
        if cut < 3:
            break
        actual = y[cut:cut + h]
        for m in methods:
            errors[m].append(mape(_FUNCS[m](y[:cut], actual.size).mean, actual))
    return {m: float(np.nanmean(v)) if v and np.isfinite(v).any() else np.nan
            for m, v in errors.items()}


def best(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE, methods=None,
         n_origins: int = BEST_ORIGINS) -> Forecast:
    """The method with the lowest rolling-origin MAPE on ``y`` (before the origin) only."""
    errs = rolling_origin_errors(y, h, methods=methods, n_origins=n_origins)
    finite = {m: e for m, e in errs.items() if np.isfinite(e)}
    choice = min(finite, key=finite.get) if finite else "naive"
    f = _FUNCS[choice](y, h, confidence=confidence)
    return Forecast(f.mean, f.low, f.high, f"best:{f.method}")


def forecast(y: np.ndarray, h: int, method: str, *, confidence: float = CONFIDENCE,
             scale: float | None = None) -> Forecast:
    """Forecast ``h`` steps after the last value of ``y`` with ``method``.

    The series is fitted as ``y / scale`` and the forecast multiplied back. ``scale`` is
    the unit the models are fitted in (emissions: 1e6, i.e. Mt CO2, the unit of the CEADs
    inventory and of METHOD.md's figures); default: the mean absolute value. It matters
    for ``arima``: AICc compares likelihoods of series differenced d times (n - d terms),
    so the order chosen across d depends on the unit, and likelihood optimisers fail on
    values of order 1e7.
    """
    y = np.asarray(y, dtype=float)
    if scale is None:
        scale = float(np.nanmean(np.abs(y))) if np.isfinite(y).any() else 1.0
    scale = scale if scale > 0 else 1.0
    func = best if method == "best" else _FUNCS[method]
    f = func(y / scale, h, confidence=confidence)
    return Forecast(f.mean * scale, f.low * scale, f.high * scale, f.method)
