"""Heterotrophic (soil microbial) respiration Rh (METHOD.md section 2).

    Rh = 0.22 (exp(0.0913 T) + ln(0.3145 P + 1)) × 30 × 0.465      [g C m-2 month-1]

Constants (``rh_scale``, ``rh_coefficient``, ``rh_precipitation_coefficient``,
``days_per_month``, ``carbon_fraction``): :class:`~carbon_balance.casa.parameters.CasaParameters`.

Pei Z. et al. 2009, J. Integr. Plant Biol. 51:521, doi:10.1111/j.1744-7909.2009.00813.x;
the original exponent is 0.0912, Fan et al. 2024 (doi:10.3390/land13030297) use 0.0913.
"""

from __future__ import annotations

import numpy as np

from .parameters import resolve_parameters
from .xarray_api import labelled


@labelled(units={"temperature": "temperature", "precipitation": "precipitation"},
          out_units=("g C m-2 month-1",))
def heterotrophic_respiration(temperature, precipitation, coefficient=None, *,
                              parameters=None, **overrides):
    """Monthly heterotrophic respiration Rh [g C m-2 month-1], elementwise.

    Parameters
    ----------
    temperature : array [°C]
        Monthly mean air temperature.
    precipitation : array [mm month-1], >= 0
    coefficient : float [1/°C], optional
        The temperature exponent ``rh_coefficient`` (default 0.0913).
    parameters, overrides : see :func:`~carbon_balance.casa.parameters.resolve_parameters`

    Returns
    -------
    array [g C m-2 month-1] of the broadcast shape, the inputs' precision.

    References
    ----------
    Pei Z. et al. 2009, doi:10.1111/j.1744-7909.2009.00813.x.

    Examples
    --------
    Reference points (T, P → Rh): (0, 0) → 3.0690; (10, 100) → 18.3265;
    (20, 100) → 29.7346; (30, 300) → 61.4692.

    >>> round(float(heterotrophic_respiration(10.0, 100.0)), 4)
    18.3265
    """
    p = resolve_parameters(parameters, rh_coefficient=coefficient, **overrides)
    t = np.asarray(temperature)
    pr = np.asarray(precipitation)
    dtype = np.result_type(t.dtype, pr.dtype, np.float32)
    rh = (p.rh_scale * (np.exp(p.rh_coefficient * t.astype(np.float64))
                        + np.log(p.rh_precipitation_coefficient * pr.astype(np.float64) + 1))
          * p.days_per_month * p.carbon_fraction)
    return rh.astype(dtype, copy=False)
