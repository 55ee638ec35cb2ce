"""Water stress on light-use efficiency, Wε (METHOD.md section 1).

Wε = 0.5 + 0.5 EET/PET with the Zhou & Zhang (1995) regional actual evapotranspiration
model and the uncorrected Thornthwaite (1948, doi:10.2307/210739) potential
evapotranspiration Ep0; PET = (EET + Ep0)/2 (Zhu et al. 2007, J. Plant Ecol. 31:413).
"""

from __future__ import annotations

import numpy as np

#: Thornthwaite: Ep0 = THORNTHWAITE_SCALE * (10 T / I)**a [mm month-1].
THORNTHWAITE_SCALE = 16.0
#: Heat index I = sum over months with T > 0 of (T / HEAT_INDEX_DIVISOR)**HEAT_INDEX_EXPONENT.
HEAT_INDEX_DIVISOR = 5.0
HEAT_INDEX_EXPONENT = 1.514
#: a = (c3 I^3 + c2 I^2 + c1 I + c0) * 1e-6 (Thornthwaite 1948).
EXPONENT_COEFFICIENTS = (0.6751e-6, -77.1e-6, 17920e-6, 492390e-6)
#: Zhou & Zhang (1995): Rn = sqrt(Ep0 P) (RN_INTERCEPT + rn_coefficient sqrt(Ep0 / P)).
RN_INTERCEPT = 0.369
RN_COEFFICIENT = 0.598
#: Wε = WE_FLOOR + (1 - WE_FLOOR) EET/PET, clamped to [WE_FLOOR, 1].
WE_FLOOR = 0.5


def heat_index(temperature, *, divisor=HEAT_INDEX_DIVISOR, exponent=HEAT_INDEX_EXPONENT):
    """Thornthwaite annual heat index I [-] from monthly T (12, ...) [°C]; months T <= 0 add 0."""
    t = np.asarray(temperature, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        terms = np.where(t > 0, (np.maximum(t, 0) / divisor) ** exponent, 0.0)
    return np.where(np.isnan(t).any(axis=0), np.nan, terms.sum(axis=0))


def thornthwaite_pet(temperature, *, scale=THORNTHWAITE_SCALE, divisor=HEAT_INDEX_DIVISOR,
                     exponent=HEAT_INDEX_EXPONENT, coefficients=EXPONENT_COEFFICIENTS):
    """Uncorrected Thornthwaite potential evapotranspiration Ep0 [mm month-1].

    Ep0 = 16 (10 T / I)**a for T > 0, else 0; I from all 12 months (axis 0); no
    day-length or month-length correction (as in the CASA water-stress term).

    Parameters
    ----------
    temperature : array (12, ...) [°C] monthly mean air temperature

    Returns
    -------
    array, shape of ``temperature`` [mm month-1]; NaN for a pixel with any NaN month.
    A constant 10 °C year gives 48.894 mm per month.

    Reference: Thornthwaite C.W. 1948, Geogr. Rev. 38:55, doi:10.2307/210739.
    """
    t = np.asarray(temperature)
    dtype = np.result_type(t.dtype, np.float32)
    t = t.astype(np.float64)
    i = heat_index(t, divisor=divisor, exponent=exponent)
    c3, c2, c1, c0 = coefficients
    a = ((c3 * i + c2) * i + c1) * i + c0
    with np.errstate(invalid="ignore", divide="ignore"):
        # I = 0 (no month warm enough to register) means no evaporative demand at all.
        ep0 = np.where((t > 0) & (i > 0),
                       scale * (10 * np.maximum(t, 0) / np.where(i > 0, i, 1)) ** a, 0.0)
    ep0 = np.where(np.isnan(t) | np.isnan(i), np.nan, ep0)
    return ep0.astype(dtype, copy=False)


def actual_evapotranspiration(precipitation, pet0, rn_coefficient=RN_COEFFICIENT, *,
                              rn_intercept=RN_INTERCEPT):
    """Regional actual evapotranspiration EET [mm month-1] (Zhou & Zhang 1995).

        Rn  = sqrt(Ep0 P) (0.369 + rn_coefficient sqrt(Ep0 / P))
        EET = P Rn (P² + Rn² + P Rn) / ((P + Rn)(P² + Rn²))

    Parameters
    ----------
    precipitation : array [mm month-1], >= 0
    pet0 : array [mm month-1], Thornthwaite Ep0
    rn_coefficient : float [-] (0.598; some codes use 0.589)

    Returns
    -------
    array [mm month-1]; 0 where P = 0 or Ep0 = 0 (no water or no energy to evaporate it).

    Reference: Zhou G., Zhang X. 1995, Acta Phytoecol. Sin. 19(3):193-200.
    """
    p = np.asarray(precipitation)
    dtype = np.result_type(p.dtype, np.asarray(pet0).dtype, np.float32)
    p = p.astype(np.float64)
    e = np.asarray(pet0, dtype=np.float64)
    # sqrt(Ep0 P) * sqrt(Ep0 / P) = Ep0 exactly, which avoids dividing by P.
    rn = rn_intercept * np.sqrt(e * p) + rn_coefficient * e
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # Same expression divided through by Rn**3 (u = P/Rn), which cannot underflow
        # to 0/0 for tiny P and Rn.
        u = np.minimum(p / rn, 1e100)    # beyond, EET ~ P/u is 0 in double precision
        eet = p * (u * u + u + 1) / ((u + 1) * (u * u + 1))
    eet = np.where((p == 0) | (e == 0), 0.0, eet)
    return eet.astype(dtype, copy=False)


def water_stress(temperature, precipitation, *, rn_coefficient=RN_COEFFICIENT, floor=WE_FLOOR):
    """Water stress Wε [-] per month, (12, ...), in [0.5, 1].

    Wε = 0.5 + 0.5 EET/PET with PET = (EET + Ep0)/2. Guards: P = 0 gives EET = 0 and
    Wε = 0.5; Ep0 = 0 (T <= 0) means no evaporative demand and Wε = 1 (this guard wins
    when both hold). EET can exceed Ep0, so Wε is clamped to [0.5, 1].

    Parameters
    ----------
    temperature : array (12, ...) [°C]
    precipitation : array (12, ...) [mm month-1]
    """
    t = np.asarray(temperature)
    dtype = np.result_type(t.dtype, np.asarray(precipitation).dtype, np.float32)
    ep0 = thornthwaite_pet(t.astype(np.float64))
    eet = actual_evapotranspiration(np.asarray(precipitation, dtype=np.float64), ep0,
                                    rn_coefficient)
    pet = (eet + ep0) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        w = floor + (1 - floor) * eet / pet
    w = np.where(ep0 == 0, 1.0, np.clip(w, floor, 1.0))
    w = np.where(np.isnan(ep0) | np.isnan(eet), np.nan, w)
    return w.astype(dtype, copy=False)
