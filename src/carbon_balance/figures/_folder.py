"""Read an output folder (docs/developing.md, "Output folder contract") for figures and report.

Every table except ``units.csv`` is optional here: a figure or report section whose table
is missing is left out, so that partial runs (``nep`` only, no emissions) still report.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError

log = logging.getLogger(__name__)

TABLES = ("units", "groups", "region", "changes", "zone_shares", "zone_transitions",
          "emissions", "emissions_backtest", "spatial_global", "spatial_local",
          "ndvi_bounds", "zone_probabilities", "attribution", "attribution_groups", "trends")


@dataclass
class Results:
    """What an output folder holds, loaded once."""

    folder: Path
    manifest: dict = field(default_factory=dict)
    study: dict = field(default_factory=dict)        # study.toml as plain TOML
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    units_geo: object = None                          # long GeoDataFrame or None
    nep_paths: dict[int, Path] = field(default_factory=dict)
    trend_paths: dict[str, Path] = field(default_factory=dict)   # grids/trends/{stem}.tif

    @property
    def parameters(self) -> dict:
        return self.manifest.get("parameters") or {}

    def _setting(self, section: str, key: str, default=None):
        for source in (self.parameters, self.study):
            value = (source.get(section) or {}).get(key)
            if value is not None:
                return value
        return default

    @property
    def generated(self) -> bool:
        """True when the study declares ``[study] generated_inputs = true``."""
        return bool(self._setting("study", "generated_inputs", False))

    @property
    def generated_note(self) -> str:
        return str(self._setting("study", "generated_note", "") or "")

    @property
    def name(self) -> str:
        return str(self._setting("study", "name", self.folder.name))

    @property
    def basis(self) -> str:
        basis = self._setting("zoning", "basis")
        if basis is None and "basis" in self.tables.get("units", {}):
            values = self.tables["units"]["basis"].dropna()
            basis = values.iloc[0] if len(values) else None
        return str(basis or "CO2")

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV of the folder; ids stay text (a code like 420100 is a label, not a number)."""
    try:
        return pd.read_csv(path, dtype={"unit_id": str, "group": str, "name": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table ({exc})", file=path,
                         fix="rerun `carbon-balance run` to rewrite the output folder") from None


def _units_geo(folder: Path, units: pd.DataFrame | None):
    """Polygons of ``units.gpkg`` (layers ``units_{year}``) joined to ``units.csv``."""
    gpkg = folder / "units.gpkg"
    if not gpkg.exists() or units is None:
        return None
    import geopandas as gpd
    import pyogrio

    frames = []
    for layer, _ in pyogrio.list_layers(gpkg):
        m = re.fullmatch(r"units_(\d{4})", str(layer))
        if not m:
            continue
        if "unit_id" not in pyogrio.read_info(gpkg, layer=layer)["fields"]:
            log.warning("%s layer %s has no unit_id column: no maps", gpkg, layer)
            return None
        g = gpd.read_file(gpkg, layer=layer, columns=["unit_id"])
        g["unit_id"] = g["unit_id"].astype(str)
        g["year"] = int(m.group(1))
        frames.append(g[["unit_id", "year", "geometry"]])
    if not frames:
        return None
    geo = pd.concat(frames, ignore_index=True)
    geo = gpd.GeoDataFrame(geo, geometry="geometry", crs=frames[0].crs)
    # attributes come from units.csv so that figures show exactly the table's numbers
    merged = geo.merge(units.assign(year=units["year"].astype(int)), on=["unit_id", "year"],
                       how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=geo.crs)


def load_results(folder: str | Path) -> Results:
    """Load the manifest, study file, tables, unit polygons and NEP grid paths of ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("the output folder does not exist", file=folder,
                         fix="give the folder written by `carbon-balance run` or `demo`")
    res = Results(folder=folder)
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            res.manifest = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"manifest is not valid JSON ({exc})", file=manifest,
                             fix="rerun the study to rewrite the output folder") from None
    study = folder / "study.toml"
    if study.exists():
        try:
            res.study = tomllib.loads(study.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError:
            log.warning("%s is not valid TOML; study settings taken from the manifest", study)
    for name in TABLES:
        path = folder / "tables" / f"{name}.csv"
        if path.exists():
            res.tables[name] = read_table(path)
    res.units_geo = _units_geo(folder, res.tables.get("units"))
    for d in sorted((folder / "grids").glob("*/nep.tif")):
        if d.parent.name.isdigit():
            res.nep_paths[int(d.parent.name)] = d
    res.trend_paths = {p.stem: p for p in sorted((folder / "grids" / "trends").glob("*.tif"))}
    return res
