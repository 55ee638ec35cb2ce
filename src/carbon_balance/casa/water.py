"""Water stress on light-use efficiency, Wε (METHOD.md section 1).

    Wε  = we_floor + (1 − we_floor) EET / PET,   PET = (EET + Ep0) / 2
    EET = P Rn (P² + Rn² + P Rn) / ((P + Rn)(P² + Rn²))          (Zhou & Zhang 1995)
    Rn  = sqrt(Ep0 P) (rn_intercept + rn_coefficient sqrt(Ep0 / P))
    Ep0 = pet_scale (10 T / I)^a for T > 0, else 0                (Thornthwaite 1948)

Constants: :class:`~carbon_balance.casa.parameters.CasaParameters`.

References: Thornthwaite C.W. 1948, Geogr. Rev. 38:55, doi:10.2307/210739; Zhou G.,
Zhang X. 1995, Acta Phytoecol. Sin. 19:193; Zhu W. et al. 2007, J. Plant Ecol. 31:413.
"""

from __future__ import annotations

import numpy as np

from .parameters import resolve_parameters
from .xarray_api import labelled


@labelled(monthly=("temperature",), units={"temperature": "temperature"})
def heat_index(temperature, *, parameters=None, **overrides):
    """Thornthwaite annual heat index I [-] = Σ over months with T > 0 of (T / 5)^1.514.

    Parameters
    ----------
    temperature : array (12, ...) [°C]
        Monthly mean air temperature, months on axis 0.
    parameters, overrides : ``heat_index_divisor``, ``heat_index_exponent``

    Returns
    -------
    array (...) [-], float64; NaN for a pixel with any NaN month.

    References
    ----------
    Thornthwaite C.W. 1948, Geogr. Rev. 38:55, doi:10.2307/210739.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(heat_index(np.full(12, 10.0))), 4)    # 12 (10/5)^1.514
    34.2721
    """
    p = resolve_parameters(parameters, **overrides)
    t = np.asarray(temperature, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        terms = np.where(t > 0, (np.maximum(t, 0) / p.heat_index_divisor)
                         ** p.heat_index_exponent, 0.0)
    return np.where(np.isnan(t).any(axis=0), np.nan, terms.sum(axis=0))


@labelled(monthly=("temperature",), units={"temperature": "temperature"},
          out_units=("mm month-1",), monthly_out=(True,))
def thornthwaite_pet(temperature, *, parameters=None, **overrides):
    """Uncorrected Thornthwaite potential evapotranspiration Ep0 [mm month-1].

    Ep0 = 16 (10 T / I)^a for T > 0, else 0; I from all 12 months (axis 0); no
    day-length or month-length correction (as in the CASA water-stress term). A year
    with no month above 0 °C (I = 0) has no evaporative demand.

    Parameters
    ----------
    temperature : array (12, ...) [°C]
        Monthly mean air temperature, months on axis 0.
    parameters, overrides : ``pet_scale``, ``heat_index_divisor``,
        ``heat_index_exponent``, ``exponent_coefficients``

    Returns
    -------
    array, shape of ``temperature`` [mm month-1], the inputs' precision; NaN for a pixel
    with any NaN month.

    References
    ----------
    Thornthwaite C.W. 1948, Geogr. Rev. 38:55, doi:10.2307/210739.

    Examples
    --------
    A constant 10 °C year gives 48.894 mm per month:

    >>> import numpy as np
    >>> round(float(thornthwaite_pet(np.full(12, 10.0))[0]), 3)
    48.894
    """
    p = resolve_parameters(parameters, **overrides)
    t = np.asarray(temperature)
    dtype = np.result_type(t.dtype, np.float32)
    t = t.astype(np.float64)
    i = heat_index(t, parameters=p)
    c3, c2, c1, c0 = p.exponent_coefficients
    a = ((c3 * i + c2) * i + c1) * i + c0
    with np.errstate(invalid="ignore", divide="ignore"):
        ep0 = np.where((t > 0) & (i > 0),
                       p.pet_scale * (10 * np.maximum(t, 0) / np.where(i > 0, i, 1)) ** a, 0.0)
    ep0 = np.where(np.isnan(t) | np.isnan(i), np.nan, ep0)
    return ep0.astype(dtype, copy=False)


@labelled(units={"precipitation": "precipitation", "pet0": "precipitation"},
          out_units=("mm month-1",))
def actual_evapotranspiration(precipitation, pet0, rn_coefficient=None, *, parameters=None,
                              **overrides):
    """Regional actual evapotranspiration EET [mm month-1] (Zhou & Zhang 1995).

        Rn  = sqrt(Ep0 P) (0.369 + rn_coefficient sqrt(Ep0 / P))
        EET = P Rn (P² + Rn² + P Rn) / ((P + Rn)(P² + Rn²))

    Parameters
    ----------
    precipitation : array [mm month-1], >= 0
    pet0 : array [mm month-1]
        Thornthwaite Ep0 (:func:`thornthwaite_pet`).
    rn_coefficient : float [-], optional
        The Rn coefficient (default 0.598; some codes use 0.589).
    parameters, overrides : ``rn_intercept``, ``rn_coefficient``

    Returns
    -------
    array [mm month-1], the inputs' precision; 0 where P = 0 or Ep0 = 0 (no water, or no
    energy to evaporate it).

    References
    ----------
    Zhou G., Zhang X. 1995, Acta Phytoecol. Sin. 19(3):193-200.

    Examples
    --------
    P = Ep0 = 100 mm: Rn = 100 (0.369 + 0.598) = 96.7 mm and
    EET = 100 · 96.7 · 29020.89 / (196.7 · 19350.89) = 73.728 mm.

    >>> round(float(actual_evapotranspiration(100.0, 100.0)), 3)
    73.728
    """
    p = resolve_parameters(parameters, rn_coefficient=rn_coefficient, **overrides)
    pr = np.asarray(precipitation)
    dtype = np.result_type(pr.dtype, np.asarray(pet0).dtype, np.float32)
    pr = pr.astype(np.float64)
    e = np.asarray(pet0, dtype=np.float64)
    # sqrt(Ep0 P) * sqrt(Ep0 / P) = Ep0 exactly, which avoids dividing by P.
    rn = p.rn_intercept * np.sqrt(e * pr) + p.rn_coefficient * e
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # Same expression divided through by Rn**3 (u = P/Rn), which cannot underflow
        # to 0/0 for tiny P and Rn.
        u = np.minimum(pr / rn, 1e100)    # beyond, EET ~ P/u is 0 in double precision
        eet = pr * (u * u + u + 1) / ((u + 1) * (u * u + 1))
    eet = np.where((pr == 0) | (e == 0), 0.0, eet)
    return eet.astype(dtype, copy=False)


@labelled(monthly=("temperature", "precipitation"),
          units={"temperature": "temperature", "precipitation": "precipitation"},
          monthly_out=(True,))
def water_stress(temperature, precipitation, *, parameters=None, **overrides):
    """Water stress Wε [-] per month, in [0.5, 1].

    Wε = 0.5 + 0.5 EET/PET with PET = (EET + Ep0)/2. Guards: P = 0 gives EET = 0 and
    Wε = 0.5; Ep0 = 0 (T <= 0) means no evaporative demand and Wε = 1 (this guard wins
    when both hold). EET can exceed Ep0, so Wε is clamped to [0.5, 1].

    Parameters
    ----------
    temperature : array (12, ...) [°C]
        Monthly mean air temperature, months on axis 0.
    precipitation : array (12, ...) [mm month-1], >= 0
    parameters, overrides : ``rn_intercept``, ``rn_coefficient``, ``we_floor`` and the
        Thornthwaite fields

    Returns
    -------
    array (12, ...) [-], the inputs' precision; NaN for a pixel with any NaN month.

    References
    ----------
    Zhu W. et al. 2007, J. Plant Ecol. 31:413; Zhou G., Zhang X. 1995.

    Examples
    --------
    A constant 10 °C year with as much rain as Ep0 each month:

    >>> import numpy as np
    >>> t = np.full(12, 10.0)
    >>> round(float(water_stress(t, thornthwaite_pet(t))[0]), 6)
    0.924387
    """
    p = resolve_parameters(parameters, **overrides)
    t = np.asarray(temperature)
    dtype = np.result_type(t.dtype, np.asarray(precipitation).dtype, np.float32)
    ep0 = thornthwaite_pet(t.astype(np.float64), parameters=p)
    eet = actual_evapotranspiration(np.asarray(precipitation, dtype=np.float64), ep0,
                                    parameters=p)
    pet = (eet + ep0) / 2
    floor = p.we_floor
    with np.errstate(invalid="ignore", divide="ignore"):
        w = floor + (1 - floor) * eet / pet
    w = np.where(ep0 == 0, 1.0, np.clip(w, floor, 1.0))
    w = np.where(np.isnan(ep0) | np.isnan(eet), np.nan, w)
    return w.astype(dtype, copy=False)
