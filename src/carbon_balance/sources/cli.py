"""The ``carbon-balance fetch`` command (registered in :mod:`carbon_balance.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .stac import PLANETARY_COMPUTER

HELP = """Fetch real inputs for a region: NDVI, climate, land cover and a reference NPP.

The only command that uses the network. It finds the items through STAC (Planetary Computer by default, anonymous), reads only the windows needed, composites 16-day NDVI to months, converts units and writes a study folder (rasters, study.toml, sources.json) that `validate` accepts as it is; add the emissions and GDP tables before `run`.

A rerun fetches only what is missing; --plan lists what would be fetched. --stac-url file://... reads a static catalog (a mirror or your own archive) without a network. See docs/inputs.md.
"""


def parse_years(values: list[str]) -> list[int]:
    """'2005,2010' or repeated --years, or a range '2005-2008'."""
    from ..errors import InputError

    years: list[int] = []
    for v in values:
        for part in v.replace(" ", ",").split(","):
            if not part:
                continue
            try:
                if "-" in part:
                    a, b = (int(x) for x in part.split("-"))
                    years += list(range(a, b + 1))
                else:
                    years.append(int(part))
            except ValueError:
                raise InputError(f"not a year or range: {part!r}", key="--years",
                                 fix="e.g. --years 2005,2010,2015 or --years 2005-2010") from None
    return years


def parse_choices(values: list[str]) -> dict[str, str]:
    from ..errors import InputError

    out = {}
    for v in values:
        if "=" not in v:
            raise InputError(f"--source {v!r} is not ROLE=NAME", key="--source",
                             fix="e.g. --source ndvi=modis-13q1-061")
        role, name = v.split("=", 1)
        out[role.strip()] = name.strip()
    return out


def fetch_command(
    out: Path = typer.Option(..., "--out", "-o", help="The study folder to write (atomically)."),
    years: list[str] = typer.Option(..., "--years", help="Study years: 2005,2010,2015 or 2005-2010."),
    bbox: Optional[tuple[float, float, float, float]] = typer.Option(
        None, "--bbox", help="W S E N in degrees (or give --units)."),
    units: Optional[Path] = typer.Option(None, "--units", help="Polygons of the units; their "
                                         "extent is fetched and the units table of the study filled."),
    units_id: Optional[str] = typer.Option(None, "--units-id", help="Column with the unit id."),
    units_name: Optional[str] = typer.Option(None, "--units-name", help="Column with the unit name."),
    resolution: Optional[float] = typer.Option(None, "--resolution", help="Cell size in CRS "
                                               "units (default 0.005 deg or 500 m)."),
    crs: str = typer.Option("EPSG:4326", "--crs", help="CRS of the study grid."),
    stac_url: str = typer.Option(PLANETARY_COMPUTER, "--stac-url", help="A STAC API or a "
                                 "static catalog (file://... or a path)."),
    source: list[str] = typer.Option([], "--source", help="ROLE=NAME to use another "
                                     "registered source, e.g. ndvi=modis-13q1-061."),
    no_reference: bool = typer.Option(False, "--no-reference", help="Skip the MOD17 reference NPP."),
    plan: bool = typer.Option(False, "--plan", help="Only list what would be fetched."),
    workers: int = typer.Option(2, "--workers", help="Rasters fetched at the same time."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing folder."),
) -> None:
    from rich.console import Console
    from rich.table import Table

    from .fetch import fetch_study

    console = Console()
    result = fetch_study(out, years=parse_years(years), bbox=bbox, units=units,
                         units_id=units_id, units_name=units_name, stac_url=stac_url, crs=crs,
                         resolution=resolution, choices=parse_choices(source),
                         reference=not no_reference, plan=plan, overwrite=overwrite,
                         workers=workers)
    if plan:
        table = Table("raster", "sources", "items", "input bytes (listed)", "output bytes (max)")
        for r in result:
            table.add_row(r["raster"], r["sources"], str(r["items"]),
                          "unknown" if r["listed_input_bytes"] is None else f"{r['listed_input_bytes']:,}",
                          f"{r['output_bytes_max']:,}")
        console.print(table)
        total = sum(r["output_bytes_max"] for r in result)
        console.print(f"{len(result)} rasters, at most {total / 1e6:.1f} MB written; nothing fetched (--plan)")
        return
    console.print(f"[green]fetched[/green]: {result}  (add the emissions and GDP tables before `run`)")
