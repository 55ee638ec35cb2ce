"""The constants of the CASA model as one named, documented parameter set.

Every constant of METHOD.md sections 1-2 that the formulas use is a field of
:class:`CasaParameters`; :data:`DEFAULT_PARAMETERS` holds the published values and
:data:`CASA_PARAMETERS` the named sets (in the style of pvlib's
``TEMPERATURE_MODEL_PARAMETERS``). Every function of :mod:`carbon_balance.casa` takes
``parameters=`` (a set, its name, or a mapping of fields) and any field as a keyword
that overrides it for that call::

    >>> from carbon_balance.casa import CASA_PARAMETERS, DEFAULT_PARAMETERS
    >>> DEFAULT_PARAMETERS.rh_coefficient
    0.0913
    >>> CASA_PARAMETERS["pei2009"].rh_coefficient
    0.0912
    >>> DEFAULT_PARAMETERS.replace(te1_cold_limit=-5.0).te1_cold_limit
    -5.0

Sources: Potter C.S. et al. 1993, Global Biogeochem. Cycles 7:811, doi:10.1029/93GB02725
(FPAR range, Tε1, Tε2); Los S.O. et al. 1994 and Fan et al. 2024, Land 13:297,
doi:10.3390/land13030297 (α, PAR share, Rh exponent 0.0913); Thornthwaite C.W. 1948,
Geogr. Rev. 38:55, doi:10.2307/210739 (Ep0); Zhou G., Zhang X. 1995, Acta Phytoecol. Sin.
19:193 (Rn, EET); Zhu W. et al. 2007, J. Plant Ecol. 31:413 (Wε); Pei Z. et al. 2009,
J. Integr. Plant Biol. 51:521, doi:10.1111/j.1744-7909.2009.00813.x (Rh).
The per-type ε_max [g C MJ-1] (Zhu et al. 2006, Chin. Sci. Bull. 51:457) stays in the
class table ``tables/casa.csv``; the ``eps_max`` field overrides it per type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from ..errors import InputError


@dataclass(frozen=True)
class CasaParameters:
    """The constants of the CASA NPP, Rh and NEP formulas (units in brackets).

    Build a variant with :meth:`replace` or ``CasaParameters(**fields)``; every function
    of :mod:`carbon_balance.casa` also takes any field as a keyword argument.

    Parameters
    ----------
    **fields
        Any of the fields below (floats; ``exponent_coefficients`` four floats;
        ``eps_max`` a mapping {CASA code: ε_max [g C MJ-1]} or None for the table).

    Returns
    -------
    A frozen, hashable parameter set; invalid values raise InputError.

    References
    ----------
    Potter C.S. et al. 1993, doi:10.1029/93GB02725; Thornthwaite 1948,
    doi:10.2307/210739; Zhou & Zhang 1995, Acta Phytoecol. Sin. 19:193; Pei Z. et al.
    2009, doi:10.1111/j.1744-7909.2009.00813.x; Fan et al. 2024, doi:10.3390/land13030297.

    Examples
    --------
    >>> p = CasaParameters(rn_coefficient=0.589)
    >>> p.rn_coefficient, p.rh_coefficient
    (0.589, 0.0913)
    """

    # FPAR and APAR (Potter et al. 1993; Los et al. 1994; Fan et al. 2024 eqs. 2-6)
    #: weight of the NDVI-based FPAR estimate; 1 - alpha weights the SR-based one [-]
    alpha: float = 0.5
    #: lower and upper limit of FPAR [-]
    fpar_min: float = 0.001
    fpar_max: float = 0.95
    #: share of photosynthetically active radiation in total solar radiation [-]
    par_fraction: float = 0.5
    # Tε1 = te1_a + te1_b Topt - te1_c Topt², 0 in months with T <= te1_cold_limit
    te1_a: float = 0.8                 # [-]
    te1_b: float = 0.02                # [1/°C]
    te1_c: float = 0.0005              # [1/°C²]
    te1_cold_limit: float = -10.0      # [°C]
    # Tε2 = scale / (1 + exp(low (Topt - offset - T))) / (1 + exp(high (T - Topt - offset)));
    # half its value at T = Topt where T - Topt > above or Topt - T > below (strict)
    te2_scale: float = 1.1814          # [-]
    te2_low_slope: float = 0.2         # [1/°C]
    te2_high_slope: float = 0.3        # [1/°C]
    te2_offset: float = 10.0           # [°C]
    te2_above: float = 10.0            # [°C]
    te2_below: float = 13.0            # [°C]
    # Thornthwaite Ep0 = pet_scale (10 T / I)^a [mm month-1], I = Σ_{T>0} (T / divisor)^exponent,
    # a = c3 I³ + c2 I² + c1 I + c0
    pet_scale: float = 16.0            # [mm month-1]
    heat_index_divisor: float = 5.0    # [°C]
    heat_index_exponent: float = 1.514  # [-]
    exponent_coefficients: tuple[float, float, float, float] = (
        0.6751e-6, -77.1e-6, 17920e-6, 492390e-6)   # (c3, c2, c1, c0) [-]
    # Zhou & Zhang 1995: Rn = sqrt(Ep0 P) (rn_intercept + rn_coefficient sqrt(Ep0 / P))
    rn_intercept: float = 0.369        # [-]
    rn_coefficient: float = 0.598      # [-] (some codes use 0.589)
    #: Wε = we_floor + (1 - we_floor) EET / PET, clamped to [we_floor, 1] [-]
    we_floor: float = 0.5
    # Rh = rh_scale (exp(rh_coefficient T) + ln(rh_precipitation_coefficient P + 1))
    #      × days_per_month × carbon_fraction   [g C m-2 month-1] (Pei et al. 2009)
    rh_scale: float = 0.22             # [g dry matter m-2 day-1]
    rh_coefficient: float = 0.0913     # [1/°C] (Fan et al. 2024; Pei et al. 2009: 0.0912)
    rh_precipitation_coefficient: float = 0.3145  # [1/mm]
    days_per_month: float = 30.0       # [day month-1]
    carbon_fraction: float = 0.465     # [g C g-1 dry matter]
    #: {CASA code: ε_max [g C MJ-1]} overriding tables/casa.csv (None: the table's values)
    eps_max: Mapping[int, float] | None = field(default=None, hash=False)

    def __post_init__(self):
        if self.eps_max is not None:
            object.__setattr__(self, "eps_max", MappingProxyType(
                {int(k): float(v) for k, v in dict(self.eps_max).items()}))
        object.__setattr__(self, "exponent_coefficients",
                           tuple(float(c) for c in self.exponent_coefficients))
        if len(self.exponent_coefficients) != 4:
            raise InputError(f"exponent_coefficients = {self.exponent_coefficients!r}",
                             key="exponent_coefficients", fix="give four numbers (c3, c2, c1, c0)")
        for f in fields(self):
            if f.name in ("eps_max", "exponent_coefficients"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"CASA parameter {f.name} = {value!r}", key=f.name,
                                 fix="give a number")
            object.__setattr__(self, f.name, float(value))

    def replace(self, **changes) -> CasaParameters:
        """A copy with some fields changed (unknown names raise InputError)."""
        return resolve_parameters(self, **changes)

    def as_dict(self) -> dict:
        """The fields as a plain dict (``eps_max`` as a dict or None)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["eps_max"] is not None:
            out["eps_max"] = dict(out["eps_max"])
        return out


