"""Unit polygons: ids, names, groups, geodesic areas, repairs and refusals; table checks."""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from carbon_balance.accounting.boundaries import load_units
from carbon_balance.errors import InputError


def _save(tmp_path, geoms, ids, crs="EPSG:4326", names=None):
    g = gpd.GeoDataFrame({"code": ids, "label": names or [f"n{i}" for i in ids],
                          "grp": ["x"] * len(ids)}, geometry=geoms, crs=crs)
    path = tmp_path / "u.gpkg"
    g.to_file(path, driver="GPKG")
    return path


def test_load_units_standard_columns(tmp_path):
    path = _save(tmp_path, [box(0, 0, 1, 1), box(1, 0, 2, 1)], [420100, 420200])
    u = load_units(path, id="code", name="label", group="grp")
    assert u.columns.tolist() == ["unit_id", "name", "group", "area_km2", "geometry"]
    assert u.unit_id.tolist() == ["420100", "420200"]
    # 1 x 1 degree at the equator ~ 12,308.7 km2 on WGS84 (both squares alike)
    assert u.area_km2.tolist() == pytest.approx([12_308.7, 12_308.7], rel=1e-3)


def test_repair_invalid_polygon_with_warning(tmp_path, caplog):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # self-intersecting
    path = _save(tmp_path, [bowtie, box(2, 0, 3, 1)], [1, 2])
    with caplog.at_level(logging.WARNING):
        u = load_units(path, id="code", name="label")
    assert u.geometry.is_valid.all()
    assert "repaired" in caplog.text and "1" in caplog.text
    # the two triangles of the bow-tie: half the square
    assert u.area_km2.iloc[0] == pytest.approx(u.area_km2.iloc[1] / 2, rel=1e-3)


def test_duplicate_ids_refused(tmp_path):
    path = _save(tmp_path, [box(0, 0, 1, 1), box(1, 0, 2, 1)], [7, 7])
    with pytest.raises(InputError, match="duplicate unit ids: 7"):
        load_units(path, id="code", name="label")


def test_missing_column_and_crs(tmp_path):
    path = _save(tmp_path, [box(0, 0, 1, 1)], [1])
    with pytest.raises(InputError, match="'adcode' not found"):
        load_units(path, id="adcode", name="label")
    g = gpd.GeoDataFrame({"code": [1], "label": ["a"]}, geometry=[box(0, 0, 1, 1)])
    g.to_file(tmp_path / "nocrs.geojson", driver="GeoJSON")
    # GeoJSON is WGS84 by definition; a Shapefile without .prj has no CRS
    g.to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    with pytest.raises(InputError, match="no coordinate reference system"):
        load_units(tmp_path / "nocrs.shp", id="code", name="label")


def test_table_problems(tmp_path):
    from carbon_balance.accounting.table_checks import table_problems
    from carbon_balance.study import load_study

    _save(tmp_path, [box(0, 0, 1, 1), box(1, 0, 2, 1)], [1, 2], names=["ok", "a<b>"])
    pd.DataFrame({"id": [1], "2005": [3.0]}).to_csv(tmp_path / "ce.csv", index=False)
    pd.DataFrame({"id": [1, 2], "2005": [-1.0, 2.0], "2010": [1.0, None]}).to_csv(
        tmp_path / "gdp.csv", index=False)
    (tmp_path / "s.toml").write_text(
        '[study]\nname="t"\nyears=[2005, 2010]\n'
        '[units]\npath="u.gpkg"\nid="code"\nname="label"\n'
        '[emissions]\npath="ce.csv"\nid="id"\nunits="t CO2"\nfill="none"\n'
        '[gdp]\npath="gdp.csv"\nid="id"\n')
    probs = table_problems(load_study(tmp_path / "s.toml"))
    text = "\n".join(str(p) for p in probs)
    assert "units missing from the table: 2" in text       # emissions lack unit 2
    assert "years missing without a fill rule" in text     # emissions 2010, GDP 2010 of 2
    assert "GDP <= 0 for: 1" in text
    warn = [p for p in probs if not p.fatal]
    assert any("a<b>" in p.message for p in warn)


def test_units_outside_the_grid(tmp_path):
    from carbon_balance.accounting.table_checks import table_problems
    from carbon_balance.study import load_study
    from tests.grid.synthetic import write_study

    path, _ = write_study(tmp_path)  # generated rasters: 110-110.6 E, 29.6-30 N
    _save(tmp_path, [box(110.1, 29.7, 110.3, 29.9), box(120, 40, 121, 41)], [1, 2])
    pd.DataFrame({"id": [1, 2], "2005": [3.0, 4.0]}).to_csv(tmp_path / "ce.csv", index=False)
    pd.DataFrame({"id": [1, 2], "2005": [1.0, 2.0]}).to_csv(tmp_path / "gdp.csv", index=False)
    path.write_text(path.read_text() + '\n[units]\npath="u.gpkg"\nid="code"\nname="label"\n'
                    '[emissions]\npath="ce.csv"\nid="id"\nunits="t CO2"\n'
                    '[gdp]\npath="gdp.csv"\nid="id"\n')
    probs = table_problems(load_study(path))
    assert [p.message for p in probs if p.fatal] == ["units outside the study grid: 2"]
