"""Estimating missing years of a unit's annual series (METHOD.md section 3).

Methods (each returns a mean and a 95 % interval):

- ``arima``: the order chosen as R's ``forecast::auto.arima`` chooses it (Hyndman &
  Khandakar 2008, J. Stat. Softw. 27(3), doi:10.18637/jss.v027.i03), with pmdarima's
  ``ndiffs`` and ``auto_arima``: the differencing order d in {0, 1, 2} first, by repeated
  KPSS tests at the 5 % level (Kwiatkowski et al. 1992, J. Econometrics 54:159,
  doi:10.1016/0304-4076(92)90104-Y); then p, q in {0, 1, 2} by AICc (Hurvich & Tsai 1989,
  Biometrika 76:297, doi:10.1093/biomet/76.2.297) among the models with that d, every
  (p, q) fitted (no stepwise search: nine models), with and without a constant when
  d <= 1 (a mean for d = 0, a drift for d = 1), never for d = 2. AICc never compares
  two values of d: their likelihoods cover n - d differenced points. With fewer than
  ``min_arima_obs`` observations: an ordinary least-squares linear trend.
- ``naive``: the last value; interval sigma sqrt(h), sigma the root-mean-square of the
  yearly changes, i.e. the residuals of a random walk (Hyndman & Athanasopoulos 2021,
  Forecasting: Principles and Practice, 3rd ed., section 5.5).
- ``drift``: the last value plus h times the mean change; sigma sqrt(h (1 + h / (T - 1))).
- ``ets``: additive damped-trend exponential smoothing (Gardner & McKenzie 1985,
  Manage. Sci. 31:1237, doi:10.1287/mnsc.31.10.1237), statsmodels ``ETSModel``.
- ``best``: per series, the method above with the lowest rolling-origin MAPE computed on
  the observations given (those before the forecast origin) only.

``arima`` and ``ets`` fit a scale-free copy of the series (divided by its mean absolute
value) and multiply the forecast back: the orders chosen and the estimates do not depend
on the unit the inventory is written in (Mt or t), and the likelihood optimisers never
see values of order 1e7. ``naive`` and ``drift`` are linear in the data and need no copy.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

METHODS = ("arima", "naive", "drift", "ets")
#: Below this many observations ARIMA falls back to a linear trend (METHOD.md section 3).
MIN_ARIMA_OBS = 8
#: Largest differencing order, and largest AR and MA orders, searched by ``arima``.
MAX_D = 2
MAX_P = 2
MAX_Q = 2
#: Significance level of each KPSS test that chooses d (Hyndman & Khandakar 2008).
KPSS_ALPHA = 0.05
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
    """Silence the fitting libraries' convergence chatter and keep BLAS single-threaded.

    Tiny models gain nothing from BLAS threads; on a busy 2-core machine threads make
    every fit many times slower (measured: 0.23 s against 10-15 s for one search).
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


def series_scale(y) -> float:
    """Mean absolute value of the finite values of ``y`` [unit of y]; 1 if there is none.

    The divisor of the scale-free copy that ``arima`` and ``ets`` fit.
    """
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    s = float(np.mean(np.abs(y[ok]))) if ok.any() else 0.0
    return s if s > 0 and np.isfinite(s) else 1.0


#: Decimals kept of the scale-free copy (values of order 1). Rounding removes the last-bit
#: differences that a change of unit leaves (y x 1e6 / mean is not always bitwise y / mean),
#: which the likelihood optimisers would otherwise amplify to ~1e-7; 1e-12 of the mean is
#: far below the precision of any inventory.
SCALE_FREE_DECIMALS = 12


def _scale_free(fit, y: np.ndarray, h: int, **kw) -> Forecast:
    """``fit`` applied to y / series_scale(y), its forecast multiplied back."""
    s = series_scale(y)
    f = fit(np.round(np.asarray(y, dtype=float) / s, SCALE_FREE_DECIMALS), h, **kw)
    return Forecast(f.mean * s, f.low * s, f.high * s, f.method)


def naive(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE) -> Forecast:
    """Last value; y [any unit], h forecast steps.

    The one-step residual of a random walk is the yearly change itself (no mean is fitted),
    so sigma is the root-mean-square of the changes, not their standard deviation (which
    would remove the trend and make the interval too narrow on a trending series).
    """
    y = np.asarray(y, dtype=float)
    steps = np.arange(1, h + 1)
    sigma = float(np.sqrt(np.mean(np.diff(y) ** 2))) if y.size >= 2 else 0.0
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
          min_obs: int = MIN_ARIMA_OBS) -> Forecast:
    """ARIMA(p, d, q) chosen as auto.arima does (see the module docstring), fitted on the
    scale-free copy of ``y`` [any unit]; a linear trend below ``min_obs`` observations.

    ``method`` of the result: ``arima(p,d,q)``, with ``+mean`` (d = 0) or ``+drift``
    (d = 1) when the constant was chosen.
    """
    y = np.asarray(y, dtype=float)
    return _arima_cached(tuple(y.tolist()), h, confidence, min_obs)


