"""Temperature stress on light-use efficiency, Tε1 and Tε2 (METHOD.md section 1).

    Tε1 = te1_a + te1_b Topt − te1_c Topt²   (≥ 0; 0 in months with T ≤ te1_cold_limit)
    Tε2 = te2_scale / (1 + exp(te2_low_slope (Topt − te2_offset − T)))
                    / (1 + exp(te2_high_slope (T − Topt − te2_offset)))

Topt is the pixel's temperature in the month of its highest NDVI that year (first month
on ties). Where T − Topt > te2_above or Topt − T > te2_below (strict), Tε2 is half its
value at T = Topt. Constants: :class:`~carbon_balance.casa.parameters.CasaParameters`.

References: Potter C.S. et al. 1993, doi:10.1029/93GB02725; Zhu W. et al. 2007,
J. Plant Ecol. 31:413; Fan et al. 2024, doi:10.3390/land13030297.
"""

from __future__ import annotations

import numpy as np

from .parameters import resolve_parameters
from .xarray_api import labelled


@labelled(monthly=("temperature", "ndvi"), units={"temperature": "temperature", "ndvi": "ndvi"},
          out_units=("degC",))
def optimum_temperature(temperature, ndvi):
    """Optimum temperature Topt [°C]: T in the month of maximum NDVI (first on ties).

    Parameters
    ----------
    temperature : array (12, ...) [°C]
        Monthly mean air temperature, months on axis 0.
    ndvi : array (12, ...) [-]
        Monthly NDVI.

    Returns
    -------
    array (...) [°C], float64; NaN for a pixel with any NaN month.

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725 (Topt: the month of maximum NDVI).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(12.0); ndvi = np.r_[np.zeros(6), 0.8, np.zeros(5)]
    >>> float(optimum_temperature(t, ndvi))
    6.0
    """
    t = np.asarray(temperature)
    v = np.asarray(ndvi)
    bad = np.isnan(v).any(axis=0) | np.isnan(t).any(axis=0)
    month = np.argmax(np.where(np.isnan(v), -np.inf, v), axis=0)
    topt = np.take_along_axis(t, month[None], axis=0)[0].astype(np.float64)
    return np.where(bad, np.nan, topt)


def _te2(t, topt, p):
    return (p.te2_scale / (1 + np.exp(p.te2_low_slope * (topt - p.te2_offset - t)))
            / (1 + np.exp(p.te2_high_slope * (-topt - p.te2_offset + t))))


@labelled(monthly=("temperature",), units={"topt": "temperature", "temperature": "temperature"},
          monthly_out=(True,))
def te1(topt, temperature, *, parameters=None, **overrides):
    """Low-temperature stress Tε1 [-] per month.

    Parameters
    ----------
    topt : array (...) [°C]
        Optimum temperature (:func:`optimum_temperature`).
    temperature : array (12, ...) [°C]
        Monthly mean air temperature.
    parameters, overrides : see :func:`~carbon_balance.casa.parameters.resolve_parameters`
        (``te1_a``, ``te1_b``, ``te1_c``, ``te1_cold_limit``).

    Returns
    -------
    array (12, ...) [-], float64.

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725.

    Examples
    --------
    >>> round(float(te1(20.0, 15.0)), 12)     # 0.8 + 0.02·20 − 0.0005·20²
    1.0
    """
    p = resolve_parameters(parameters, **overrides)
    topt = np.asarray(topt, dtype=np.float64)
    t = np.asarray(temperature, dtype=np.float64)
    value = np.maximum(p.te1_a + p.te1_b * topt - p.te1_c * topt**2, 0.0)
    out = np.where(t <= p.te1_cold_limit, 0.0, value)
    return np.where(np.isnan(t) | np.isnan(topt), np.nan, out)


@labelled(monthly=("temperature",), units={"topt": "temperature", "temperature": "temperature"},
          monthly_out=(True,))
def te2(topt, temperature, *, parameters=None, **overrides):
    """High/low-temperature stress Tε2 [-] per month.

    Parameters
    ----------
    topt : array (...) [°C]
        Optimum temperature (:func:`optimum_temperature`).
    temperature : array (12, ...) [°C]
        Monthly mean air temperature.
    parameters, overrides : see :func:`~carbon_balance.casa.parameters.resolve_parameters`
        (``te2_scale``, ``te2_low_slope``, ``te2_high_slope``, ``te2_offset``,
        ``te2_above``, ``te2_below``).

    Returns
    -------
    array (12, ...) [-], float64: half its value at T = Topt beyond the window.

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725.

    Examples
    --------
    >>> round(float(te2(20.0, 30.0)), 5)
    0.58008
    """
    p = resolve_parameters(parameters, **overrides)
    topt = np.asarray(topt, dtype=np.float64)
    t = np.asarray(temperature, dtype=np.float64)
    value = _te2(t, topt, p)
    outside = (t - topt > p.te2_above) | (topt - t > p.te2_below)
    return np.where(outside, 0.5 * _te2(topt, topt, p), value)


@labelled(monthly=("temperature", "ndvi"), units={"temperature": "temperature", "ndvi": "ndvi"},
          out_units=("1", "1"), monthly_out=(True, True))
def temperature_stress(temperature, ndvi, *, parameters=None, **overrides):
    """Temperature stress factors ``(te1, te2)`` [-] on light-use efficiency.

    Parameters
    ----------
    temperature : array (12, ...) [°C]
        Monthly mean air temperature, months on axis 0.
    ndvi : array (12, ...) [-]
        Monthly NDVI (selects Topt, the temperature of the month of maximum NDVI).
    parameters, overrides : see :func:`~carbon_balance.casa.parameters.resolve_parameters`

    Returns
    -------
    (te1, te2) : two arrays (12, ...) [-], in the inputs' precision (float32 or float64).

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725.

    Examples
    --------
    With Topt = 20 °C, Tε2 = 0.99122 at 20 °C, 0.58008 at 30 °C and 0.41820 at 7 °C.

    >>> import numpy as np
    >>> t = np.r_[20.0, 30.0, 7.0, np.full(9, 10.0)]; ndvi = np.r_[0.9, np.full(11, 0.2)]
    >>> e1, e2 = temperature_stress(t, ndvi)
    >>> np.round(e2[:3], 5).tolist()
    [0.99122, 0.58008, 0.4182]
    """
    p = resolve_parameters(parameters, **overrides)
    t = np.asarray(temperature)
    dtype = np.result_type(t.dtype, np.float32)
    topt = optimum_temperature(t, ndvi)
    return te1(topt, t, parameters=p).astype(dtype), te2(topt, t, parameters=p).astype(dtype)
