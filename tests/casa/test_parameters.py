"""The named parameter set: METHOD.md's values, named sets, per-call overrides."""

import dataclasses

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.casa.kernel import kernel_constants
from carbon_balance.errors import InputError

# METHOD.md sections 1-2, written out from the document.
METHOD = dict(alpha=0.5, fpar_min=0.001, fpar_max=0.95, par_fraction=0.5, te1_a=0.8,
              te1_b=0.02, te1_c=0.0005, te1_cold_limit=-10.0, te2_scale=1.1814,
              te2_low_slope=0.2, te2_high_slope=0.3, te2_offset=10.0, te2_above=10.0,
              te2_below=13.0, pet_scale=16.0, heat_index_divisor=5.0,
              heat_index_exponent=1.514,
              exponent_coefficients=(0.6751e-6, -77.1e-6, 17920e-6, 492390e-6),
              rn_intercept=0.369, rn_coefficient=0.598, we_floor=0.5, rh_scale=0.22,
              rh_coefficient=0.0913, rh_precipitation_coefficient=0.3145,
              days_per_month=30.0, carbon_fraction=0.465, eps_max=None)


def test_defaults_are_methods_values():
    assert casa.DEFAULT_PARAMETERS.as_dict() == METHOD
    assert casa.CASA_PARAMETERS["fan2024"] is casa.DEFAULT_PARAMETERS
    assert casa.CASA_PARAMETERS["pei2009"].as_dict() == dict(METHOD, rh_coefficient=0.0912)


def test_every_field_is_documented_with_units_and_source():
    from carbon_balance.casa.parameters import PARAMETER_DOCS, PARAMETER_NAMES

    assert set(PARAMETER_DOCS) == PARAMETER_NAMES
    assert all(units and meaning and source for units, meaning, source in PARAMETER_DOCS.values())


def test_parameters_are_frozen_and_replace_checks_names():
    with pytest.raises(dataclasses.FrozenInstanceError):
        casa.DEFAULT_PARAMETERS.rh_coefficient = 0.1
    assert casa.DEFAULT_PARAMETERS.replace(we_floor=0.4).we_floor == 0.4
    with pytest.raises(InputError, match="rh_coeficient"):
        casa.DEFAULT_PARAMETERS.replace(rh_coeficient=0.1)
    with pytest.raises(InputError, match="unknown CASA parameter set"):
        casa.resolve_parameters("potter1993")
    with pytest.raises(InputError, match="te1_a"):
        casa.CasaParameters(te1_a="high")


def test_overrides_per_call_by_hand():
    # Rh(0 degC, 0 mm) = 0.22 (1 + 0) 30 0.465 = 3.069; doubling the scale doubles it
    assert casa.heterotrophic_respiration(0.0, 0.0, rh_scale=0.44) == pytest.approx(6.138)
    assert casa.heterotrophic_respiration(0.0, 0.0, days_per_month=31.0) == pytest.approx(
        0.22 * 31 * 0.465)
    # Te1 at Topt = 20: 0.7 + 0.4 - 0.2 = 0.9 with te1_a = 0.7; a -5 degC limit zeroes -6 degC
    assert casa.te1(20.0, 15.0, te1_a=0.7) == pytest.approx(0.9)
    assert casa.te1(20.0, -6.0, te1_cold_limit=-5.0) == 0.0
    assert casa.te1(20.0, -6.0) == pytest.approx(1.0)
    # FPAR with alpha = 1 is the NDVI term alone: half way between the bounds
    assert casa.fpar(0.4, 0.1, 0.7, alpha=1.0) == pytest.approx(0.5 * 0.949 + 0.001)
    # a mapping works as a parameter set
    assert casa.fpar(0.4, 0.1, 0.7, parameters={"alpha": 1.0}) == pytest.approx(0.4755)
    # the constant 10 degC year (I = 34.273) with a divisor of 10: I = 12 * 1 = 12
    assert casa.heat_index(np.full(12, 10.0), heat_index_divisor=10.0) == pytest.approx(12.0)


def test_kernel_constants_carry_the_fields_by_name():
    p = casa.DEFAULT_PARAMETERS.replace(te2_above=7.5, rh_coefficient=0.09)
    pixel, month = kernel_constants(p, np.float32)
    fields = p.as_dict()
    for tup in (pixel, month):
        for name, value in tup._asdict().items():
            if name in fields:
                assert value == pytest.approx(fields[name], rel=1e-7), name
    assert month.te2_above.dtype == np.float32 and month.rh_coefficient == np.float32(0.09)
    # derived: Rh factor 0.22 x 30 x 0.465; Te2 at T = Topt (20 degC) halved = 0.99122 / 2
    assert month.rh_factor == pytest.approx(3.069)
    assert month.te2_half == pytest.approx(0.99122 / 2, abs=5e-6)
