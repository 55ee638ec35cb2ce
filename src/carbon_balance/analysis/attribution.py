"""What drove a change between two years: the symmetric one-at-a-time decomposition.

For a model ``f`` of the inputs ``x = (x_1, ..., x_n)`` (here the CASA chain; the drivers
are NDVI, temperature, precipitation, radiation and land cover) and the inputs of two
years, ``x¹`` and ``x²``, the change ``Δf = f(x²) − f(x¹)`` is split into one contribution
per driver and a residual interaction term:

    C_i = ½ [ (f(x¹ with x_i from year 2) − f(x¹)) + (f(x²) − f(x² with x_i from year 1)) ]

    I   = Δf − Σ_i C_i

The first bracket is the effect of changing driver ``i`` alone from year 1's state, the
second the effect of changing it last, from year 2's state; their mean treats the two
years alike (swapping the years flips the sign of every ``C_i`` and of ``I``). ``I`` is
what the one-at-a-time changes miss because the drivers act on each other; it is
reported, not spread over the drivers. The decomposition needs ``2 + 2n`` evaluations of
``f`` (12 for the five drivers).

Properties (tested by hand in tests/analysis/test_attribution.py):

* ``f`` additive in the drivers (``f = Σ g_i(x_i)``): ``C_i = g_i(x²_i) − g_i(x¹_i)``
  exactly and ``I = 0``;
* a driver that does not change (``x¹_i = x²_i``) gets ``C_i = 0``;
* only one driver changes: it gets the whole change and ``I = 0``;
* two drivers change, whatever ``f``: ``I = 0`` (for two factors the symmetric
  one-at-a-time split is exact, the two-player Shapley value); e.g. ``f = x y``:
  ``C_x = ½ Δx (y¹ + y²)``, ``C_y = ½ Δy (x¹ + x²)``;
* three or more drivers change together in a non-additive ``f``: ``I`` is in general not
  0; e.g. ``f = x y z`` from (1, 1, 1) to (2, 2, 2): ``Δf = 7``, ``C = 2.5`` each,
  ``I = −0.5``.

This is the factorisation of model experiments in which one factor at a time is added to
a control and removed from the full experiment, averaged (the "linear" family of factor
separations reviewed by Chandan et al. 2021, Multi-variate factorisation of numerical
simulations, Geosci. Model Dev. 14:4307, doi:10.5194/gmd-14-4307-2021, which also shows
why no split of more than two factors is free of a shared residual). In the NPP/NEP
literature the same design is the scenario ("control variable") experiment in which the
model is re-run with one input held at its base-year state.

The functions here are pure: they take the evaluations (any array shape, any float
dtype; NaN propagates) or a function and two states; :mod:`carbon_balance.grid.attribution`
evaluates the CASA chain per pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..constants import CO2_PER_C

if TYPE_CHECKING:
    import pandas as pd

#: The drivers of a CS change, in the order of every table and figure.
DRIVERS = ("ndvi", "temperature", "precipitation", "radiation", "land_cover")


@dataclass(frozen=True)
class Decomposition:
    """A change split by driver: ``change = Σ contributions + interaction`` (exactly, up
    to rounding). Arrays of the evaluations' shape, or floats."""

    change: np.ndarray
    contributions: dict[str, np.ndarray]
    interaction: np.ndarray

    @property
    def drivers(self) -> tuple[str, ...]:
        return tuple(self.contributions)


def decompose_evaluations(f1, f2, forward: Mapping[str, object],
                          backward: Mapping[str, object]) -> Decomposition:
    """The symmetric one-at-a-time decomposition from precomputed evaluations.

    Parameters
    ----------
    f1, f2 : arrays or floats [any unit]
        ``f(x¹)`` and ``f(x²)``.
    forward : {driver: array}
        ``f(x¹ with driver from year 2)`` of each driver.
    backward : {driver: array}
        ``f(x² with driver from year 1)`` of each driver (the same drivers as ``forward``).

    Returns a :class:`Decomposition` in the unit of ``f``: ``change = f2 − f1``,
    ``C_i = ½[(forward_i − f1) + (f2 − backward_i)]``, ``interaction = change − Σ C_i``.
    """
    if set(forward) != set(backward):
        raise ValueError(f"forward and backward evaluations name different drivers: "
                         f"{sorted(forward)} vs {sorted(backward)}")
    f1, f2 = np.asarray(f1), np.asarray(f2)
    change = f2 - f1
    contributions = {d: 0.5 * ((np.asarray(forward[d]) - f1) + (f2 - np.asarray(backward[d])))
                     for d in forward}
    total = sum(contributions.values(), np.zeros_like(change))
    return Decomposition(change, contributions, change - total)


def decompose(f: Callable[[dict], object], x1: Mapping[str, object],
              x2: Mapping[str, object], drivers: Sequence[str] | None = None) -> Decomposition:
    """The symmetric one-at-a-time decomposition of ``f(x2) − f(x1)`` (2 + 2n calls of ``f``).

    ``f`` takes a dict {input name: value} (the keys of ``x1``); ``drivers``: the inputs
    taken one at a time from the other year (default: every key of ``x1``). Inputs that
    are not drivers keep their own year's value in every evaluation. ``f`` is called on
    ``x1``, then ``x2``, then with each driver from year 2, then with each from year 1.
    """
    drivers = list(x1) if drivers is None else list(drivers)
    missing = [d for d in drivers if d not in x1 or d not in x2]
    if missing or set(x1) != set(x2):
        raise ValueError(f"both states need the same inputs, with every driver "
                         f"(missing: {missing}; {sorted(x1)} vs {sorted(x2)})")
    x1, x2 = dict(x1), dict(x2)
    f1, f2 = f(x1), f(x2)
    forward = {d: f({**x1, d: x2[d]}) for d in drivers}
    backward = {d: f({**x2, d: x1[d]}) for d in drivers}
    return decompose_evaluations(f1, f2, forward, backward)


