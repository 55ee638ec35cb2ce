"""Monotonic trends of annual series: Theil–Sen slope and Mann–Kendall test (docs/trends.md).

For a series x_1 .. x_n at years t_1 < ... < t_n (the years of a pixel or unit with a
value; see "Missing years" below):

    Theil–Sen slope   b = median over i < j of (x_j - x_i) / (t_j - t_i)      [x yr-1]
    Mann–Kendall      S = sum over i < j of sign(x_j - x_i)
                      Var(S) = [n (n-1) (2n+5) - sum_g t_g (t_g-1) (2 t_g+5)] / 18
                      (t_g: the size of the g-th group of tied values)
                      Z = (S - 1) / sqrt(Var S) if S > 0, 0 if S = 0, (S + 1) / sqrt(Var S)
                      if S < 0 (continuity correction)
                      p = 2 (1 - Phi(|Z|))  (two-sided, normal approximation)
                      tau = S / (n (n-1) / 2)  (Kendall's tau-a)

References: Sen P.K. (1968) Estimates of the regression coefficient based on Kendall's
tau. J. Am. Stat. Assoc. 63:1379, doi:10.1080/01621459.1968.10480934; Theil H. (1950)
Proc. K. Ned. Akad. Wet. 53:386; Mann H.B. (1945) Nonparametric tests against trend.
Econometrica 13:245, doi:10.2307/1907187; Kendall M.G. (1975) Rank correlation methods,
4th ed., Griffin, London. The same formulas as ``pymannkendall.original_test``
(Hussain & Mahmud 2019, doi:10.21105/joss.01556), against which the tests check them.

Missing years: a series (pixel) uses the years where it has a value; with fewer than
``min_years`` of them every result is NaN. Slopes use the actual years, so unequal
spacing (or a gap) is handled; the test only needs their order.

Arrays carry the years on axis 0 and any shape after it; NaN is missing. numpy arrays
give numpy results; dask arrays (the year axis is taken as one chunk) give dask arrays
with the spatial chunks of the input; an xarray DataArray with a ``year`` dimension
gives an ``xarray.Dataset`` of the same fields on the other coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.stats import norm

from ..errors import StudyError

#: Fewest study years for trends (issue 16): fewer, and a Mann–Kendall test has little
#: power and a Theil–Sen slope rests on a handful of pairs (docs/trends.md).
MIN_YEARS = 8
#: Significance level of the ``significant`` flag and the stippling of the maps.
ALPHA = 0.05
#: Pairwise differences held at once [float64 values]: the pixels are taken in blocks of
#: ``PAIR_BUDGET // n_pairs`` so that memory stays near 8 x PAIR_BUDGET bytes, whatever
#: the number of pixels (n_pairs = n (n-1) / 2; 20 years: 190).
PAIR_BUDGET = 4_000_000
#: Two values of a series whose difference is at most this share of the larger magnitude
#: are tied [-]. Ratios such as ECC (shares of shares) that are constant in exact
#: arithmetic differ by 1e-16 in floating point; compared exactly, those differences are
#: signs, and a constant series came out as a "significant" trend (seen on a study whose
#: emissions all grew by the same share). 1e-9 is far below any change worth a trend.
TIE_RTOL = 1e-9

#: The fields of :class:`Trend`, in order.
FIELDS = ("slope", "p_value", "s", "var_s", "z", "tau", "n_years")


@dataclass(frozen=True)
class Trend:
    """Results per series (the input's shape without its year axis).

    slope : Theil–Sen slope [unit of the values per yr]
    p_value : two-sided Mann–Kendall p-value [-]
    s : Mann–Kendall S [-]; var_s : its variance with the tie correction [-]
    z : standardised S with the continuity correction [-]
    tau : Kendall's tau-a = S / (n (n-1) / 2) [-]
    n_years : years with a value [count] (float: NaN-free arithmetic with dask)
    """

    slope: object
    p_value: object
    s: object
    var_s: object
    z: object
    tau: object
    n_years: object


def _check_years(n: int, min_years: int, years) -> None:
    if n < min_years:
        shown = f" ({', '.join(str(int(y)) for y in years)})" if years is not None else ""
        raise StudyError(f"trends need at least {min_years} years, the series has {n}{shown}",
                         key="study.years",
                         fix=f"list at least {min_years} years in [study] years, e.g. "
                             "years = \"2001-2020\" (the trend outputs are left out otherwise)")


def _years(years, n: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float64) if years is None else np.asarray(years, np.float64)
    if t.shape != (n,):
        raise StudyError(f"{t.size} years given for a series of {n} values", key="study.years",
                         fix="give one year per layer on axis 0")
    if np.any(np.diff(t) <= 0):
        raise StudyError("the years of a trend must increase", key="study.years",
                         fix="sort the layers by year")
    return t


def _block(x: np.ndarray, t: np.ndarray, min_years: int,
           tie_rtol: float = TIE_RTOL) -> np.ndarray:
    """The :data:`FIELDS` of the series in the columns of ``x`` (n, pixels), float64.

    The pairwise slopes of a pixel are one contiguous row, sorted (NaN last): the median
    is then the middle of its nv (nv-1) / 2 valid pairs, with or without missing years.
    The whole kernel took 1.18 times less CPU this way than with ``np.median`` over axis 0
    without missing years, and 3.44 times less than with ``np.nanmedian`` when one pixel in
    7 misses a year (20 years, benchmarks/trend_kernel.py, benchmarks/RESULTS.md)."""
    n = x.shape[0]
    i, j = np.triu_indices(n, 1)
    valid = ~np.isnan(x)
    nv = valid.sum(axis=0).astype(np.float64)
    xt = np.ascontiguousarray(x.T)                        # (pixels, n)
    with np.errstate(invalid="ignore"):
        d = xt[:, j] - xt[:, i]                           # (pixels, pairs), NaN if either
        d[np.abs(d) <= tie_rtol * np.maximum(np.abs(xt[:, j]), np.abs(xt[:, i]))] = 0.0
        s = np.nansum(np.sign(d), axis=1)
        d /= t[j] - t[i]
    d.sort(axis=1)                                        # NaN sort to the end
    m = (nv * (nv - 1) / 2).astype(np.int64)              # valid pairs of each pixel
    rows = np.arange(d.shape[0])
    lo, hi = np.maximum((m - 1) // 2, 0), np.maximum(m // 2, 0)
    slope = np.where(m > 0, (d[rows, lo] + d[rows, hi]) / 2.0, np.nan)
    # ties: an element in a group of size g adds (g-1)(2g+5); a group adds g(g-1)(2g+5)
    ties = np.zeros(x.shape[1])
    for k in range(n):
        with np.errstate(invalid="ignore"):            # 0 where x[k] is NaN
            g = (np.abs(x - x[k]) <= tie_rtol * np.maximum(np.abs(x), np.abs(x[k]))
                 ).sum(axis=0)
        ties += np.where(valid[k], (g - 1.0) * (2.0 * g + 5.0), 0.0)
    var = (nv * (nv - 1) * (2 * nv + 5) - ties) / 18.0
    root = np.sqrt(np.where(var > 0, var, 1.0))
    z = np.where(s > 0, (s - 1) / root, np.where(s < 0, (s + 1) / root, 0.0))
    p = 2.0 * norm.sf(np.abs(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = s / (nv * (nv - 1) / 2.0)
    out = np.stack([slope, p, s, var, z, tau, nv])
    out[:6, nv < min_years] = np.nan
    return out


def _numpy(values: np.ndarray, t: np.ndarray, min_years: int,
           tie_rtol: float = TIE_RTOL) -> np.ndarray:
    """(len(FIELDS), *space) float64 of a numpy (n, *space) array."""
    x = np.asarray(values, dtype=np.float64)
    n, space = x.shape[0], x.shape[1:]
    flat = x.reshape(n, -1)
    out = np.empty((len(FIELDS), flat.shape[1]))
    step = max(1, PAIR_BUDGET // max(1, n * (n - 1) // 2))
    for a in range(0, flat.shape[1], step):
        out[:, a:a + step] = _block(flat[:, a:a + step], t, min_years, tie_rtol)
    return out.reshape((len(FIELDS),) + space)


def trend(values, years=None, *, min_years: int = MIN_YEARS, tie_rtol: float = TIE_RTOL):
    """Theil–Sen slope and Mann–Kendall test of every series of ``values`` (module doc).

    Parameters
    ----------
    values : array (n_years, ...) [any unit], NaN missing; numpy, dask or an xarray
        DataArray with a ``year`` dimension (its coordinate gives the years)
    years : the n_years increasing years [yr] (default: the DataArray's ``year``
        coordinate, else 0, 1, 2, ...: a slope per step)
    min_years : fewest years with a value for a result (fewer: NaN); an array with fewer
        layers than this raises :class:`~carbon_balance.errors.StudyError` naming
        ``study.years`` [count]
    tie_rtol : values differing by at most this share of the larger magnitude are tied
        [-] (default :data:`TIE_RTOL`: floating-point noise is not a trend; 0: exact
        comparison, as ``pymannkendall``)

    Returns a :class:`Trend` of arrays shaped like one layer (numpy or dask, as given), or
    for a DataArray an ``xarray.Dataset`` with the :data:`FIELDS` as variables.
    """
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray is a dependency
        xr = None
    if xr is not None and isinstance(values, xr.DataArray):
        return _xarray(values, years, min_years, tie_rtol)
    n = values.shape[0]
    _check_years(n, min_years, years)
    t = _years(years, n)
    if type(values).__module__.startswith("dask."):
        import dask.array as da

        v = values.rechunk({0: -1})
        out = da.map_blocks(_numpy, v, t, min_years, tie_rtol, dtype=np.float64,
                            chunks=((len(FIELDS),),) + v.chunks[1:])
    else:
        out = _numpy(values, t, min_years, tie_rtol)
    return Trend(*(out[k] for k in range(len(FIELDS))))


def _xarray(da, years, min_years: int, tie_rtol: float):
    import xarray as xr

    if "year" not in da.dims:
        raise StudyError(f"the DataArray has dimensions {tuple(da.dims)}: no 'year' dimension",
                         key="study.years", fix="name the year dimension 'year', e.g. "
                         "da.rename(time='year') with integer years as its coordinate")
    da = da.transpose("year", ...)
    if years is None and "year" in da.coords:
        years = np.asarray(da["year"].values)
    res = trend(da.data, years, min_years=min_years, tie_rtol=tie_rtol)
    dims = da.dims[1:]
    coords = {k: c for k, c in da.coords.items() if "year" not in c.dims}
    units = da.attrs.get("units")
    attrs = {"slope": {"units": f"({units}) yr-1" if units else "yr-1",
                       "long_name": "Theil-Sen slope (Sen 1968)"},
             "p_value": {"units": "1", "long_name": "Mann-Kendall two-sided p-value"}}
    return xr.Dataset({f.name: xr.DataArray(getattr(res, f.name), dims=dims, coords=coords,
                                            attrs=attrs.get(f.name, {}))
                       for f in fields(Trend)})


def theil_sen_slope(values, years=None, *, min_years: int = MIN_YEARS):
    """The Theil–Sen slope of :func:`trend` alone [unit of the values per yr]."""
    return trend(values, years, min_years=min_years).slope


def mann_kendall(values, *, min_years: int = MIN_YEARS):
    """(S, Var S, Z, two-sided p) of the Mann–Kendall test (:func:`trend`)."""
    r = trend(values, None, min_years=min_years)
    return r.s, r.var_s, r.z, r.p_value


def direction(s) -> np.ndarray:
    """``increasing`` (S > 0), ``decreasing`` (S < 0), ``no trend`` (S = 0) or ``""``
    (NaN): the sign of the Mann–Kendall S, whatever its p-value."""
    s = np.asarray(s, float)
    return np.where(s > 0, "increasing", np.where(s < 0, "decreasing",
                                                  np.where(s == 0, "no trend", "")))
