"""Change rates, zone area shares and transitions (METHOD.md section 6), by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbon_balance.analysis import changes as c

SINK, LOW = "carbon sink functional zone", "low-carbon economic zone"
HIGH = "high-carbon optimization zone"


def _units():
    return pd.DataFrame({
        "unit_id": ["a", "b", "c"] * 3, "name": ["A", "B", "C"] * 3,
        "year": [2005] * 3 + [2010] * 3 + [2015] * 3,
        "area_km2": [10.0, 30.0, 60.0] * 3,
        "zone": [SINK, LOW, HIGH, SINK, HIGH, HIGH, LOW, HIGH, HIGH],
        "cs_t_c": [100.0, 50, -20, 110, 40, -10, 121, 40, 20],
    })


def test_change_percent():
    assert c.change_percent(100.0, 110.0) == pytest.approx(10.0)
    assert c.change_percent(-20.0, -10.0) == pytest.approx(50.0)  # divided by |v1|
    assert np.isnan(c.change_percent(0.0, 5.0))


def test_changes_consecutive_and_first_last():
    ch = c.changes(_units(), level="unit", quantities=["cs_t_c"], id_col="unit_id", name_col="name")
    a = ch[ch.unit_id == "a"].set_index(["year_from", "year_to"]).change_percent
    assert a[(2005, 2010)] == pytest.approx(10.0)
    assert a[(2010, 2015)] == pytest.approx(10.0)
    assert a[(2005, 2015)] == pytest.approx(21.0)
    cc = ch[ch.unit_id == "c"].set_index(["year_from", "year_to"]).change_percent
    assert cc[(2005, 2015)] == pytest.approx(200.0)  # -20 -> 20: +40 / 20


def test_zone_shares():
    sh = c.zone_shares(_units()).set_index(["year", "zone"])
    assert sh.loc[(2005, SINK), "share_percent"] == pytest.approx(10.0)
    assert sh.loc[(2010, HIGH), "share_percent"] == pytest.approx(90.0)
    assert sh.loc[(2010, HIGH), "n_units"] == 2
    assert sh.loc[(2015, SINK), "n_units"] == 0


def test_zone_transitions():
    tr = c.zone_transitions(_units())
    t1 = tr[(tr.year_from == 2005) & (tr.year_to == 2010)].set_index(["zone_from", "zone_to"])
    assert t1.loc[(LOW, HIGH), "n_units"] == 1 and t1.loc[(LOW, HIGH), "area_km2"] == 30.0
    assert t1.loc[(HIGH, HIGH), "area_km2"] == 60.0
    t2 = tr[tr.year_from == 2010].set_index(["zone_from", "zone_to"])
    assert t2.loc[(SINK, LOW), "n_units"] == 1
    assert t2.loc[(HIGH, HIGH), "n_units"] == 2 and t2.loc[(HIGH, HIGH), "area_km2"] == 90.0
    assert tr.n_units.sum() == 6
