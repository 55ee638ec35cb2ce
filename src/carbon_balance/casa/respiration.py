"""Heterotrophic (soil microbial) respiration Rh (METHOD.md section 2).

    Rh = 0.22 (exp(0.0913 T) + ln(0.3145 P + 1)) × 30 × 0.465      [g C m-2 month-1]

Pei Z. et al. 2009, J. Integr. Plant Biol. 51:521, doi:10.1111/j.1744-7909.2009.00813.x
(after Pei et al. 2010); the original exponent is 0.0912, Fan et al. 2024 use 0.0913.
"""

from __future__ import annotations

import numpy as np

#: Temperature exponent [1/°C] (Fan et al. 2024; Pei et al.: 0.0912).
RH_COEFFICIENT = 0.0913
#: Regression scale [-], precipitation coefficient [1/mm], days per month and carbon
#: fraction of dry matter [g C g-1] (Pei et al. 2009).
RH_SCALE = 0.22
RH_PRECIPITATION_COEFFICIENT = 0.3145
DAYS_PER_MONTH = 30.0
CARBON_FRACTION = 0.465


def heterotrophic_respiration(temperature, precipitation, coefficient=RH_COEFFICIENT, *,
                              scale=RH_SCALE,
                              precipitation_coefficient=RH_PRECIPITATION_COEFFICIENT,
                              days=DAYS_PER_MONTH, carbon_fraction=CARBON_FRACTION):
    """Monthly heterotrophic respiration Rh [g C m-2 month-1], elementwise.

    Parameters
    ----------
    temperature : array [°C] monthly mean air temperature
    precipitation : array [mm month-1], >= 0
    coefficient : float [1/°C]

    Reference points (T, P -> Rh): (0, 0) -> 3.0690; (10, 100) -> 18.3265;
    (20, 100) -> 29.7346; (30, 300) -> 61.4692.
    """
    t = np.asarray(temperature)
    p = np.asarray(precipitation)
    dtype = np.result_type(t.dtype, p.dtype, np.float32)
    rh = scale * (np.exp(coefficient * t.astype(np.float64))
                  + np.log(precipitation_coefficient * p.astype(np.float64) + 1)) * days * carbon_fraction
    return rh.astype(dtype, copy=False)
