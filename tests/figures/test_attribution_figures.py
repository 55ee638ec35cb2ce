"""The attribution figures on hand-made tables (generated numbers)."""

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from carbon_balance.figures.attribution import (DRIVER_COLOURS, attribution_waterfall,
                                                dominant_driver_map)
from carbon_balance.figures._style import GENERATED_LABEL


def _row(level, group, cs_from, parts):
    row = {"level": level, "group": group, "from_year": 2005, "to_year": 2020,
           "cs_from_t_c": cs_from, "cs_change_t_c": sum(parts)}
    for k, v in zip(["ndvi", "temperature", "precipitation", "radiation", "land_cover",
                     "interaction"], parts):
        row[f"{k}_t_c"] = v
    return row


def _texts(fig):
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_waterfall_steps_from_first_to_second_cs():
    groups = pd.DataFrame([_row("group", "North", 100.0, [10, -5, 3, 0, -20, 1]),
                           _row("group", "South", 50.0, [1, 1, 1, 1, 1, 0]),
                           _row("region", None, 150.0, [11, -4, 4, 1, -19, 1])])
    fig = attribution_waterfall(groups, generated=GENERATED_LABEL)
    ax = fig.axes[0]                               # the region's panel, in t C
    assert ax.get_title() == "Region"
    bars = ax.patches
    assert len(bars) == 8
    assert bars[0].get_height() == 150.0           # CS 2005
    # ndvi starts at 150 and adds 11; temperature starts at 161 and goes down 4
    assert (bars[1].get_y(), bars[1].get_height()) == (150.0, 11.0)
    assert (bars[2].get_y(), bars[2].get_height()) == (161.0, -4.0)
    assert bars[-1].get_height() == 150 + 11 - 4 + 4 + 1 - 19 + 1   # CS 2020 = 144
    assert [a.get_title() for a in fig.axes[:3]] == ["Region", "North", "South"]
    assert GENERATED_LABEL in " ".join(_texts(fig))


def test_dominant_driver_map_colours_each_unit():
    units = gpd.GeoDataFrame({"unit_id": ["1", "2"]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    t = pd.DataFrame({"unit_id": ["1", "2"], "from_year": 2005, "to_year": 2020,
                      "ndvi_t_c": [5.0, 1.0], "temperature_t_c": [-1.0, 0.0],
                      "precipitation_t_c": [0.0, -3.0], "radiation_t_c": [0.0, 0.0],
                      "land_cover_t_c": [2.0, 2.5]})
    fig = dominant_driver_map(units, t)
    colours = {tuple(np.round(c, 3)) for coll in fig.axes[0].collections
               for c in coll.get_facecolor()}
    from matplotlib.colors import to_rgba

    expected = {tuple(np.round(to_rgba(DRIVER_COLOURS[d]), 3)) for d in ("ndvi", "precipitation")}
    assert expected <= colours
    assert "Dominant driver of the CS change, 2005 → 2020" in " ".join(_texts(fig))
