"""report.html of a fabricated output folder: sections, numbers, escaping, no network."""

import re

import pandas as pd
import pytest

from carbon_balance.errors import InputError
from carbon_balance.figures import load_results
from carbon_balance.report import build_report, render_report

SECTIONS = ["summary", "nep", "budgets", "indicators", "zoning", "changes", "spatial", "data"]


@pytest.fixture(scope="module")
def html(report_folder) -> str:
    return (report_folder / "report.html").read_text(encoding="utf-8")


def _cells(html: str) -> set[str]:
    """Cell texts (the estimate mark left out)."""
    return set(re.findall(r"<td[^>]*>([^<]*)(?:<sup[^>]*>e</sup>)?</td>", html))


def _titles(html: str) -> set[str]:
    """The exact CSV text each formatted number carries in its title."""
    return set(re.findall(r'<td[^>]*title="([^"]*)"', html))


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


def test_numbers_are_formatted_and_keep_the_csv_text(report_folder, html):
    cells, titles = _cells(html), _titles(html)
    tables = report_folder / "tables"
    units = pd.read_csv(tables / "units.csv", dtype=str, keep_default_na=False)
    # the exact CSV text of every number stays in the cell's title (when it differs)
    for col in ("cs_t_co2", "ce_t_co2", "cb_t", "cbi", "ecc", "esc", "nep_mean_g_c_m2"):
        for value in units[col]:
            assert value in titles or value in cells, (col, value)
    # by hand: CE of Alpha 2005 in the fixture is (5e6 + 8e6 + 6e6) t = 19.00 Mt CO2
    assert units.loc[(units.name == "Alpha") & (units.year == "2005"), "ce_t_co2"].item() \
        == "19000000.0"
    assert "19.00" in cells
    assert "CE [Mt CO₂]" in html
    # no raw float of the CSV is shown as a cell's text
    raw = [c for c in cells if re.fullmatch(r"-?\d+\.\d{5,}", c)]
    assert raw == []
    bt = pd.read_csv(tables / "emissions_backtest.csv", dtype=str, keep_default_na=False)
    assert {"13.1", "6.2"} <= cells  # MAPE [%] with one decimal


def test_estimates_are_marked(html):
    # fixture: units 420000-420200 have estimated CE in 2010 (3 units x CE, CB, CBI, ECC...)
    assert html.count('<sup class="est-mark" title="estimated">e</sup>') >= 3 * 4
    assert "estimated: the" in html


def test_summary_leads(html):
    summary = html[html.index('<section id="summary">'):html.index('<section id="nep">')]
    assert "Carbon budgets, 2005 and 2010" in summary
    assert "In 2010 the region emitted" in summary
    assert "units changed zone" in summary or "No unit changed zone" in summary
    # backtest: the fixture's estimates use arima (13.1 %: good), naive did best (6.2 %)
    assert "arima" in summary and "13.1 %" in summary and "<strong>good</strong>" in summary
    assert "naive (6.2 %)" in summary
    # 9 units: the spatial tests warn
    assert "Only 8 units entered the spatial tests" in summary
    assert html.index('id="summary"') < html.index('id="nep"') < html.index('id="data"')


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
    for sid in SECTIONS[1:-1]:
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
    assert '<section id="uncertainty">' in html and ">0.870<" in html
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
