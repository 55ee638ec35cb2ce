"""Indicators and zoning (METHOD.md sections 4-5), with numbers derived by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbon_balance import balance as b
from carbon_balance.errors import InputError


def test_ecc_esc_small_table():
    # CE = 10, 30, 60 (sum 100); CS = 20, 20, 10 (sum 50); G = 50, 30, 20 (sum 100)
    ce, cs, g = np.array([10., 30, 60]), np.array([20., 20, 10]), np.array([50., 30, 20])
    # ECC = (G/100)/(CE/100): 0.5/0.1 = 5, 0.3/0.3 = 1, 0.2/0.6 = 1/3
    assert b.economic_contribution(g, ce) == pytest.approx([5.0, 1.0, 1 / 3])
    # ESC = (CS/50)/(CE/100): 0.4/0.1 = 4, 0.4/0.3 = 4/3, 0.2/0.6 = 1/3
    assert b.ecological_support(cs, ce) == pytest.approx([4.0, 4 / 3, 1 / 3])
    assert b.carbon_budget(ce, cs) == pytest.approx([-10, 10, 50])
    assert b.carbon_balance_index(ce, cs) == pytest.approx([0.5, 1.5, 6.0])
    assert list(b.budget_state([-10, 10, 0])) == ["surplus", "deficit", "balance"]


@pytest.mark.parametrize("ce,cs,ecc,esc,zone", [
    (1.0, 2.0, 0.5, 1.5, b.SINK),                      # CS > CE, ESC > 1
    (2.0, 1.0, 1.5, 1.5, b.LOW_CARBON_ECONOMIC),       # CS <= CE, ESC > 1, ECC > 1
    (2.0, 1.0, 0.5, 1.5, b.LOW_CARBON_OPTIMIZATION),   # CS <= CE, ESC > 1, ECC <= 1
    (2.0, 1.0, 1.5, 0.5, b.INTENSITY_CONTROL),         # CS <= CE, ESC <= 1, ECC > 1
    (2.0, 1.0, 0.5, 0.5, b.HIGH_CARBON_OPTIMIZATION),  # CS <= CE, ESC <= 1, ECC <= 1
    (2.0, 2.0, 1.5, 1.5, b.LOW_CARBON_ECONOMIC),       # CS = CE counts as CS <= CE
    (2.0, 1.0, 1.0, 1.0, b.HIGH_CARBON_OPTIMIZATION),  # ties at the threshold are not high
    (2.0, 1.0, 1.0, 1.0 + 1e-12, b.LOW_CARBON_OPTIMIZATION),
    (1.0, 2.0, 1.0, 1.0, b.UNCLASSIFIED),              # CS > CE but ESC <= 1
])
def test_zone_rules(ce, cs, ecc, esc, zone):
    z, reason = b.zone([ce], [cs], [ecc], [esc])
    assert z[0] == zone
    if zone == b.UNCLASSIFIED:
        assert "ESC" in reason[0]


def test_thresholds_are_parameters():
    z, _ = b.zone([2.0], [1.0], [1.5], [1.5], ecc_threshold=2.0, esc_threshold=2.0)
    assert z[0] == b.HIGH_CARBON_OPTIMIZATION


def test_ce_zero_is_sink():
    t = pd.DataFrame({"unit_id": ["a", "b"], "year": 2020, "ce": [0.0, 10.0], "cs": [5.0, 5.0],
                      "gdp": [1.0, 1.0]})
    out = b.zone_table(t)
    assert np.isinf(out.esc.iloc[0]) and out.zone.iloc[0] == b.SINK
    # b: ESC = (5/10)/(10/10) = 0.5, ECC = (1/2)/(1) = 0.5, CS < CE
    assert out.zone.iloc[1] == b.HIGH_CARBON_OPTIMIZATION


def test_cs_nonpositive_cbi_nan_flagged():
    t = pd.DataFrame({"unit_id": ["a", "b"], "year": 2020, "ce": [10.0, 10.0],
                      "cs": [-2.0, 6.0], "gdp": [1.0, 3.0]})
    out = b.zone_table(t)
    assert np.isnan(out.cbi.iloc[0]) and "CBI undefined" in out.zone_reason.iloc[0]
    # sum CS = 4 > 0, so units are zoned: a: ESC = (-2/4)/(1/2) = -1, ECC = (1/4)/(1/2) = 0.5
    assert out.esc.iloc[0] == pytest.approx(-1.0) and out.zone.iloc[0] == b.HIGH_CARBON_OPTIMIZATION
    # b: ESC = (6/4)/(1/2) = 3, ECC = (3/4)/(1/2) = 1.5, CS < CE
    assert out.zone.iloc[1] == b.LOW_CARBON_ECONOMIC


def test_region_cs_nonpositive_not_zoned_on_esc():
    t = pd.DataFrame({"unit_id": ["a", "b"], "year": 2020, "ce": [10.0, 10.0],
                      "cs": [-6.0, 2.0], "gdp": [1.0, 3.0]})
    out = b.zone_table(t)
    assert out.esc.isna().all()
    assert (out.zone == b.UNCLASSIFIED).all()
    assert out.zone_reason.str.contains("region sum CS <= 0").all()


def test_region_cbi_from_sums_reproduces_study_change():
    """Fan et al. 2024: CE +113.08 %, CS +10.16 % -> CBI +93.42 % (sums, not means)."""
    ce = np.array([1.0, 2.1308])
    cs = np.array([1.0, 1.1016])
    cbi = ce / cs
    assert (cbi[1] / cbi[0] - 1) * 100 == pytest.approx(93.42, abs=0.01)
    frame = pd.DataFrame({"year": [1, 2], "ce": ce, "cs": cs, "gdp": [1.0, 1.0]})
    agg = b.aggregate(frame, ["year"], ce="ce", cs="cs", gdp="gdp")
    assert agg.cbi.to_numpy() == pytest.approx(cbi)


def test_zone_table_missing_column():
    with pytest.raises(InputError, match="gdp"):
        b.zone_table(pd.DataFrame({"unit_id": ["a"], "year": [1], "ce": [1], "cs": [1]}))


def test_zoning_cli_on_csv(tmp_path):
    from carbon_balance.cli import main

    t = pd.DataFrame({"unit_id": ["a", "b", "c"], "year": 2020, "ce": [10.0, 30, 60],
                      "cs": [20.0, 20, 10], "gdp": [50.0, 30, 20], "area_km2": [1.0, 2, 3]})
    t.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(SystemExit) as ex:
        main(["zoning", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv")])
    assert ex.value.code in (0, None)
    out = pd.read_csv(tmp_path / "out.csv")
    assert {"cb", "cbi", "ecc", "esc", "budget_state", "zone", "area_km2"} <= set(out.columns)
    # by hand (see test_ecc_esc_small_table): a sink (20 > 10, ESC 4); b: CS < CE, ESC 4/3,
    # ECC 1 (tie, not high) -> optimization; c: ESC 1/3, ECC 1/3 -> high-carbon
    assert out.zone.tolist() == [b.SINK, b.LOW_CARBON_OPTIMIZATION, b.HIGH_CARBON_OPTIMIZATION]
