"""`run` attributes first -> last year: the tables agree with units.csv, the report shows
the section (generated inputs)."""

import numpy as np
import pandas as pd
import pytest

from carbon_balance.pipeline import run_study

pytestmark = pytest.mark.slow   # a whole run with its report (~90 s on the shared machine)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    from errors.studies import full_study

    tmp = tmp_path_factory.mktemp("attr")
    study = full_study(tmp / "s", years=(2004, 2005))
    return run_study(study, tmp / "out")


def test_run_attribution_agrees_with_the_units_table(run_folder):
    t = pd.read_csv(run_folder / "tables" / "attribution.csv", dtype={"unit_id": str})
    u = pd.read_csv(run_folder / "tables" / "units.csv", dtype={"unit_id": str})
    cs = u.pivot(index="unit_id", columns="year", values="cs_t_c").loc[t.unit_id]
    cb = u.pivot(index="unit_id", columns="year", values="cb_t").loc[t.unit_id]
    assert (t.from_year == 2004).all() and (t.to_year == 2005).all()
    # the run's grids and the attribution's evaluations share the pooled bounds
    np.testing.assert_allclose(t.cs_change_t_c, (cs[2005] - cs[2004]).to_numpy(), rtol=1e-5,
                               atol=1e-3)
    np.testing.assert_allclose(t.cs_from_t_c, cs[2004].to_numpy(), rtol=1e-5, atol=1e-3)
    # CB change = CE change - CS change = the change of units.csv's cb_t
    np.testing.assert_allclose(t.cb_change_t, (cb[2005] - cb[2004]).to_numpy(), rtol=1e-5,
                               atol=1e-2)
    g = pd.read_csv(run_folder / "tables" / "attribution_groups.csv")
    region = g[g.level == "region"].iloc[0]
    assert region.cs_change_t_c == pytest.approx(t.cs_change_t_c.sum())


def test_report_shows_what_drove_the_change(run_folder):
    html = (run_folder / "report.html").read_text(encoding="utf-8")
    assert '<section id="attribution">' in html
    assert "What drove the change" in html and 'href="#attribution"' in html
    assert "CS change [t C]" in html and "Land cover [t C]" in html
    section = html.split('<section id="attribution">')[1].split("</section>")[0]
    assert "Generated" in section or "generated" in section
    for stem in ("attribution_waterfall", "attribution_dominant_driver"):
        assert (run_folder / "figures" / f"{stem}.png").exists()
        assert stem in section
