"""Figure functions on small hand-made tables: breaks, colours, legends, labels."""

import geopandas as gpd
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from shapely.geometry import box

from carbon_balance.figures import (
    budgets,
    changes,
    indicators,
    maps,
    nep,
    spatial,
    zoning,
)
from carbon_balance.figures._style import (
    CLUSTER_COLOURS,
    GENERATED_LABEL,
    ZONE_COLOURS,
    display_scale,
)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for lg in fig.legends for t in lg.get_texts()]


def _four_squares(values_by_year: dict[int, list]) -> gpd.GeoDataFrame:
    rows = []
    for year, values in values_by_year.items():
        for i, v in enumerate(values):
            rows.append({"unit_id": f"u{i}", "name": f"Unit {i}", "year": year, "value": v,
                         "geometry": box(i, 0, i + 1, 1)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:3857")


def test_class_breaks_by_hand():
    # two obvious clusters: Fisher-Jenks puts the break between 3 and 10
    assert maps.class_breaks([1, 2, 3, 10, 11, 12], k=2).tolist() == [3, 12]
    # fewer distinct values than classes: each value is a class; the pivot is added
    assert maps.class_breaks([-3, -1, 2, 4, 4], k=5, pivot=0.0).tolist() == [-3, -1, 0, 2, 4]
    # a pivot outside the data range is not a break (no empty class)
    assert maps.class_breaks([2, 3, 4], k=5, pivot=0.0).tolist() == [2, 3, 4]
    assert maps.class_breaks([np.nan, np.nan]).size == 0


def test_diverging_colours_split_at_the_pivot():
    qs = maps.QUANTITY_STYLES["cb_t"]  # greens for surplus (<= 0), reds for deficit
    colours = maps.class_colours(np.array([-3.0, -1.0, 0.0, 2.0, 4.0]), qs)
    rgb = np.array([mcolors.to_rgb(c) for c in colours])
    assert (rgb[:3, 1] > rgb[:3, 0]).all()  # green channel dominates
    assert (rgb[3:, 0] > rgb[3:, 1]).all()  # red channel dominates


def test_choropleth_breaks_are_shared_across_years():
    gdf = _four_squares({2005: [1.0, 2.0, 3.0, 40.0], 2010: [40.0, 3.0, 2.0, np.nan]})
    fig = maps.choropleth_maps(gdf, "value", qstyle=maps.QuantityStyle("Value", "t CO2"), k=4)
    ax05, ax10 = fig.axes[:2]
    c05 = ax05.collections[0].get_facecolors()
    c10 = ax10.collections[0].get_facecolors()
    # the value 40 is unit 3 in 2005 and unit 0 in 2010: one class, one colour
    np.testing.assert_allclose(c05[3], c10[0])
    np.testing.assert_allclose(c05[2], c10[1])  # value 3 in both years
    labels = _legend_labels(fig)
    assert "no value" in labels  # the NaN of 2010 is drawn and explained
    assert len(labels) == 5  # four classes + no value
    assert not any(GENERATED_LABEL in t for t in _texts(fig))


def test_generated_label_is_visible_only_when_asked():
    gdf = _four_squares({2005: [1.0, 2.0, 3.0, 4.0]})
    fig = maps.choropleth_maps(gdf, "value", generated=True)
    assert GENERATED_LABEL in _texts(fig)
    fig = maps.choropleth_maps(gdf, "value", generated="Generated NDVI - demo")
    assert "Generated NDVI - demo" in _texts(fig)


def test_zone_legend_is_fixed_whatever_zones_occur():
    gdf = _four_squares({2005: [0, 0, 0, 0]})
    gdf["zone"] = ["carbon sink functional zone", "high-carbon optimization zone",
                   "carbon sink functional zone", "something else"]
    fig = zoning.zone_maps(gdf)
    labels = _legend_labels(fig)
    assert labels[:6] == list(ZONE_COLOURS)  # all six, in the fixed order
    assert labels[6:] == ["no value"]
    face = fig.axes[0].collections[0].get_facecolors()  # the known zones, in row order
    np.testing.assert_allclose(face[0], mcolors.to_rgba(ZONE_COLOURS["carbon sink functional zone"]))
    np.testing.assert_allclose(face[1], mcolors.to_rgba(ZONE_COLOURS["high-carbon optimization zone"]))
    np.testing.assert_allclose(face[2], face[0])


def test_lisa_maps_use_cluster_colours():
    gdf = _four_squares({2005: [0, 0, 0, 0]})
    local = pd.DataFrame({"unit_id": ["u0", "u1", "u2", "u3"], "name": "x", "quantity": "cb_t",
                          "year": 2005, "local_i": 0.1, "p_sim": 0.01,
                          "cluster": ["HH", "LL", "not significant", "HL"]})
    fig = spatial.lisa_maps(gdf, local, "cb_t")
    face = fig.axes[0].collections[0].get_facecolors()
    for i, c in enumerate(["HH", "LL", "not significant", "HL"]):
        np.testing.assert_allclose(face[i], mcolors.to_rgba(CLUSTER_COLOURS[c]))
    assert _legend_labels(fig) == list(CLUSTER_COLOURS)


def test_display_scale_picks_readable_units():
    assert display_scale([2.5e7, -1e6], "t CO2") == (1e-6, "Mt CO2")
    assert display_scale([5e4], "t C") == (1e-3, "kt C")
    assert display_scale([12.0], "t CO2") == (1.0, "t CO2")
    assert display_scale([3e7], "-") == (1.0, "-")


def test_budget_totals_draws_region_and_groups_in_mt():
    region = pd.DataFrame({"year": [2005, 2010], "ce_t_co2": [3e8, 4e8],
                           "cs_t_co2": [1e8, 1.1e8], "cb_t": [2e8, 2.9e8]})
    groups = pd.concat([region.assign(group="A"), region.assign(group="B")])
    fig = budgets.budget_totals(region, groups, generated=True)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["Region", "A", "B"]
    heights = sorted(p.get_height() for p in fig.axes[0].patches)
    assert heights == pytest.approx([100, 110, 200, 290, 300, 400])  # in Mt CO2
    assert GENERATED_LABEL in _texts(fig)


def test_budget_columns_on_carbon_basis():
    t = pd.DataFrame({"ce_t_co2": [44.0], "cs_t_c": [3.0], "cb_t": [9.0]})
    out = budgets.budget_columns(t, "C")
    assert out.loc[0, "CE"] == pytest.approx(12.0)  # 44 t CO2 x 12/44
    assert out.loc[0, "CS"] == 3.0 and out.loc[0, "CB"] == 9.0


def test_indicator_chart_notes_undefined_values():
    units = pd.DataFrame({"unit_id": ["a", "b", "a", "b"], "name": ["A", "B", "A", "B"],
                          "year": [2005, 2005, 2010, 2010], "cbi": [0.5, 3.0, np.nan, 4.0]})
    fig = indicators.indicator_chart(units, "cbi")
    assert any("1 value(s) undefined" in t for t in _texts(fig))
    assert fig.axes[0].get_xscale() == "linear"
    units["cbi"] = [0.1, 30.0, 2.0, 4.0]  # spans 300x: log axis
    assert indicators.indicator_chart(units, "cbi").axes[0].get_xscale() == "log"


def test_zone_transition_chart_counts():
    tr = pd.DataFrame({"year_from": 2005, "year_to": 2010,
                       "zone_from": ["carbon sink functional zone", "unclassified"],
                       "zone_to": ["carbon sink functional zone", "low-carbon economic zone"],
                       "n_units": [3, 1], "area_km2": [10.0, 2.0]})
    fig = zoning.zone_transition_chart(tr)
    ax = fig.axes[0]
    blocks = {(round(p.get_x() + p.get_width() / 2), mcolors.to_hex(p.get_facecolor()),
               p.get_height()) for p in ax.patches}
    # 2005 (x=0): 3 sink units and 1 unclassified; 2010 (x=1): 3 sink, 1 low-carbon economic
    assert blocks == {(0, ZONE_COLOURS["carbon sink functional zone"], 3.0),
                      (0, ZONE_COLOURS["unclassified"], 1.0),
                      (1, ZONE_COLOURS["carbon sink functional zone"], 3.0),
                      (1, ZONE_COLOURS["low-carbon economic zone"], 1.0)}
    assert len(ax.collections) == 2  # one band per row of the table


def test_zone_share_chart_stacks_to_100():
    shares = pd.DataFrame({"year": [2005, 2005], "zone": ["carbon sink functional zone",
                                                         "unclassified"],
                           "n_units": [1, 1], "area_km2": [30.0, 70.0],
                           "share_percent": [30.0, 70.0]})
    fig = zoning.zone_share_chart(shares)
    widths = sorted(p.get_width() for p in fig.axes[0].patches)
    assert widths == [30.0, 70.0]


def test_change_chart_selects_first_to_last():
    ch = pd.DataFrame({"level": "unit", "unit_id": ["a", "a"], "name": "A",
                       "quantity": "cbi", "year_from": [2005, 2005], "year_to": [2010, 2020],
                       "value_from": 1.0, "value_to": [2.0, 3.0],
                       "change_percent": [100.0, 200.0]})
    fig = changes.change_chart(ch, "cbi")
    assert [p.get_width() for p in fig.axes[0].patches] == [200.0]
    with pytest.raises(ValueError, match="no rows"):
        changes.change_chart(ch, "esc")


def test_moran_chart_marks_significance():
    g = pd.DataFrame({"quantity": "cb_t", "year": [2005, 2010], "moran_i": [0.3, 0.05],
                      "expected_i": -0.1, "z": [2.5, 0.4], "p_sim": [0.01, 0.4],
                      "permutations": 999})
    fig = moran = spatial.moran_chart(g)
    filled, hollow = moran.axes[0].collections[:2]
    assert filled.get_offsets().tolist() == [[2005, 0.3]]
    assert hollow.get_offsets().tolist() == [[2010, 0.05]]
    assert isinstance(fig, Figure)


def test_read_grid_averages_to_the_requested_size(output_folder):
    grid = nep.read_grid(output_folder / "grids" / "2005" / "nep.tif", max_size=30)
    assert grid.shape == (30, 30)
    assert np.isnan(grid.values[0, 0])  # the 4x4 nodata corner stays nodata
    # fixture formula: 100 + 3 row + 40 sin(col / 5); a 2x2 average of rows 20-21, cols 20-21
    rows, cols = np.meshgrid([20, 21], [20, 21], indexing="ij")
    expected = np.mean(100 + 3 * rows + 40 * np.sin(cols / 5))
    assert grid.values[10, 10] == pytest.approx(expected, rel=1e-5)
    assert grid["x"].values[0] == pytest.approx(112 + 0.05)  # centre of a 0.1-degree cell
    assert grid["y"].values[0] == pytest.approx(31 - 0.05)


def test_nep_maps_scale_is_shared_and_centred(output_folder, units_geo):
    grids = {y: nep.read_grid(output_folder / "grids" / str(y) / "nep.tif", max_size=20)
             for y in (2005, 2010)}
    fig = nep.nep_maps(grids, units_geo[units_geo["year"] == 2005], generated=True)
    assert sum(1 for ax in fig.axes if ax.images) == 2
    bar = fig.axes[-1]  # the colour bar spans the data range and holds 0
    lo, hi = sorted(bar.get_xlim())
    assert lo <= 0 < hi
    assert GENERATED_LABEL in _texts(fig)
