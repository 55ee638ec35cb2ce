"""figures/trends.py: significant cells hatched, and only those (generated grids)."""

from __future__ import annotations

import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from carbon_balance.figures.trends import HATCH, read_pvalues, trend_maps


def _grid(values):
    h, w = values.shape
    return xr.DataArray(values, dims=("y", "x"),
                        coords={"y": 30 - 0.01 * (np.arange(h) + 0.5),
                                "x": 110 + 0.01 * (np.arange(w) + 0.5)},
                        attrs={"crs": "EPSG:4326"})


def _hatched(fig):
    return [c for ax in fig.axes for c in ax.collections
            if HATCH in (getattr(c, "hatches", None) or [])]


def test_only_significant_cells_are_hatched():
    slope = _grid(np.linspace(-5, 5, 120).reshape(10, 12))
    p = np.full((10, 12), 0.5)
    fig = trend_maps({"npp": slope, "nep": slope}, {"npp": _grid(p), "nep": _grid(p)})
    assert not _hatched(fig)
    p[2:4, 3:6] = 0.01
    fig = trend_maps({"npp": slope, "nep": slope}, {"npp": _grid(p), "nep": _grid(p.copy())})
    assert len(_hatched(fig)) == 2                 # one hatched area per panel
    assert "5% of cells p < 0.05" in fig.axes[0].get_title()   # 6 of 120 cells


def test_pvalues_are_sampled_not_averaged(tmp_path):
    # a 1000-cell-wide p grid read at 500: each displayed cell is one cell of the file
    p = np.tile(np.array([0.01, 0.99], np.float32), (4, 500))
    path = tmp_path / "p.tif"
    with rasterio.open(path, "w", driver="GTiff", width=1000, height=4, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999,
                       transform=from_origin(110, 30, 0.001, 0.001)) as dst:
        dst.write(p, 1)
    got = read_pvalues(path).values
    assert got.shape == (2, 500)
    assert set(np.unique(got)) <= {np.float32(0.01), np.float32(0.99)}   # never ~0.5
