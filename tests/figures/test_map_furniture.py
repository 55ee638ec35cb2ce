"""Map furniture and the NEP scale, checked against values derived by hand."""

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib_scalebar.scalebar import ScaleBar
from shapely.geometry import box

from carbon_balance.figures import _mapframe, budgets, maps, nep


def _squares(crs="EPSG:4326", years=(2005, 2010)):
    rows = [{"unit_id": f"u{i}", "name": f"U{i}", "year": y, "cb_t": float(i - 1)}
            for y in years for i in range(4)]
    geoms = [box(110 + 2 * (i % 2), 26 + 3 * (i // 2), 112 + 2 * (i % 2), 29 + 3 * (i // 2))
             for y in years for i in range(4)]
    g = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    return g.to_crs(crs)


def test_degree_labels():
    assert _mapframe._deg_label(112.0, "x") == "112°E"
    assert _mapframe._deg_label(-3.5, "x") == "3.5°W"
    assert _mapframe._deg_label(30.0, "y") == "30°N"
    assert _mapframe._deg_label(-0.25, "y") == "0.25°S"


def test_columns_grow_with_the_years():
    assert [_mapframe.columns_for(n) for n in (1, 2, 4, 5, 9, 10, 16, 20, 25)] == \
        [1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_map_panels_have_graticule_scale_bar_and_arrow_below_the_data():
    fig = maps.choropleth_maps(_squares(), "cb_t")
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    first, second = [ax for ax in fig.axes if ax.get_visible()][:2]
    # the units span 110-114 E and 26-32 N; lines every 1 degree (6 lines at most)
    # by hand: padded extent 25.04-32.24 N (a 16 % strip below, 4 % above), 7.2 degrees:
    # 1-degree lines would be 7 > 6, so every 2 degrees
    assert [t.get_text() for t in first.get_yticklabels()] == ["26°N", "28°N", "30°N", "32°N"]
    assert "110°E" in [t.get_text() for t in first.get_xticklabels()] or \
        "110°E" in [t.get_text() for t in second.get_xticklabels()]
    assert not any(t.get_text() for t in second.get_yticklabels())  # right column: no labels
    assert sum(isinstance(a, ScaleBar) for a in first.artists) == 1
    assert not any(isinstance(a, ScaleBar) for a in second.artists)  # once per figure
    # the north arrow lies below the lowest unit (in the strip no data reaches)
    r = fig.canvas.get_renderer()
    data_bottom = first.transData.transform((112, 26))[1]
    arrows = [t for t in first.texts if t.get_text() == "N"]
    assert arrows and arrows[0].get_window_extent(r).y1 < data_bottom
    assert first.get_xlim()[0] < 110 and first.get_ylim()[0] < 26  # margins around the data


def test_scale_bar_metres_per_degree_at_mid_latitude():
    fig = maps.choropleth_maps(_squares(), "cb_t")
    bar = next(a for a in fig.axes[0].artists if isinstance(a, ScaleBar))
    extent = _mapframe.padded_extent((110, 26, 114, 32))
    mid = (extent[2] + extent[3]) / 2
    assert bar.dx == pytest.approx(111_320 * np.cos(np.radians(mid)))


def test_projected_units_get_degree_graticule_and_metre_scale():
    fig = maps.choropleth_maps(_squares("EPSG:3857"), "cb_t")
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels and all(lab.endswith("°N") for lab in labels)
    bar = next(a for a in ax.artists if isinstance(a, ScaleBar))
    assert bar.dx == 1.0  # EPSG:3857 is in metres


def test_symmetric_limit_by_hand():
    v = np.array([-150.0, -100.0, 0.0, 300.0, 600.0, np.nan])
    assert nep.symmetric_limit(v, 0) == (-150.0, 600.0, 600.0)
    # each side trimmed on its own: 2nd percentile of (-150, -100) = -150 + 0.02 x 50
    lo, hi, limit = nep.symmetric_limit(v, 2)
    assert lo == pytest.approx(-149.0) and hi == pytest.approx(300 + 0.98 * 300)
    assert limit == pytest.approx(594.0)


def _grid(values):
    values = np.asarray(values, float)
    ny, nx = values.shape
    return xr.DataArray(values, dims=("y", "x"),
                        coords={"y": 30 - (np.arange(ny) + 0.5), "x": 110 + np.arange(nx) + 0.5},
                        attrs={"crs": "EPSG:4326"})


def test_nep_bar_has_honest_lengths_and_a_neutral_zero():
    g = _grid([[-150.0, 0.0, 300.0, 600.0]] * 4)
    fig = nep.nep_maps({2005: g}, percentile=0)
    FigureCanvasAgg(fig)
    bar = fig.axes[-1]
    assert sorted(bar.get_xlim()) == pytest.approx([-150.0, 600.0])  # -150..600, not -1..1
    # colours over -600..600: 0 is the centre colour, -150 and +150 equally far from it
    rgba = np.asarray(fig.axes[0].images[0].get_array())
    ramp = mpl.colormaps["RdYlGn"]
    assert np.allclose(rgba[0, 1], ramp(0.5), atol=0.005)
    assert np.allclose(rgba[0, 0], ramp(0.5 - 150 / 1200), atol=0.005)
    assert np.allclose(rgba[0, 3], ramp(1.0), atol=0.005)


def test_cells_outside_the_units_are_blank():
    g = _grid(np.full((4, 4), 100.0))  # 110-114 E, 26-30 N, 1-degree cells
    left = gpd.GeoDataFrame({"unit_id": ["a"]}, geometry=[box(110, 26, 112, 30)],
                            crs="EPSG:4326")
    outside = nep.study_area_mask(g, left)
    assert outside[:, 2:].all() and not outside[:, :2].any()
    fig = nep.nep_maps({2005: g}, left)
    rgba = fig.axes[0].images[0].get_array()
    assert (np.asarray(rgba)[:, 2:, 3] == 0).all() and (np.asarray(rgba)[:, :2, 3] == 1).all()


def test_single_group_is_not_repeated_and_estimates_are_hatched():
    region = pd.DataFrame({"year": [2005, 2010], "ce_t_co2": [2e6, 3e6],
                           "cs_t_co2": [1e6, 1e6], "cb_t": [1e6, 2e6]})
    groups = region.assign(group="Only")
    fig = budgets.budget_totals(region, groups, estimated={"Region": {2010}})
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 2  # CE and CB of 2010
    assert "CE estimated (forecast)" in [t.get_text() for t in fig.legends[0].get_texts()]