def dominant_driver(contributions: Mapping[str, object]) -> np.ndarray:
    """Name of the driver with the largest absolute contribution, element by element
    (ties: the first in ``contributions``' order); "" where every contribution is NaN."""
    names = list(contributions)
    stack = np.abs(np.stack([np.asarray(contributions[d], float) for d in names]))
    valid = np.isfinite(stack).any(axis=0)
    index = np.argmax(np.where(np.isfinite(stack), stack, -np.inf), axis=0)
    return np.where(valid, np.asarray(names, dtype=object)[index], "")


# ---------------------------------------------------------------------------- per unit

#: Columns of tables/attribution.csv (then :data:`BALANCE_COLUMNS`).
TABLE_COLUMNS = ["unit_id", "from_year", "to_year", "cs_change_t_c",
                 *(f"{d}_t_c" for d in DRIVERS), "interaction_t_c"]
#: Columns after :data:`TABLE_COLUMNS`: CS of the first year (the baseline of the
#: waterfalls) and the CB change = CE change − CS change (in the basis unit, as cb_t).
BALANCE_COLUMNS = ["cs_from_t_c", "ce_change_t_co2", "cb_change_t", "basis"]
#: Columns of tables/attribution_groups.csv.
GROUP_COLUMNS = ["level", "group", *TABLE_COLUMNS[1:], *BALANCE_COLUMNS]


def unit_table(unit_ids, year_from: int, year_to: int, sums: Mapping[str, object], *,
               ce_change_t_co2=None, basis: str = "CO2", co2_per_c: float = CO2_PER_C
               ) -> "pd.DataFrame":
    """tables/attribution.csv: one row per unit.

    ``sums``: zonal sums [t C] per unit of the grids "nep_from", "nep_change", each
    driver and "interaction" (:data:`carbon_balance.grid.attribution.LAYERS`);
    ``ce_change_t_co2``: CE(year_to) − CE(year_from) per unit [t CO2] (None: no
    emissions, the balance columns are empty); ``basis``: "CO2" (CB in t CO2, CS x
    ``co2_per_c`` [t CO2 per t C], IPCC 2006 vol. 4 eq. 2.7) or "C" (CB in t C, CE /
    ``co2_per_c``), as units.csv's ``cb_t``.

    CB change = CE change − CS change [basis unit]: CB = CE − CS each year
    (METHOD.md section 4), so the change of the difference is the difference of changes.
    """
    import pandas as pd

    ids = list(unit_ids)
    t = pd.DataFrame({"unit_id": ids, "from_year": int(year_from), "to_year": int(year_to)})
    t["cs_change_t_c"] = np.asarray(sums["nep_change"], float)
    for d in DRIVERS:
        t[f"{d}_t_c"] = np.asarray(sums[d], float)
    t["interaction_t_c"] = np.asarray(sums["interaction"], float)
    t["cs_from_t_c"] = np.asarray(sums["nep_from"], float)
    ce = (np.full(len(ids), np.nan) if ce_change_t_co2 is None
          else np.asarray(ce_change_t_co2, float))
    t["ce_change_t_co2"] = ce
    t["cb_change_t"] = cb_change(ce, t["cs_change_t_c"].to_numpy(), basis=basis,
                                 co2_per_c=co2_per_c)
    t["basis"] = basis
    return t[TABLE_COLUMNS + BALANCE_COLUMNS]


def cb_change(ce_change_t_co2, cs_change_t_c, *, basis: str = "CO2",
              co2_per_c: float = CO2_PER_C) -> np.ndarray:
    """CE change − CS change in the ``basis`` unit [t CO2 or t C]."""
    ce = np.asarray(ce_change_t_co2, float)
    cs = np.asarray(cs_change_t_c, float)
    if basis == "CO2":
        return ce - cs * co2_per_c
    if basis == "C":
        return ce / co2_per_c - cs
    raise ValueError(f"unknown basis {basis!r} (CO2 or C)")


def group_table(table: "pd.DataFrame", groups: Mapping[str, object]) -> "pd.DataFrame":
    """tables/attribution_groups.csv: the unit rows of :func:`unit_table` summed per group
    (``groups``: {unit_id: group name or None}; units without a group are in no group
    row) and over the region (``level`` "region", ``group`` empty). A sum with a NaN
    (a unit without emissions) is NaN."""
    import pandas as pd

    numeric = [c for c in TABLE_COLUMNS + BALANCE_COLUMNS
               if c not in ("unit_id", "from_year", "to_year", "basis")]
    t = table.assign(group=[groups.get(u) for u in table.unit_id])

    def total(rows, level, name):
        row = {"level": level, "group": name, "from_year": int(rows.from_year.iloc[0]),
               "to_year": int(rows.to_year.iloc[0]), "basis": rows.basis.iloc[0]}
        row.update({c: rows[c].sum(min_count=1) if rows[c].notna().all() else np.nan
                    for c in numeric})
        return row

    out = [total(rows, "group", name) for name, rows in t[t.group.notna()].groupby("group")]
    out.append(total(t, "region", None))
    return pd.DataFrame(out)[GROUP_COLUMNS]
