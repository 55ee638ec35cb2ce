"""The demo study end to end (coarse grid): every table, figure and report section, and
the same checks as any run. The full-resolution demo is `carbon-balance demo`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from carbon_balance.balance import ZONES
from carbon_balance.demo.generate import make_demo_inputs
from carbon_balance.pipeline import run_study
from units_table_checks import assert_units_table_recomputable

SECTIONS = ("data", "nep", "budgets", "indicators", "zoning", "changes", "spatial",
            "attribution", "uncertainty")


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp / "cache"))  # hermetic: every ARIMA fit is made
    study = make_demo_inputs(tmp / "inputs", resolution=0.05)
    out = run_study(study, tmp / "results", report=True, uncertainty_draws=200)
    mp.undo()
    return out


def test_units_table_has_31_cities_4_years_and_recomputes(demo_out):
    u = pd.read_csv(demo_out / "tables" / "units.csv", dtype={"unit_id": str})
    assert len(u) == 31 * 4 and sorted(u.year.unique()) == [2005, 2010, 2015, 2020]
    assert_units_table_recomputable(u)
    # CEADs ends in 2017: 2020 is estimated by ARIMA (as the study did) and flagged
    assert u[u.year == 2020].ce_estimated.all() and not u[u.year < 2020].ce_estimated.any()
    assert u[u.year == 2020].ce_method.str.startswith(("arima", "linear")).all()
    # MRYRUA emissions (shared/data/README.md): 371.7 Mt CO2 in 2005, 635.6 in 2015
    total = u.groupby("year").ce_t_co2.sum() / 1e6
    assert total[2005] == pytest.approx(371.7, abs=0.1)
    assert total[2015] == pytest.approx(635.6, abs=0.1)
    # the three county-level cities have estimated GDP, flagged
    assert set(u[u.gdp_estimated.astype(bool)].name) == {"Xiantao", "Qianjiang", "Tianmen"}


def test_zone_probabilities_cover_every_unit_year_and_sum_to_one(demo_out):
    p = pd.read_csv(demo_out / "tables" / "zone_probabilities.csv", dtype={"unit_id": str})
    assert len(p) == 31 * 4
    np.testing.assert_allclose(p[list(ZONES)].sum(axis=1), 1.0)
    u = pd.read_csv(demo_out / "tables" / "units.csv", dtype={"unit_id": str})
    m = p.merge(u, on=["unit_id", "year"])
    assert (m.plain_zone == m.zone).all()  # the draw-free evaluation is the run itself


def test_report_is_self_contained_with_every_section_and_labelled(demo_out):
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert 'id="generated-banner"' in html
    assert "src=\"http" not in html and "href=\"http" not in html.replace(
        'href="https://doi.org', "")
    assert html.count("data:image/png;base64,") >= 20
    manifest = json.loads((demo_out / "manifest.json").read_text())
    assert manifest["version"] and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert "report.html" in manifest["outputs"]


def test_zero_width_ranges_make_every_draw_the_plain_run(demo_out, tmp_path):
    from carbon_balance.analysis.uncertainty import write_uncertainty
    from carbon_balance.study import parse_study

    study_dir = demo_out.parent / "inputs"
    text = (study_dir / "study.toml").read_text(encoding="utf-8")
    text += ("\n[uncertainty]\neps_max_relative = 0.0\nrh_scale_relative = 0.0\n"
             "rn_coefficient = [0.598, 0.598]\n"
             "rh_coefficient = [0.0913, 0.0913]\nndvi_bounds = [\"percentile\"]\n"
             "emissions_interval = false\n")
    study = parse_study(text, root=study_dir)
    u = pd.read_csv(demo_out / "tables" / "units.csv", dtype={"unit_id": str})
    em = pd.read_csv(demo_out / "tables" / "emissions.csv", dtype={"unit_id": str})
    res = write_uncertainty(study, tmp_path, emissions=em,
                            gdp=u[["unit_id", "year", "gdp_yuan"]], draws=50)
    iv = res.intervals.merge(u, on=["unit_id", "year"])
    for q, col in (("cs_t_c", "cs_t_c"), ("cb_t", "cb_t"), ("esc", "esc"), ("ecc", "ecc")):
        part = iv[iv.quantity == q]
        # The run's NEP comes from the kernel in float32 (NPP - Rh per pixel), the draws
        # from NPP per unit eps_max scaled here: both carry float32 rounding of the gross
        # fluxes (~1e-7 of them), which a city whose NEP nearly cancels shows as a larger
        # relative difference of its sum. So: 1e-6 relative, or 1e-7 of the largest city.
        tol = 1e-7 * part[col].abs().max()
        np.testing.assert_allclose(part.p05, part[col], rtol=1e-6, atol=tol)
        np.testing.assert_allclose(part.p95, part[col], rtol=1e-6, atol=tol)
    p = res.zone_probabilities.merge(u, on=["unit_id", "year"])
    assert (p.most_likely_probability == 1.0).all() and (p.most_likely_zone == p.zone).all()


def test_no_second_kernel_compile_after_the_run_with_uncertainty(demo_out):
    """The run (nep, accounting and uncertainty) compiled the CASA kernel once per input
    dtype, for writable arrays only (read-only arrays from pandas 3 once made numba
    compile a second signature in ``uncertainty``)."""
    from numba import types

    from carbon_balance.casa.kernel import casa_kernel

    signatures = casa_kernel.signatures
    dtypes = [s[0].dtype for s in signatures]
    assert signatures and len(dtypes) == len(set(dtypes))
    assert all(a.mutable for s in signatures for a in s if isinstance(a, types.Array))


def test_outputs_open_ready_in_qgis(demo_out):
    import pyogrio
    import rasterio

    for year in (2005, 2010, 2015, 2020):
        assert (demo_out / "grids" / str(year) / "nep.qml").exists()
        with rasterio.open(demo_out / "grids" / str(year) / "nep.tif") as ds:
            assert ds.units == ("g C m-2 yr-1",)
    styles = pyogrio.read_dataframe(demo_out / "units.gpkg", layer="layer_styles")
    assert "units" in set(styles["f_table_name"])
    units = pyogrio.read_dataframe(demo_out / "units.gpkg", layer="units")
    assert len(units) == 31 * 4 and sorted(units["year"].unique()) == [2005, 2010, 2015, 2020]


def test_run_attribution_agrees_with_the_units_table(demo_out):
    """`run` attributes first -> last year (2005 -> 2020) with the run's pooled bounds, so
    the CS change is the difference of units.csv's CS, and CB change = CE change - CS
    change that of its cb_t."""
    t = pd.read_csv(demo_out / "tables" / "attribution.csv", dtype={"unit_id": str})
    u = pd.read_csv(demo_out / "tables" / "units.csv", dtype={"unit_id": str})
    cs = u.pivot(index="unit_id", columns="year", values="cs_t_c").loc[t.unit_id]
    cb = u.pivot(index="unit_id", columns="year", values="cb_t").loc[t.unit_id]
    assert len(t) == 31 and (t.from_year == 2005).all() and (t.to_year == 2020).all()
    np.testing.assert_allclose(t.cs_change_t_c, (cs[2020] - cs[2005]).to_numpy(), rtol=1e-5,
                               atol=1e-3)
    np.testing.assert_allclose(t.cs_from_t_c, cs[2005].to_numpy(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(t.cb_change_t, (cb[2020] - cb[2005]).to_numpy(), rtol=1e-5,
                               atol=1e-2)
    # the parts add up to the change
    parts = t[["ndvi_t_c", "temperature_t_c", "precipitation_t_c", "radiation_t_c",
               "land_cover_t_c", "interaction_t_c"]].sum(axis=1)
    np.testing.assert_allclose(parts, t.cs_change_t_c, rtol=1e-6, atol=1e-3)
    g = pd.read_csv(demo_out / "tables" / "attribution_groups.csv")
    region = g[g.level == "region"].iloc[0]
    assert region.cs_change_t_c == pytest.approx(t.cs_change_t_c.sum())


def test_report_shows_what_drove_the_change(demo_out):
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    assert "What drove the change" in html and 'href="#attribution"' in html
    # labels carry the unit the table is shown in (t C, or Mt C for the demo's sizes)
    assert "CS change [" in html and "Land cover [" in html
    section = html.split('<section id="attribution">')[1].split("</section>")[0]
    assert "enerated" in section
    for stem in ("attribution_waterfall", "attribution_dominant_driver"):
        assert (demo_out / "figures" / f"{stem}.png").exists()
        assert stem in section
