"""Every chart stays legible with 20 study years and 229 units (a GENERATED folder).

The folder (tests/figures/large_folder.py) is generated: Voronoi "counties", random but
consistent NEP, emissions and GDP. Legibility is checked the way a reader would notice
its loss: tick labels that touch, a figure taller than a page, one row per unit.
"""

import importlib.util
from pathlib import Path

import pytest

from carbon_balance.figures import budgets, changes, indicators, load_results, zoning

_spec = importlib.util.spec_from_file_location("cb_test_large_folder",
                                               Path(__file__).with_name("large_folder.py"))
large = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(large)

#: A page (A4 at 150 dpi, minus margins) is about 1575 x 2300 px.
MAX_WIDTH, MAX_HEIGHT = 1600, 2300


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return load_results(large.write_large_folder(tmp_path_factory.mktemp("big") / "results",
                                                 permutations=19))


def _size(fig):
    w, h = fig.get_size_inches() * fig.dpi
    return round(w), round(h)


def _labels_apart(fig, ax, axis="x"):
    """True when no two tick labels of ``ax`` overlap once the figure is drawn."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    boxes = [t.get_window_extent(renderer) for t in labels if t.get_text() and t.get_visible()]
    return all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def _canvas(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    return fig


def test_folder_has_the_scale_it_claims(big):
    units = big.table("units")
    assert units["unit_id"].nunique() == 229 and units["year"].nunique() == 20


def test_budget_chart_years_do_not_run_together(big):
    fig = _canvas(budgets.budget_totals(big.table("region"), big.table("groups"),
                                        estimated=budgets.estimated_years(big.table("units"))))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 4  # region + 3 groups
    for ax in panels:
        assert _labels_apart(fig, ax)
        assert 3 <= len([t for t in ax.get_xticklabels() if t.get_text()]) <= 8
    w, h = _size(fig)
    assert w <= MAX_WIDTH and h <= MAX_HEIGHT
    hatched = [p for ax in panels for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 4 * 3  # the CB bars of the three estimated years, every panel


def test_indicator_chart_shows_distributions_not_229_rows(big):
    fig = _canvas(indicators.indicator_chart(big.table("units"), "cbi"))
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 20  # one row per year
    assert _labels_apart(fig, ax, "y")
    assert _size(fig)[1] <= MAX_HEIGHT


def test_change_chart_keeps_the_largest_changes(big):
    fig = _canvas(changes.change_chart(big.table("changes"), "cb_t"))
    ax = fig.axes[0]
    assert len(ax.patches) == 30 and _labels_apart(fig, ax, "y")
    assert "of 229 units" in ax.get_xlabel()
    assert _size(fig)[1] <= MAX_HEIGHT


def test_transitions_are_one_compact_figure(big):
    fig = _canvas(zoning.zone_transition_chart(big.table("zone_transitions")))
    assert len(fig.axes) == 1
    w, h = _size(fig)
    assert w <= MAX_WIDTH and h <= 1000
    assert _labels_apart(fig, fig.axes[0])


def test_zone_maps_of_20_years_fit_a_page(big):
    fig = _canvas(zoning.zone_maps(big.units_geo))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 20
    w, h = _size(fig)
    assert w <= MAX_WIDTH and h <= MAX_HEIGHT
    for ax in panels[-5:]:  # the bottom row carries the longitude labels
        assert [t.get_text() for t in ax.get_xticklabels()]
        assert _labels_apart(fig, ax)
    assert not any(t.get_text() for t in panels[1].get_yticklabels())  # inner panel: none


def test_report_of_the_large_folder_renders(big):
    from carbon_balance.report import render_report

    html = render_report(big, made=[])
    summary = html[html.index('<section id="summary">'):html.index('<section id="nep">')]
    assert "Carbon budgets, 2001 and 2020" in summary
    assert "units changed zone" in summary
    assert "Only" not in summary  # 229 units: no small-sample warning
    # 19 permutations over 229 units: the smallest adjusted p is 229 / 20, say so
    assert "at least 4,580 permutations are needed for a single one" in html