#: The published values (Fan et al. 2024 and the sources in the module docstring).
DEFAULT_PARAMETERS = CasaParameters()

#: Named parameter sets: ``"fan2024"`` the study's (= :data:`DEFAULT_PARAMETERS`),
#: ``"pei2009"`` with the original Rh temperature exponent 0.0912 of Pei et al. 2009.
CASA_PARAMETERS: Mapping[str, CasaParameters] = MappingProxyType({
    "fan2024": DEFAULT_PARAMETERS,
    "pei2009": CasaParameters(rh_coefficient=0.0912),
})

PARAMETER_NAMES = frozenset(f.name for f in fields(CasaParameters))

#: Per field: (units, meaning, source). Rendered in docs/api.md.
PARAMETER_DOCS: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "alpha": ("-", "weight of the NDVI-based FPAR; 1 − alpha weights the SR-based one",
              "Fan et al. 2024 after Los et al. 1994"),
    "fpar_min": ("-", "lower limit of FPAR", "Potter et al. 1993"),
    "fpar_max": ("-", "upper limit of FPAR", "Potter et al. 1993"),
    "par_fraction": ("-", "share of photosynthetically active radiation in SOL (APAR = "
                     "SOL × FPAR × par_fraction)", "Fan et al. 2024"),
    "te1_a": ("-", "Tε1 = te1_a + te1_b Topt − te1_c Topt²", "Potter et al. 1993"),
    "te1_b": ("1/°C", "see te1_a", "Potter et al. 1993"),
    "te1_c": ("1/°C²", "see te1_a", "Potter et al. 1993"),
    "te1_cold_limit": ("°C", "Tε1 = 0 in months with T ≤ te1_cold_limit", "Potter et al. 1993"),
    "te2_scale": ("-", "Tε2 = te2_scale / (1 + exp(low (Topt − offset − T))) / "
                  "(1 + exp(high (T − Topt − offset)))", "Potter et al. 1993"),
    "te2_low_slope": ("1/°C", "low: slope of the cold side of Tε2", "Potter et al. 1993"),
    "te2_high_slope": ("1/°C", "high: slope of the warm side of Tε2", "Potter et al. 1993"),
    "te2_offset": ("°C", "offset of both sides of Tε2", "Potter et al. 1993"),
    "te2_above": ("°C", "Tε2 is half its value at Topt where T − Topt > te2_above",
                  "Potter et al. 1993"),
    "te2_below": ("°C", "Tε2 is half its value at Topt where Topt − T > te2_below",
                  "Potter et al. 1993"),
    "pet_scale": ("mm month-1", "Ep0 = pet_scale (10 T / I)^a for T > 0", "Thornthwaite 1948"),
    "heat_index_divisor": ("°C", "I = Σ over months with T > 0 of (T / divisor)^exponent",
                           "Thornthwaite 1948"),
    "heat_index_exponent": ("-", "see heat_index_divisor", "Thornthwaite 1948"),
    "exponent_coefficients": ("-", "(c3, c2, c1, c0) of a = c3 I³ + c2 I² + c1 I + c0",
                              "Thornthwaite 1948"),
    "rn_intercept": ("-", "Rn = sqrt(Ep0 P) (rn_intercept + rn_coefficient sqrt(Ep0 / P))",
                     "Zhou & Zhang 1995"),
    "rn_coefficient": ("-", "see rn_intercept (some codes use 0.589)", "Zhou & Zhang 1995"),
    "we_floor": ("-", "Wε = we_floor + (1 − we_floor) EET / PET, clamped to [we_floor, 1]",
                 "Zhu et al. 2007"),
    "rh_scale": ("g m-2 day-1", "Rh = rh_scale (exp(rh_coefficient T) + "
                 "ln(rh_precipitation_coefficient P + 1)) × days_per_month × carbon_fraction",
                 "Pei et al. 2009"),
    "rh_coefficient": ("1/°C", "temperature exponent of Rh (Pei et al. 2009: 0.0912)",
                       "Fan et al. 2024"),
    "rh_precipitation_coefficient": ("1/mm", "precipitation coefficient of Rh",
                                     "Pei et al. 2009"),
    "days_per_month": ("day month-1", "days per month of Rh", "Pei et al. 2009"),
    "carbon_fraction": ("g C g-1", "carbon share of dry matter in Rh", "Pei et al. 2009"),
    "eps_max": ("g C MJ-1", "{CASA code: ε_max} overriding tables/casa.csv (None: the table)",
                "Zhu et al. 2006"),
})


