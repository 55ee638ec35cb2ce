"""Value checks on the sampled cells of an input (issue 15, item 3), beyond its range:

- a nodata value that is also a plausible value of the quantity (0 mm of rain, 4 °C) and
  occurs in the file: the real values it hides are lost, and a whole year can end
  "unclassified" without naming the culprit (a warning);
- precipitation whose median annual total is beyond any region on record with
  ``mm/month`` declared: tenths of a millimetre is the likelier story (a warning).
"""

from __future__ import annotations

import numpy as np

from ..errors import Problem

#: Plausible values [model units] of the quantities whose nodata is checked.
PLAUSIBLE = {"temperature": (-90.0, 60.0, "°C"), "precipitation": (0.0, 3000.0, "mm/month"),
             "radiation": (0.0, 1300.0, "MJ/m2/month")}
#: Median annual precipitation above this [mm yr-1] is beyond any study region (the
#: wettest places on record have ~11,000-12,000 at a point; regional medians < 5,000).
PRECIPITATION_ANNUAL_MEDIAN_MAX = 6000.0


def nodata_problems(name: str, nodata, raw: np.ndarray, to_model, *, file: str,
                    key: str) -> list[Problem]:
    """``raw``: the sampled raw values before masking; ``to_model``: raw -> model units."""
    if name not in PLAUSIBLE or nodata is None or not np.isfinite(nodata):
        return []
    lo, hi, unit = PLAUSIBLE[name]
    value = float(np.asarray(to_model(np.array([nodata], dtype=float))).ravel()[0])
    share = float(np.mean(raw == nodata)) if raw.size else 0.0
    if not (lo <= value <= hi) or share == 0:
        return []
    return [Problem(f"nodata = {nodata:g} is also a plausible {name} ({value:g} {unit}), and "
                    f"{100 * share:.1f} % of the sampled cells have it: real values there "
                    "would be lost", file, key, f"if the file's fill value is another, set "
                    f"nodata to it in [inputs.{name}] (e.g. -9999)", fatal=False)]


def precipitation_total_problems(monthly: np.ndarray, declared: str | None, *,
                                 file: str, key: str) -> list[Problem]:
    """``monthly``: (12, n) sampled precipitation [mm month-1] of one yearly file."""
    if (declared or "mm/month") != "mm/month" or monthly.shape[0] != 12:
        return []
    annual = np.nansum(monthly, axis=0)[np.isfinite(monthly).all(axis=0)]
    if annual.size == 0:
        return []
    median = float(np.median(annual))
    if median <= PRECIPITATION_ANNUAL_MEDIAN_MAX:
        return []
    return [Problem(f"median annual precipitation {median:,.0f} mm, beyond any region on "
                    f"record (> {PRECIPITATION_ANNUAL_MEDIAN_MAX:,.0f})", file, key,
                    'if the file stores tenths of a millimetre set units = "0.1 mm/month"',
                    fatal=False)]
