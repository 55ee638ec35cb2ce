"""``carbon-balance emissions backtest`` prints and writes per-method MAPE."""

from __future__ import annotations

import pandas as pd
import pytest

from carbon_balance.cli import main


def test_backtest_cli(tmp_path, capsys):
    years = list(range(2000, 2009))
    # unit a grows by 1 a year; the last three years (2006-2008) are held out
    rows = {"id": ["a", "b"]}
    for i, y in enumerate(years):
        rows[str(y)] = [10.0 + i, 20.0]
    pd.DataFrame(rows).to_csv(tmp_path / "ce.csv", index=False)
    (tmp_path / "s.toml").write_text('[study]\nname="t"\nyears=[2005]\n'
                                     '[emissions]\npath="ce.csv"\nid="id"\nunits="t CO2"\n')
    with pytest.raises(SystemExit) as ex:
        main(["emissions", "backtest", str(tmp_path / "s.toml"), "--holdout", "3",
              "--out", str(tmp_path / "bt.csv")])
    assert ex.value.code in (0, None)
    printed = capsys.readouterr().out
    t = pd.read_csv(tmp_path / "bt.csv").set_index("method")
    assert list(t.columns[:1]) == ["mape_percent"] and "naive" in printed
    # naive from 15 (2005) against 16, 17, 18 for a, exact for b:
    # a: (1/16 + 2/17 + 3/18) / 3 = 11.544 %; mean over the two units: 5.772 %
    assert t.at["naive", "mape_percent"] == pytest.approx((1/16 + 2/17 + 3/18) / 3 * 50, abs=1e-3)
    # six training values < 8: arima is the linear trend, exact on a line
    assert t.at["arima", "mape_percent"] == pytest.approx(0.0, abs=1e-6)
    assert t.at["drift", "mape_percent"] == pytest.approx(0.0, abs=1e-6)
    assert set(t.index) == {"arima", "naive", "drift", "ets", "best"}