def resolve_parameters(parameters=None, **overrides) -> CasaParameters:
    """The parameter set of one call.

    Parameters
    ----------
    parameters : None, CasaParameters, str or mapping
        None for :data:`DEFAULT_PARAMETERS`, a set, a name of :data:`CASA_PARAMETERS`
        or a mapping of fields (applied to the defaults).
    **overrides
        Any field, applied last; None leaves a field as it is.

    Returns
    -------
    CasaParameters. Raises InputError for an unknown set or field name.

    References
    ----------
    The style of pvlib's ``TEMPERATURE_MODEL_PARAMETERS`` (Holmgren et al. 2018,
    J. Open Source Softw. 3:884, doi:10.21105/joss.00884).

    Examples
    --------
    >>> resolve_parameters("pei2009", te1_cold_limit=-5.0).rh_coefficient
    0.0912
    """
    if parameters is None:
        base = DEFAULT_PARAMETERS
    elif isinstance(parameters, CasaParameters):
        base = parameters
    elif isinstance(parameters, str):
        if parameters not in CASA_PARAMETERS:
            raise InputError(f"unknown CASA parameter set {parameters!r}", key="parameters",
                             fix=f"use one of {', '.join(CASA_PARAMETERS)} or a CasaParameters")
        base = CASA_PARAMETERS[parameters]
    elif isinstance(parameters, Mapping):
        base = DEFAULT_PARAMETERS
        overrides = {**parameters, **overrides}
    else:
        raise InputError(f"parameters = {parameters!r}", key="parameters",
                         fix="give a CasaParameters, a name of CASA_PARAMETERS or a mapping")
    unknown = sorted(set(overrides) - PARAMETER_NAMES)
    if unknown:
        raise InputError(f"unknown CASA parameter(s) {', '.join(unknown)}", key=unknown[0],
                         fix="see carbon_balance.casa.CasaParameters for the field names")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(base, **changes) if changes else base
