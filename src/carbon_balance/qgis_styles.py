"""Outputs that open ready in QGIS: layer styles (.qml) and the GeoPackage's default styles.

- :func:`zone_vector_qml` the carbon balance zones of ``units.gpkg`` in their fixed colours
  (a categorized renderer on the ``zone`` field);
- :func:`zone_raster_qml` a zone raster (codes :data:`ZONE_CODES`) as a paletted raster;
- :func:`nep_raster_qml` an NEP grid [g C m-2 yr-1] on a diverging red-yellow-green ramp
  centred on 0;
- :func:`write_qml` a style beside a raster (``nep.tif`` -> ``nep.qml``: QGIS loads a
  ``.qml`` of the same name automatically);
- :func:`store_default_style` a style in the GeoPackage's ``layer_styles`` table, the table
  QGIS reads the default style of a GeoPackage layer from (and writes with "Save as
  default"), so the layer opens styled wherever the file goes;
- :func:`write_time_layer` all years in one layer with an integer ``year`` field and a
  ``date`` field (1 January of the year), which QGIS's temporal controller can animate.

The colours are those of the figures (:data:`carbon_balance.figures._style.ZONE_COLOURS`),
so a map made in QGIS matches the report. QML is the QGIS layer style format
(https://docs.qgis.org/latest/en/docs/user_manual/introduction/general_tools.html#styles).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .figures._style import ZONE_COLOURS, ZONE_ORDER

#: Integer codes of the zones in a zone raster (0: unclassified, as METHOD.md section 5).
ZONE_CODES: dict[str, int] = {
    "carbon sink functional zone": 1,
    "low-carbon economic zone": 2,
    "low-carbon optimization zone": 3,
    "carbon intensity control zone": 4,
    "high-carbon optimization zone": 5,
    "unclassified": 0,
}
#: QGIS version the styles are written for (read by QGIS 3.x; older 3.x ignore new tags).
QGIS_VERSION = "3.34.0-Prizren"
#: Stops of the diverging NEP ramp (ColorBrewer RdYlGn, 7 classes; Harrower and Brewer
#: 2003, doi:10.1179/000870403235002042), from -limit (source) to +limit (sink).
NEP_RAMP = ("#d73027", "#fc8d59", "#fee08b", "#ffffbf", "#d9ef8b", "#91cf60", "#1a9850")


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def zone_vector_qml(field: str = "zone") -> str:
    """QML of a categorized fill renderer: each zone of ``field`` in its fixed colour."""
    cats, symbols = [], []
    for i, zone in enumerate(ZONE_ORDER):
        cats.append(f'<category render="true" symbol="{i}" value={quoteattr(zone)} '
                    f'label={quoteattr(zone)}/>')
        symbols.append(
            f'<symbol type="fill" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<Option type="Map">'
            f'<Option type="QString" name="color" value="{_rgba(ZONE_COLOURS[zone])}"/>'
            f'<Option type="QString" name="outline_color" value="85,85,85,255"/>'
            f'<Option type="QString" name="outline_width" value="0.2"/>'
            f'<Option type="QString" name="outline_width_unit" value="MM"/>'
            f'<Option type="QString" name="style" value="solid"/>'
            f'</Option></layer></symbol>')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n'
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} '
            'symbollevels="0" enableorderby="0" forceraster="0">\n'
            f"<categories>{''.join(cats)}</categories>\n"
            f"<symbols>{''.join(symbols)}</symbols>\n"
            "</renderer-v2>\n</qgis>\n")


def zone_raster_qml(band: int = 1) -> str:
    """QML of a paletted raster renderer: zone codes (:data:`ZONE_CODES`) in zone colours."""
    entries = "".join(
        f'<paletteEntry value="{ZONE_CODES[z]}" color="{ZONE_COLOURS[z]}" alpha="255" '
        f'label={quoteattr(z)}/>' for z in ZONE_ORDER)
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n<pipe>\n'
            f'<rasterrenderer type="paletted" band="{band}" opacity="1" alphaBand="-1">\n'
            f"<colorPalette>{entries}</colorPalette>\n"
            "</rasterrenderer>\n</pipe>\n</qgis>\n")


def nep_raster_qml(limit: float, *, band: int = 1, unit: str = "g C m-2 yr-1") -> str:
    """QML of a pseudocolour renderer for NEP: -``limit``..+``limit`` [unit], 0 in the middle.

    ``limit`` is the half-width of the scale (e.g. the 98th percentile of |NEP|, as
    :func:`carbon_balance.figures.nep.symmetric_limit`); the same NEP difference is the
    same colour step on both sides of 0, and values beyond are clamped.
    """
    if not np.isfinite(limit) or limit <= 0:
        raise ValueError(f"limit must be a positive number, got {limit!r}")
    n = len(NEP_RAMP)
    values = np.linspace(-limit, limit, n)
    items = "".join(
        f'<item value="{v:.6g}" color="{c}" alpha="255" label={quoteattr(f"{v:.4g}")}/>'
        for v, c in zip(values, NEP_RAMP))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n<pipe>\n'
            f'<rasterrenderer type="singlebandpseudocolor" band="{band}" opacity="1" '
            f'alphaBand="-1" classificationMin="{-limit:.6g}" classificationMax="{limit:.6g}">\n'
            "<rastershader><colorrampshader colorRampType=\"INTERPOLATED\" "
            f'classificationMode="1" clip="0" minimumValue="{-limit:.6g}" '
            f'maximumValue="{limit:.6g}" labelPrecision="0">{items}</colorrampshader>'
            "</rastershader>\n"
            "</rasterrenderer>\n</pipe>\n"
            f"<!-- NEP [{escape(unit)}]: red source, green sink -->\n</qgis>\n")


def write_grid_styles(folder: str | Path, *, percentile: float = 2.0) -> list[Path]:
    """A ``nep.qml`` beside every ``grids/{year}/nep.tif`` of an output folder.

    One scale for all years: ``limit`` from
    :func:`carbon_balance.figures.nep.symmetric_limit` over the reduced grids (the COG
    overviews), so the QGIS layers compare like the report's maps.
    """
    from .figures.nep import read_grid, symmetric_limit

    paths = sorted(Path(folder).glob("grids/*/nep.tif"))
    if not paths:
        return []
    values = np.concatenate([read_grid(p).values.ravel() for p in paths])
    limit = symmetric_limit(values, percentile)[2]
    return [write_qml(p, nep_raster_qml(limit)) for p in paths]


def write_qml(raster: str | Path, qml: str) -> Path:
    """Write ``qml`` beside ``raster`` (same name, ``.qml``), which QGIS loads with it."""
    path = Path(raster).with_suffix(".qml")
    path.write_text(qml, encoding="utf-8")
    return path


_LAYER_STYLES = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
    f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
    description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def store_default_style(gpkg: str | Path, layer: str, qml: str, *,
                        name: str | None = None, description: str = "") -> None:
    """Store ``qml`` as the default style of ``layer`` in ``gpkg``'s ``layer_styles`` table.

    The table has the layout QGIS creates (and reads on opening a layer); it is
    registered in ``gpkg_contents`` as an attributes table, as QGIS does, so GDAL and
    pyogrio list it. A default style the layer had is replaced.
    """
    from .reproducible import fixed_date   # byte-identical reruns: no clock time in the file

    gpkg = Path(gpkg)
    con = sqlite3.connect(gpkg)
    try:
        with con:
            row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE "
                              "table_name = ?", (layer,)).fetchone()
            if row is None:
                raise ValueError(f"{gpkg}: no vector layer {layer!r}")
            con.execute(_LAYER_STYLES)
            con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, "
                        "identifier, description, last_change) VALUES ('layer_styles', "
                        "'attributes', 'layer_styles', '', ?)", (fixed_date(),))
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND useAsDefault",
                        (layer,))
            con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, "
                        "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                        "useAsDefault, description, owner, ui, update_time) VALUES "
                        "('', '', ?, ?, ?, ?, '', 1, ?, '', '', ?)",
                        (layer, row[0], name or layer, qml, description,
                         fixed_date()))
    finally:
        con.close()


def write_time_layer(gpkg: str | Path, units_long, *, layer: str = "units") -> str:
    """Write every year of ``units_long`` into one layer with ``year`` and ``date`` fields.

    ``units_long`` is the long GeoDataFrame (one row per unit and year, e.g.
    :attr:`carbon_balance.figures.Results.units_geo`). QGIS's temporal controller animates
    the layer with "Single field with date/time" on ``date``. The zone style is stored as
    the layer's default. Returns the layer name.
    """
    import pandas as pd

    g = units_long.copy()
    g["year"] = g["year"].astype(int)
    # datetime64: a GeoPackage DateTime field, which QGIS offers to the temporal controller
    g["date"] = pd.to_datetime(g["year"].astype(str) + "-01-01")
    g = g.sort_values(["year", "unit_id"])
    g.to_file(gpkg, layer=layer, driver="GPKG", engine="pyogrio")
    if "zone" in g:
        store_default_style(gpkg, layer, zone_vector_qml(), name="carbon balance zones",
                            description="zones in the fixed colours of carbon-balance")
    return layer


def style_units_gpkg(gpkg: str | Path) -> list[str]:
    """Store the zone style as the default of every layer of ``gpkg`` with a ``zone`` field."""
    import pyogrio

    styled = []
    for name, geom in pyogrio.list_layers(gpkg):
        if geom is None or name == "layer_styles":
            continue
        if "zone" in list(pyogrio.read_info(gpkg, layer=name)["fields"]):
            store_default_style(gpkg, name, zone_vector_qml(), name="carbon balance zones",
                                description="zones in the fixed colours of carbon-balance")
            styled.append(str(name))
    return styled
