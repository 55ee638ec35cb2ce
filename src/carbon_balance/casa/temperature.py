"""Temperature stress on light-use efficiency, Tε1 and Tε2 (METHOD.md section 1).

Topt is the pixel's temperature in the month of its highest NDVI that year (first month
on ties). Formulas from Potter et al. 1993 (doi:10.1029/93GB02725) as used by Zhu et al.
2007 (J. Plant Ecol. 31:413) and Fan et al. 2024 (doi:10.3390/land13030297).
"""

from __future__ import annotations

import numpy as np

#: Tε1 = TE1_A + TE1_B*Topt - TE1_C*Topt**2 [-] (Potter et al. 1993).
TE1_A = 0.8
TE1_B = 0.02
TE1_C = 0.0005
#: Tε1 is 0 in months at or below this temperature [°C].
TE1_COLD_LIMIT = -10.0
#: Tε2 scale and logistic slopes [-, 1/°C, 1/°C] and offsets [°C] (Potter et al. 1993).
TE2_SCALE = 1.1814
TE2_LOW_SLOPE = 0.2
TE2_HIGH_SLOPE = 0.3
TE2_OFFSET = 10.0
#: Outside T - Topt > TE2_ABOVE or Topt - T > TE2_BELOW (strict), Tε2 is half its value at Topt [°C].
TE2_ABOVE = 10.0
TE2_BELOW = 13.0


def optimum_temperature(temperature, ndvi):
    """Topt [°C]: T in the month of maximum NDVI (first on ties); NaN if any month is NaN.

    Parameters
    ----------
    temperature, ndvi : arrays (12, ...) [°C], [-]

    Returns
    -------
    array (...) [°C]
    """
    t = np.asarray(temperature)
    v = np.asarray(ndvi)
    bad = np.isnan(v).any(axis=0) | np.isnan(t).any(axis=0)
    month = np.argmax(np.where(np.isnan(v), -np.inf, v), axis=0)
    topt = np.take_along_axis(t, month[None], axis=0)[0].astype(np.float64)
    return np.where(bad, np.nan, topt)


def _te2(t, topt, scale, low_slope, high_slope, offset):
    return (scale / (1 + np.exp(low_slope * (topt - offset - t)))
            / (1 + np.exp(high_slope * (-topt - offset + t))))


def te1(topt, temperature, *, a=TE1_A, b=TE1_B, c=TE1_C, cold_limit=TE1_COLD_LIMIT):
    """Low-temperature stress Tε1 [-] per month, (12, ...), from Topt (...) and T (12, ...) [°C]."""
    topt = np.asarray(topt, dtype=np.float64)
    t = np.asarray(temperature, dtype=np.float64)
    value = np.maximum(a + b * topt - c * topt**2, 0.0)
    out = np.where(t <= cold_limit, 0.0, value)
    return np.where(np.isnan(t) | np.isnan(topt), np.nan, out)


def te2(topt, temperature, *, scale=TE2_SCALE, low_slope=TE2_LOW_SLOPE,
        high_slope=TE2_HIGH_SLOPE, offset=TE2_OFFSET, above=TE2_ABOVE, below=TE2_BELOW):
    """High/low-temperature stress Tε2 [-] per month from Topt (...) and T (12, ...) [°C].

    Beyond T - Topt > ``above`` or Topt - T > ``below`` it is half its value at T = Topt.
    """
    topt = np.asarray(topt, dtype=np.float64)
    t = np.asarray(temperature, dtype=np.float64)
    value = _te2(t, topt, scale, low_slope, high_slope, offset)
    outside = (t - topt > above) | (topt - t > below)
    return np.where(outside, 0.5 * _te2(topt, topt, scale, low_slope, high_slope, offset), value)


def temperature_stress(temperature, ndvi, **params):
    """Temperature stress factors ``(te1, te2)`` [-], each (12, ...).

    Parameters
    ----------
    temperature : array (12, ...) [°C] monthly mean air temperature
    ndvi : array (12, ...) [-] monthly NDVI (selects Topt)
    params : the keyword constants of :func:`te1` and :func:`te2`

    Examples (Topt = 20 °C): Tε2 = 0.99122 at 20 °C, 0.58008 at 30 °C, 0.41820 at 7 °C.
    """
    t = np.asarray(temperature)
    dtype = np.result_type(t.dtype, np.float32)
    topt = optimum_temperature(t, ndvi)
    p1 = {k: params[k] for k in ("a", "b", "c", "cold_limit") if k in params}
    p2 = {k: params[k] for k in ("scale", "low_slope", "high_slope", "offset", "above", "below")
          if k in params}
    return te1(topt, t, **p1).astype(dtype), te2(topt, t, **p2).astype(dtype)
