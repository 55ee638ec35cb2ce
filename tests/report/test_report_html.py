"""report.html of a fabricated output folder: sections, numbers, escaping, no network."""

import re

import pandas as pd
import pytest

from carbon_balance.errors import InputError
from carbon_balance.figures import load_results
from carbon_balance.report import build_report, render_report

SECTIONS = ["data", "nep", "budgets", "indicators", "zoning", "changes", "spatial"]


@pytest.fixture(scope="module")
def html(report_folder) -> str:
    return (report_folder / "report.html").read_text(encoding="utf-8")


def _cells(html: str) -> set[str]:
    return set(re.findall(r"<td[^>]*>([^<]*)</td>", html))


def test_every_section_is_there(html):
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html
    assert 'id="uncertainty"' not in html  # no zone_probabilities.csv in this folder


def test_nothing_is_loaded_from_elsewhere(html):
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html, flags=re.IGNORECASE)
    assert refs, "the report has images and links"
    external = [r for r in refs if not r.startswith(("#", "data:"))]
    assert external == []
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)
    assert "<script" not in html and "<link" not in html
    n_images = len(re.findall(r'<img src="data:image/png;base64,', html))
    assert n_images == 21  # every figure of the folder, inline


def test_unit_names_are_escaped(html):
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in html
    assert "<b>A&B</b>" not in html and "<b>A&amp;B</b>" not in html


def test_numbers_are_the_csv_cells(report_folder, html):
    cells = _cells(html)
    tables = report_folder / "tables"
    units = pd.read_csv(tables / "units.csv", dtype=str, keep_default_na=False)
    for col in ("cs_t_co2", "ce_t_co2", "cb_t", "cbi", "ecc", "esc", "nep_mean_g_c_m2"):
        for value in units[col]:
            assert value in cells, (col, value)
    region = pd.read_csv(tables / "region.csv", dtype=str, keep_default_na=False)
    assert set(region["cb_t"]) <= cells
    sg = pd.read_csv(tables / "spatial_global.csv", dtype=str, keep_default_na=False)
    assert set(sg["moran_i"]) <= cells and set(sg["p_sim"]) <= cells
    shares = pd.read_csv(tables / "zone_shares.csv", dtype=str, keep_default_na=False)
    assert set(shares["share_percent"]) <= cells
    bt = pd.read_csv(tables / "emissions_backtest.csv", dtype=str, keep_default_na=False)
    assert set(bt["mape_percent"]) <= cells


def test_headers_carry_units(html):
    for label in ("CE [t CO₂]", "CS [t C]", "CB = CE − CS [t CO₂]", "CBI = CE/CS [–]",
                  "Area share [%]", "Moran&#39;s I [–]", "MAPE [%]", "Change [%]",
                  "Mean NEP [g C m⁻² yr⁻¹]"):
        assert label in html, label


def test_provenance_shows_hashes_and_estimates(report_folder, html):
    manifest = load_results(report_folder).manifest
    assert manifest["inputs"][0]["sha256"] in html
    assert "Emissions 2010: 3 unit(s) estimated (arima 3)" in html
    assert "GDP estimated for 1 unit(s): Iota" in html
    assert "doi:10.3390/land13030297" in html
    assert "generated_inputs = true" in html  # the study file itself


def test_generated_inputs_are_labelled(html):
    assert 'id="generated-banner"' in html
    assert "NDVI and climate are generated (synthetic) for this test" in html
    for sid in SECTIONS[1:]:
        heading = re.search(rf'<section id="{sid}">\s*<h2>(.*?)</h2>', html, flags=re.DOTALL)
        assert "generated inputs" in heading.group(1), sid
    data = re.search(r'<section id="data">\s*<h2>(.*?)</h2>', html, flags=re.DOTALL).group(1)
    assert "generated inputs" not in data


def test_observed_study_has_no_generated_labels(tmp_path, make_output_folder):
    folder = make_output_folder(tmp_path / "obs", generated=False)
    html = render_report(load_results(folder), made=[])  # tables only: fast
    assert "generated-banner" not in html and "gen-badge" not in html.split("</style>")[1]


def test_uncertainty_section_appears_with_its_table(copy_folder):
    folder = copy_folder()
    pd.DataFrame({"unit_id": ["420000"], "name": ["Alpha"], "year": [2005],
                  "zone": ["high-carbon optimization zone"], "probability": [0.87]}).to_csv(
        folder / "tables" / "zone_probabilities.csv", index=False)
    html = render_report(load_results(folder), made=[])
    assert '<section id="uncertainty">' in html and ">0.87<" in html
    assert 'href="#uncertainty"' in html


def test_not_an_output_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build_report(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="units.csv"):
        build_report(tmp_path / "empty")


def test_cli_report_command_on_a_minimal_folder(tmp_path, capsys, make_output_folder):
    from carbon_balance.cli import main

    folder = make_output_folder(tmp_path / "min", optional=False)
    try:
        main(["report", str(folder)])
    except SystemExit as exc:  # typer may end with exit status 0
        assert not exc.code
    html = (folder / "report.html").read_text(encoding="utf-8")
    for sid in SECTIONS:  # a folder without the optional tables still has every section
        assert f'<section id="{sid}">' in html
    assert "No spatial autocorrelation tables in this folder." in html
    assert "No changes table in this folder." in html
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path / "missing")])
    assert exc.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_folder_without_manifest_says_so(copy_folder):
    folder = copy_folder()
    (folder / "manifest.json").unlink()
    html = render_report(load_results(folder), made=[])
    assert "No manifest.json in this folder" in html
    assert 'id="generated-banner"' in html  # still known from study.toml
