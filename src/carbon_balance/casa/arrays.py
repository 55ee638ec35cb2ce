"""What kind of arrays a call got, and the guard on their declared units.

The CASA functions compute in fixed units (METHOD.md section 1): NDVI [-], temperature
[°C], precipitation [mm month-1], solar radiation [MJ m-2 month-1]. Inputs carrying a
``units`` attribute (xarray DataArrays, as CF-style NetCDF gives them) are checked
against these: a mismatch raises InputError naming the input, what it declares and the
conversion, instead of computing nonsense (temperature in K gives NEP of about -1e13).
Arrays without a ``units`` attribute are taken to be in the expected units.

Decision: the guard does not convert. A silent conversion would hide a wrong attribute
as easily as fix a right one; converting is one line for the user (the message says
which), and the grid engine converts declared study-file units before it calls casa.
"""

from __future__ import annotations

import re

from ..errors import InputError

#: Accepted spellings of each quantity's unit (compared after normalisation).
EXPECTED_UNITS = {
    "ndvi": ("1", "", "-", "dimensionless", "ndvi", "unitless"),
    "temperature": ("degc", "°c", "celsius", "degreec", "degreesc", "degree_celsius",
                    "degrees_celsius", "c"),
    "precipitation": ("mm", "mmmonth-1", "mm/month", "mmmon-1", "mm/mon", "kgm-2",
                      "kgm-2month-1"),
    "radiation": ("mjm-2", "mjm-2month-1", "mj/m2", "mj/m2/month", "mjm-2mon-1"),
    "vegetation": ("1", "", "-", "class", "classes", "code"),
}
#: What to say for common wrong units: the conversion to the expected unit.
CONVERSIONS = {
    "temperature": {
        ("k", "kelvin", "degk"): "subtract 273.15 (K → °C)",
        ("0.1degc", "0.1°c", "degc*0.1", "0.1c", "0.1celsius"): "multiply by 0.1 (0.1 °C → °C)",
        ("degf", "°f", "fahrenheit"): "convert: °C = (°F − 32) / 1.8",
    },
    "radiation": {
        ("wm-2", "w/m2", "w/m^2"): "convert the monthly mean: MJ m-2 month-1 = W m-2 × days "
                                   "in the month × 0.0864",
        ("kwhm-2", "kwh/m2"): "multiply by 3.6 (kWh m-2 → MJ m-2)",
        ("jm-2", "j/m2"): "multiply by 1e-6 (J m-2 → MJ m-2)",
    },
    "precipitation": {
        ("m", "mmonth-1"): "multiply by 1000 (m → mm)",
        ("cm",): "multiply by 10 (cm → mm)",
        ("0.1mm",): "multiply by 0.1 (0.1 mm → mm)",
    },
    "ndvi": {
        ("0.0001", "1e-4", "0.0001*1", "1/10000"): "multiply by 1e-4 (scaled integer NDVI)",
    },
}
_DISPLAY = {"ndvi": "1 (NDVI, unitless)", "temperature": "degC",
            "precipitation": "mm month-1", "radiation": "MJ m-2 month-1",
            "vegetation": "class codes (no units)"}


def normalise_units(units: str) -> str:
    """Lower case without spaces, with ``**``/``^`` dropped before exponents."""
    text = str(units).strip().lower().replace(" ", "").replace("**", "").replace("^", "")
    return re.sub(r"degrees?_?", "deg", text) if text.startswith("degree") else text


def check_units(name: str, array) -> None:
    """Raise InputError when ``array.attrs["units"]`` disagrees with ``name``'s expected
    unit (:data:`EXPECTED_UNITS`); arrays without the attribute pass.

    Examples
    --------
    >>> import xarray as xr
    >>> check_units("temperature", xr.DataArray([290.0], attrs={"units": "K"}))
    Traceback (most recent call last):
    ...
    carbon_balance.errors.InputError: [temperature]: temperature has units 'K', expected degC
      fix: subtract 273.15 (K → °C), and set attrs['units'] = 'degC'
    """
    attrs = getattr(array, "attrs", None)
    if not attrs or "units" not in attrs:
        return
    units = attrs["units"]
    key = normalise_units(units)
    accepted = {normalise_units(u) for u in EXPECTED_UNITS[name]}
    if key in accepted:
        return
    fix = next((how for spellings, how in CONVERSIONS.get(name, {}).items()
                if key in {normalise_units(s) for s in spellings}), None)
    fix = fix or f"convert to {_DISPLAY[name]}"
    raise InputError(f"{name} has units {units!r}, expected {_DISPLAY[name]}", key=name,
                     fix=f"{fix}, and set attrs['units'] = {_DISPLAY[name].split(' (')[0]!r}")


def is_lazy_or_labelled(*arrays) -> bool:
    """True if any argument is an xarray object or a dask array (the xarray path)."""
    for a in arrays:
        module = type(a).__module__
        if module.startswith(("xarray.", "dask.")):
            return True
    return False
