"""The trend outputs of ``run`` (issue 16 part C) on a small generated study of 8 years:
grids/trends/*.tif against pymannkendall on sampled pixels, tables/trends.csv against a
hand-derivable emission series, chunking, the report section; and no trends below 8
years. All inputs are generated (tests/errors/studies.py)."""

from __future__ import annotations

import itertools
import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pymannkendall as mk
import pytest
import rasterio

from carbon_balance import progress
from carbon_balance.analysis.trend_outputs import (TREND_COLUMNS, write_trend_grids,
                                                   write_trends)
from carbon_balance.analysis.trends import MIN_YEARS
from carbon_balance.pipeline import run_study
from tests.errors.studies import TABLE_YEARS, full_study

YEARS = tuple(TABLE_YEARS)          # 1998-2005: eight years, inventories complete
assert len(YEARS) == MIN_YEARS


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")
    root = tmp_path_factory.mktemp("trends")
    study = full_study(root / "study", years=YEARS)
    # no report here (its 20-odd figures cost more than the rest): the trend figure and
    # section are drawn alone in test_report_shows_the_trends_section
    folder = run_study(study, root / "out", report=False)
    yield folder
    mp.undo()


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1, masked=True).filled(np.nan).astype(float), src.tags(), src.profile


def test_trend_grids_are_tagged_float32_cogs(out):
    for q in ("npp", "nep"):
        for kind, units in (("slope", "g C m-2 yr-2"), ("p", "1")):
            path = out / "grids" / "trends" / f"{q}_{kind}.tif"
            with rasterio.open(path) as src:
                assert src.dtypes[0] == "float32" and src.nodata == -9999
                assert src.tags()["units"] == units
                assert "Sen 1968" in src.tags()["method"]
                assert src.tags()["generated_inputs"].startswith("true")
                assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"grids/trends/nep_slope.tif", "grids/trends/npp_p.tif",
            "tables/trends.csv"} <= set(manifest["outputs"])


def test_sampled_pixels_agree_with_pymannkendall(out):
    for q in ("npp", "nep"):
        series = np.stack([_read(out / "grids" / str(y) / f"{q}.tif")[0] for y in YEARS])
        slope = _read(out / "grids" / "trends" / f"{q}_slope.tif")[0]
        p = _read(out / "grids" / "trends" / f"{q}_p.tif")[0]
        rng = np.random.default_rng(5)
        rows, cols = np.nonzero(np.isfinite(series).all(axis=0))
        pick = rng.choice(rows.size, 60, replace=False)
        for r, c in zip(rows[pick], cols[pick]):
            ref = mk.original_test(series[:, r, c])
            assert slope[r, c] == pytest.approx(ref.slope, rel=1e-6, abs=1e-5)
            assert p[r, c] == pytest.approx(ref.p, rel=1e-6, abs=1e-7)
        # cells without a value in every year (outside the land) stay nodata
        missing = ~np.isfinite(series).any(axis=0)
        assert np.isnan(slope[missing]).all()


def test_unit_trends_of_a_growing_emission_by_hand(out):
    df = pd.read_csv(out / "tables" / "trends.csv", dtype={"unit_id": str})
    assert list(df.columns) == TREND_COLUMNS
    assert set(df.level) == {"unit", "region"}      # the study has no groups
    assert set(df[df.level == "unit"].quantity) == {"ce_t_co2", "cs_t_co2", "cb_t", "cbi",
                                                     "ecc", "esc"}
    # unit A1 emits 2 Mt CO2 x 1.05^(year - 1998) (tests/errors/studies.py): every year
    # higher than the one before, so S = 8*7/2 = 28, tau = 1, Var S = 8*7*21/18 and
    # Z = 27 / sqrt(Var S); the slope is the median of the 28 pairwise slopes
    row = df[(df.unit_id == "A1") & (df.quantity == "ce_t_co2")].iloc[0]
    ce = [2e6 * 1.05 ** (y - 1998) for y in YEARS]
    pairs = sorted((ce[j] - ce[i]) / (j - i) for i, j in itertools.combinations(range(8), 2))
    assert row.slope_per_yr == pytest.approx((pairs[13] + pairs[14]) / 2, rel=1e-6)
    assert (row.mk_s, row.tau, row.n_years) == (28, 1, 8)
    assert row.p_value == pytest.approx(math.erfc(27 / math.sqrt(8 * 7 * 21 / 18) /
                                                  math.sqrt(2)), rel=1e-9)
    assert row.significant and row.direction == "increasing" and row.units == "t CO2 yr-1"
    assert df[df.quantity == "cbi"].units.eq("yr-1").all()


def test_trend_grids_do_not_depend_on_the_chunks(out, tmp_path):
    grids = {y: {q: out / "grids" / str(y) / f"{q}.tif" for q in ("npp", "nep")}
             for y in YEARS}
    written = write_trend_grids(tmp_path, grids, chunks=(7, 11), study_name="chunks")
    for name, path in written.items():   # 7 x 11 windows: ragged at both edges
        np.testing.assert_array_equal(_read(path)[0],
                                      _read(out / "grids" / "trends" / f"{name}.tif")[0])


def test_report_shows_the_trends_section(out, tmp_path):
    from carbon_balance.figures import MadeFigure, figure_specs, load_results
    from carbon_balance.report import render_report

    res = load_results(out)
    (spec,) = [s for s in figure_specs(res) if s.section == "trends"]
    png = tmp_path / "trend_maps.png"
    spec.draw().savefig(png)
    html = render_report(res, [MadeFigure(spec, png, None)])
    assert '<section id="trends">' in html and 'href="#trends"' in html
    assert "Trends by unit" in html and "Trends of the region and groups" in html
    assert "Theil–Sen slope of annual NPP and NEP per grid cell" in html
    assert html.count("data:image/png;base64,") == 1
    section = html[html.index('<section id="trends">'):]
    section = section[:section.index("</section>")]
    # A1's CE row: 8 years as a count, tau 1 as a ratio, the slope to 4 significant figures
    assert '">8</td>' in section and '>1.000</td>' in section
    assert "8.000" not in section


def test_fewer_than_eight_years_write_no_trends(tmp_path, caplog):
    study = SimpleNamespace(study=SimpleNamespace(years=list(range(2001, 2008)), name="s",
                                                  generated_inputs=False, generated_note=""))
    with caplog.at_level(logging.INFO, logger="carbon_balance"):
        assert write_trends(study, tmp_path, {}) == {}
    lines = [r for r in caplog.records if "trends: not computed" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert "7 year(s)" in lines[0].getMessage() and "8" in lines[0].getMessage()
    assert not any(tmp_path.iterdir())
    assert "trends" not in progress.run_stages(report=True, uncertainty=False, netcdf=False)
    assert "trends" in progress.run_stages(report=True, uncertainty=False, netcdf=False,
                                           trends=True)


def test_no_trends_section_without_trend_outputs(out, tmp_path):
    import shutil

    from carbon_balance.figures import figure_specs, load_results
    from carbon_balance.report import render_report

    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "grids" / "trends")
    (copy / "tables" / "trends.csv").unlink()
    res = load_results(copy)
    assert not [s for s in figure_specs(res) if s.section == "trends"]
    html = render_report(res, [])
    assert 'id="trends"' not in html and 'href="#trends"' not in html
