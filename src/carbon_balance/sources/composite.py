"""Pure functions of ``fetch``: masking, scaling, monthly composites, mean temperature.

Every function takes and returns numpy arrays with time (or month) as the first axis.
"""

from __future__ import annotations

import numpy as np


def physical_values(raw: np.ndarray, *, scale: float = 1.0, offset: float = 0.0,
                    nodata: float | None = None, valid_min: float | None = None,
                    valid_max: float | None = None) -> np.ndarray:
    """value = raw * scale + offset [source units, float32], NaN where ``raw`` is the
    nodata value, outside [``valid_min``, ``valid_max``] or already NaN.

    Fill and valid ranges are the products' own, e.g. MOD13 NDVI: fill -3000, valid
    -2000..10000, scale 0.0001 (Didan et al. 2015, MOD13 User's Guide C6, table 4).
    """
    raw = np.asarray(raw)
    bad = ~np.isfinite(raw) if raw.dtype.kind == "f" else np.zeros(raw.shape, bool)
    if nodata is not None:
        bad |= raw == nodata
    if valid_min is not None:
        bad |= raw < valid_min
    if valid_max is not None:
        bad |= raw > valid_max
    out = raw.astype("float64") * scale + offset
    out[bad] = np.nan
    return out.astype("float32")


def quality_masked(values: np.ndarray, quality: np.ndarray, keep) -> np.ndarray:
    """``values`` with NaN where ``quality`` is not one of ``keep``.

    MOD13 ``pixel_reliability``: 0 good, 1 marginal, 2 snow/ice, 3 cloudy, -1 fill
    (Didan et al. 2015, table 5); ``fetch`` keeps 0 and 1.
    """
    out = np.array(values, dtype="float32", copy=True)
    out[~np.isin(quality, np.asarray(keep))] = np.nan
    return out


def composite_months(dates, year: int) -> np.ndarray:
    """The month (1..12) each 16-day composite belongs to, 0 if outside ``year``.

    ``dates``: (start, end) pairs of each composite period (numpy datetime64 or strings).
    A composite belongs to the month of its period's midpoint (the composites of MOD13
    start on day 1, 17, 33, ... and a 16-day period spans two months at most).
    """
    months = []
    for start, end in dates:
        s, e = to_datetime64(start), to_datetime64(end)
        mid = s + (e - s) // 2
        y = mid.astype("datetime64[Y]").astype(int) + 1970
        m = mid.astype("datetime64[M]").astype(int) % 12 + 1
        months.append(m if y == year else 0)
    return np.asarray(months, dtype=int)


def to_datetime64(value) -> np.datetime64:
    """A datetime, string or datetime64 as naive UTC datetime64[s]."""
    if getattr(value, "tzinfo", None) is not None:
        from datetime import timezone

        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return np.datetime64(value, "s")


def monthly_maximum(values: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Maximum-value composite per month: (12, ...) from (n, ...) composites.

    ``months``: month 1..12 of each composite (0 = ignore). A pixel NaN in every
    composite of a month (or a month without composites) is NaN.
    Holben B.N. 1986, Int. J. Remote Sens. 7:1417, doi:10.1080/01431168608948945.
    """
    values = np.asarray(values, dtype="float32")
    out = np.full((12,) + values.shape[1:], np.nan, dtype="float32")
    for m in range(1, 13):
        sel = months == m
        if sel.any():
            stack = values[sel]
            have = np.isfinite(stack).any(axis=0)
            out[m - 1][have] = np.nanmax(np.where(np.isfinite(stack), stack, -np.inf),
                                         axis=0)[have]
    return out


def fill_missing_months(monthly: np.ndarray) -> np.ndarray:
    """Months without a valid composite (NaN) filled by linear interpolation in time
    between the nearest valid months of the year; before the first or after the last valid
    month, that month's value. A cell with no valid month stays NaN.

    Why: CASA's annual NPP is nodata where any month is, and in cloudy seasons every
    16-day composite of a month can be masked; interpolating the NDVI time series is the
    usual gap filling (e.g. Jonsson & Eklundh 2004, doi:10.1016/j.cageo.2004.05.006).
    The counts raster (:func:`monthly_counts`) keeps 0 where a month was filled.
    """
    v = np.asarray(monthly, dtype="float32")
    valid = np.isfinite(v)
    n = v.shape[0]
    idx = np.arange(n).reshape((n,) + (1,) * (v.ndim - 1))
    prev = np.maximum.accumulate(np.where(valid, idx, -1), axis=0)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(valid, idx, n), 0), axis=0), 0)
    pv = np.take_along_axis(v, np.clip(prev, 0, n - 1), axis=0)
    nv = np.take_along_axis(v, np.clip(nxt, 0, n - 1), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = (idx - prev) / (nxt - prev)
        inner = pv + (nv - pv) * w
    out = np.where(valid, v, np.where(prev < 0, nv, np.where(nxt >= n, pv, inner)))
    return out.astype("float32")


def monthly_counts(values: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Number of valid (finite) composites per month and cell: (12, ...) uint8. Written
    beside the NDVI as the record of the quality mask (0: the month is nodata there)."""
    finite = np.isfinite(np.asarray(values))
    out = np.zeros((12,) + finite.shape[1:], dtype="uint8")
    for m in range(1, 13):
        sel = months == m
        if sel.any():
            out[m - 1] = finite[sel].sum(axis=0)
    return out


def mean_temperature(tmax: np.ndarray, tmin: np.ndarray) -> np.ndarray:
    """Monthly mean air temperature [degC] = (Tmax + Tmin) / 2, as TerraClimate's
    documentation defines it (Abatzoglou et al. 2018, doi:10.1038/sdata.2017.191)."""
    return ((np.asarray(tmax, "float32") + np.asarray(tmin, "float32")) / 2).astype("float32")