#: Environment variable: set to 0 to switch the on-disk ARIMA cache off.
CACHE_ENV = "CARBON_BALANCE_ARIMA_CACHE"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Digest [hex] of everything an ARIMA result depends on besides the numbers.

    This module's source (the search, its constants, the scaling), the carbon-balance
    version and the versions of pmdarima, statsmodels, scipy and numpy. The on-disk cache
    is keyed on it, so a result computed by other code is never reused.
    """
    import hashlib
    from importlib.metadata import version
    from pathlib import Path

    from .. import __version__

    # versions from the package metadata: a cache hit never imports pmdarima (~1.5 s)
    versions = [version(p) for p in ("pmdarima", "statsmodels", "scipy", "numpy")]
    parts = [Path(__file__).read_bytes(), repr((__version__, *versions)).encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _cache_file(key: tuple):
    """File of one cached ARIMA result, or None when caching is off.

    A search is up to 18 maximum-likelihood fits (about 0.5 s); the same series (the
    same inventory) is met again by every run, ``best`` and the backtest. The result
    depends on the numbers and on :func:`code_fingerprint`, the folder's name.
    """
    import hashlib
    import os

    from ..user_cache import user_cache_dir

    if os.environ.get(CACHE_ENV, "1") == "0":
        return None
    folder = user_cache_dir(f"arima-{code_fingerprint()[:20]}")
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return folder / f"{digest}.json"


def _arima_disk(values: tuple, h: int, confidence: float, min_obs: int) -> Forecast:
    import json
    import os

    path = _cache_file((values, h, confidence, min_obs))
    if path is not None and path.exists():
        try:
            d = json.loads(path.read_text())
            return Forecast(np.array(d["mean"]), np.array(d["low"]), np.array(d["high"]),
                            d["method"])
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is simply recomputed
    y = np.asarray(values, dtype=float)
    f = _scale_free(_arima_fit, y, h, confidence=confidence, min_obs=min_obs)
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
def _arima_cached(values: tuple, h: int, confidence: float, min_obs: int) -> Forecast:
    # the same series is met again by 'best' and by the backtest: fit it once
    return _arima_disk(values, h, confidence, min_obs)


def arima_model(y: np.ndarray):
    """The pmdarima ``ARIMA`` that :func:`arima` fits to ``y`` [fit it scale-free: see
    :func:`series_scale`], or None when no candidate could be fitted.

    d by ``pmdarima.arima.ndiffs`` (KPSS, ``KPSS_ALPHA``, at most ``MAX_D``); then
    ``pmdarima.auto_arima`` at that d over every p <= ``MAX_P``, q <= ``MAX_Q``
    (``stepwise=False``), once with and once without the constant when d <= 1; the lower
    AICc wins (both searches share d, so their AICc are comparable). pmdarima's stepwise
    search is not used: it also tries a constant at d = 2 (a quadratic trend), which
    auto.arima never allows.
    """
    import pmdarima as pm

    y = np.asarray(y, dtype=float)
    with _quiet():
        d = int(pm.arima.ndiffs(y, alpha=KPSS_ALPHA, test="kpss", max_d=MAX_D))
        fits = []
        for constant in ((True, False) if d <= 1 else (False,)):
            try:
                fits.append(pm.auto_arima(
                    y, d=d, start_p=0, start_q=0, max_p=MAX_P, max_q=MAX_Q, seasonal=False,
                    stepwise=False, information_criterion="aicc", with_intercept=constant,
                    suppress_warnings=True, error_action="ignore"))
            except ValueError:  # pmdarima: no viable model with this constant
                continue
    fits = [m for m in fits if np.isfinite(m.aicc())]
    return min(fits, key=lambda m: m.aicc()) if fits else None


def _arima_fit(y: np.ndarray, h: int, *, confidence: float, min_obs: int) -> Forecast:
    ok = np.isfinite(y)
    if ok.sum() < min_obs:
        return linear_trend(y[ok], h, confidence=confidence)
    model = arima_model(y)
    if model is None:
        return linear_trend(y[ok], h, confidence=confidence)
    with _quiet():
        mean, ci = model.predict(n_periods=h, return_conf_int=True, alpha=1 - confidence)
    p, d, q = model.order
    constant = {0: "+mean", 1: "+drift"}.get(d, "") if model.with_intercept else ""
    return Forecast(np.asarray(mean, dtype=float), np.asarray(ci[:, 0], dtype=float),
                    np.asarray(ci[:, 1], dtype=float), f"arima({p},{d},{q}){constant}")


def ets(y: np.ndarray, h: int, *, confidence: float = CONFIDENCE) -> Forecast:
    """Additive damped-trend exponential smoothing, fitted on the scale-free copy of
    ``y`` [any unit]; a drift below 5 observations."""
    return _scale_free(_ets_fit, y, h, confidence=confidence)


def _ets_fit(y: np.ndarray, h: int, *, confidence: float) -> Forecast:
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


def forecast(y: np.ndarray, h: int, method: str, *,
             confidence: float = CONFIDENCE) -> Forecast:
    """Forecast ``h`` steps after the last value of ``y`` [any unit] with ``method``
    (one of :data:`METHODS` or ``"best"``). The result does not depend on y's unit."""
    y = np.asarray(y, dtype=float)
    func = best if method == "best" else _FUNCS[method]
    return func(y, h, confidence=confidence)
