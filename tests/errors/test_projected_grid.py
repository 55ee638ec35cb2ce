"""The default study grid on another CRS than the NDVI's (issue 15, item 6): the bounding
box of the NDVI's transformed outline, snapped outwards to whole multiples of the
resolution (grids of two studies of one CRS and resolution then line up cell for cell);
it covers the footprint, and its cells outside the footprint are nodata. Generated data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from shapely.geometry import box

from carbon_balance.grid.study_grid import snap_outwards, study_grid
from carbon_balance.study import load_study
from tests.grid.synthetic import ORIGIN, RES, SHAPE

from .studies import cli, full_study

UTM = 'chunk_size = 16\ncrs = "EPSG:32649"\nresolution = 1000'


def _utm_study(root):
    study = full_study(root)
    study.write_text(study.read_text().replace("chunk_size = 16", UTM))
    return study


def _ndvi_footprint(crs):
    """The generated NDVI's outline (110-110.6 E, 29.6-30 N), densified, in ``crs``."""
    west, north = ORIGIN
    outline = box(west, north - SHAPE[0] * RES, west + SHAPE[1] * RES, north)
    dense = shapely.segmentize(outline, max_segment_length=RES / 4)
    return gpd.GeoSeries([dense], crs="EPSG:4326").to_crs(crs).iloc[0]


def test_snap_outwards_by_hand():
    assert snap_outwards((1234.5, -10.0, 5000.0, 1999.9999999999), 1000) == \
        (1000, -1000, 5000, 2000)


def test_default_projected_grid_is_whole_cells_covering_the_footprint(tmp_path):
    study = load_study(_utm_study(tmp_path / "s"))
    grid = study_grid(study)
    xmin, ymin, xmax, ymax = grid.bounds
    for v in grid.bounds:                    # whole multiples of the 1000 m resolution
        assert v == pytest.approx(round(v / 1000) * 1000, abs=1e-6), grid.bounds
    assert grid.res == (1000, 1000)
    foot = _ndvi_footprint(grid.crs)
    assert box(*grid.bounds).contains(foot)
    # snapped outwards by less than one cell on every side
    fx0, fy0, fx1, fy1 = foot.bounds
    assert 0 <= fx0 - xmin < 1000 and 0 <= fy0 - ymin < 1000
    assert 0 <= xmax - fx1 < 1000 and 0 <= ymax - fy1 < 1000


def test_validate_and_nep_on_a_utm_study_of_a_geographic_ndvi(tmp_path):
    study = _utm_study(tmp_path / "s")
    res = cli("validate", study, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "does not cover" not in res.stderr and "Traceback" not in res.stderr
    res = cli("nep", study, "--out", tmp_path / "out", timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    with rasterio.open(tmp_path / "out/grids/2005/nep.tif") as src:
        nep = src.read(1, masked=True)
        bounds = src.bounds
        g = study_grid(load_study(study))
        assert tuple(bounds) == pytest.approx(g.bounds)
        # the corner cells lie outside the (rotated, in UTM) NDVI footprint: nodata
        foot = _ndvi_footprint(src.crs)
        rows, cols = np.indices(nep.shape)
        xs, ys = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
        inside = shapely.contains_xy(foot, np.asarray(xs), np.asarray(ys)).reshape(nep.shape)
    assert (~inside).any() and nep.mask[~inside].all()
    assert (~nep.mask[inside]).mean() > 0.9
