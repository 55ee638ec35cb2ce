"""QGIS-facing outputs read back as a user's tools read them (pyogrio, ElementTree)."""

import shutil
import xml.etree.ElementTree as ET

import pyogrio
import pytest

from carbon_balance import qgis_styles
from carbon_balance.figures import load_results


@pytest.fixture()
def gpkg(report_folder, tmp_path):
    path = tmp_path / "units.gpkg"
    shutil.copy(report_folder / "units.gpkg", path)
    return path


def test_zone_style_stored_as_default_in_layer_styles(gpkg):
    qgis_styles.store_default_style(gpkg, "units_2005", qgis_styles.zone_vector_qml())
    qgis_styles.store_default_style(gpkg, "units_2005", qgis_styles.zone_vector_qml())  # again
    assert "layer_styles" in [name for name, _ in pyogrio.list_layers(gpkg)]
    styles = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    rows = styles[styles["f_table_name"] == "units_2005"]
    assert len(rows) == 1 and bool(rows["useAsDefault"].iloc[0])  # replaced, not doubled
    assert rows["f_geometry_column"].iloc[0] == pyogrio.read_info(
        gpkg, layer="units_2005")["geometry_name"]
    root = ET.fromstring(rows["styleQML"].iloc[0].split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "zone"
    cats = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
    colours = {s.get("name"): s.find(".//Option[@name='color']").get("value")
               for s in renderer.iter("symbol")}
    # ZONE_COLOURS by hand: #1b7837 = (0x1b, 0x78, 0x37), #b2182b = (0xb2, 0x18, 0x2b)
    assert colours[cats["carbon sink functional zone"]] == "27,120,55,255"
    assert colours[cats["high-carbon optimization zone"]] == "178,24,43,255"
    assert len(cats) == 6


def test_style_of_a_missing_layer_is_refused(gpkg):
    with pytest.raises(ValueError, match="no vector layer"):
        qgis_styles.store_default_style(gpkg, "nothing", qgis_styles.zone_vector_qml())


def test_time_layer_has_every_year_and_its_style(report_folder, gpkg):
    geo = load_results(report_folder).units_geo
    layer = qgis_styles.write_time_layer(gpkg, geo)
    back = pyogrio.read_dataframe(gpkg, layer=layer)
    assert len(back) == 18  # 9 units x 2 years of the fixture
    assert sorted(back["year"].unique()) == [2005, 2010]
    info = pyogrio.read_info(gpkg, layer=layer)
    dtypes = dict(zip(info["fields"], info["dtypes"]))
    assert dtypes["year"].startswith("int") and dtypes["date"].startswith("datetime64")
    assert str(back["date"].min())[:10] == "2005-01-01"
    styles = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert (styles["f_table_name"] == layer).sum() == 1
    # every layer with a zone field (the fixture writes the units.csv columns) gets the style
    assert sorted(qgis_styles.style_units_gpkg(gpkg)) == ["units", "units_2005", "units_2010"]


def test_nep_style_is_symmetric_about_zero(tmp_path):
    root = ET.fromstring(qgis_styles.nep_raster_qml(600).split("\n", 1)[1])
    items = [(float(i.get("value")), i.get("color")) for i in root.iter("item")]
    # 7 stops from -600 to 600: a step of 1200 / 6 = 200, the pale middle at 0
    assert [v for v, _ in items] == [-600, -400, -200, 0, 200, 400, 600]
    assert items[3][1] == "#ffffbf" and items[0][1] == "#d73027" and items[-1][1] == "#1a9850"
    with pytest.raises(ValueError):
        qgis_styles.nep_raster_qml(0)
    qml = qgis_styles.write_qml(tmp_path / "nep.tif", qgis_styles.nep_raster_qml(10))
    assert qml.name == "nep.qml" and qml.read_text().startswith("<!DOCTYPE qgis")


def test_zone_raster_palette():
    root = ET.fromstring(qgis_styles.zone_raster_qml().split("\n", 1)[1])
    palette = {int(e.get("value")): e.get("color") for e in root.iter("paletteEntry")}
    assert palette == {0: "#bdbdbd", 1: "#1b7837", 2: "#5aae61", 3: "#80cdc1", 4: "#f4a582",
                       5: "#b2182b"}


def test_grid_styles_beside_every_nep_grid(report_folder, tmp_path):
    folder = tmp_path / "f"
    shutil.copytree(report_folder / "grids", folder / "grids")
    written = qgis_styles.write_grid_styles(folder)
    assert sorted(p.relative_to(folder).as_posix() for p in written) == [
        "grids/2005/nep.qml", "grids/2010/nep.qml"]
    root = ET.fromstring(written[0].read_text().split("\n", 1)[1])
    values = [float(i.get("value")) for i in root.iter("item")]
    assert values[0] == -values[-1] and values[3] == 0  # symmetric about 0


def test_cog_bands_carry_their_unit(tmp_path):
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from carbon_balance.grid.writers import to_cog

    src = tmp_path / "nep.tmp.tif"
    with rasterio.open(src, "w", driver="GTiff", width=32, height=32, count=1,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(110, 30, .1, .1),
                       tiled=True, blockxsize=16, blockysize=16) as dst:
        dst.write(np.ones((1, 32, 32), "float32"))
    cog = to_cog(src, tmp_path / "nep.tif", tags={"units": "g C m-2 yr-1"},
                 descriptions=["nep"])
    with rasterio.open(cog) as ds:
        assert ds.units == ("g C m-2 yr-1",) and ds.descriptions == ("nep",)
