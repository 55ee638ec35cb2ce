"""Figures of a study (the study's Figures 3 to 7 and more), one function per figure.

Every public figure function takes tables (pandas DataFrames, GeoDataFrames or
DataArrays, never paths) and returns a :class:`matplotlib.figure.Figure`, so that it
works on any study and in a notebook:

- :func:`budgets.budget_totals` CE, CS and CB of the region and groups by year (Fig. 3)
- :func:`maps.choropleth_maps` any unit quantity by year, classes shared (Figs. 4-6)
- :func:`nep.nep_maps` the annual NEP grids
- :func:`indicators.indicator_chart` CBI, ECC, ESC by unit and year (Figs. 5-6)
- :func:`zoning.zone_maps`, :func:`zoning.zone_share_chart`,
  :func:`zoning.zone_transition_chart` the zones and how they change (Fig. 7)
- :func:`changes.change_chart` change between the first and last year per unit
- :func:`spatial.moran_chart`, :func:`spatial.lisa_maps` spatial autocorrelation
- :func:`trends.trend_maps` per-pixel Theil–Sen slopes of NPP and NEP, significant
  cells hatched (studies of at least 8 years)

:func:`make_figures` draws all that an output folder supports into ``DIR/figures``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd

from . import attribution, budgets, changes, indicators, maps, nep, spatial, trends, zoning
from ._folder import Results, load_results
from ._style import GENERATED_LABEL
from .. import progress

log = logging.getLogger(__name__)

#: Quantities drawn as maps, with whether they depend on NEP (i.e. generated inputs).
MAP_QUANTITIES = ("ce_t_co2", "cs_t_co2", "cb_t", "cbi", "ecc", "esc")
INDICATORS = ("cbi", "ecc", "esc")
CHANGE_QUANTITIES = ("ce_t_co2", "cs_t_co2", "cb_t", "cbi")
LISA_QUANTITIES = ("cb_t", "cbi")


@dataclass(frozen=True)
class FigureSpec:
    """One figure an output folder supports: its file stem, report section and caption."""

    stem: str
    section: str            # data, nep, budgets, indicators, zoning, changes, spatial
    caption: str
    generated: bool         # drawn from generated inputs (carries the label)
    draw: Callable[[], object]
    svg: bool = False       # maps are also written as SVG (sharp at any zoom)


def _uses_generated(quantity: str) -> bool:
    style = maps.QUANTITY_STYLES.get(quantity)
    return style.uses_sequestration if style else True


def credit(res: Results) -> str:
    """The source credit line of the maps: study, data sources, tool and method."""
    sources = res.manifest.get("sources") or []
    parts = [f"{res.name}"]
    if sources:
        parts.append("data: " + "; ".join(str(s) for s in sources[:3])
                     + (" ..." if len(sources) > 3 else ""))
    version = res.manifest.get("version")
    parts.append(f"carbon-balance {version}" if version else "carbon-balance")
    parts.append("method Fan et al. (2024), doi:10.3390/land13030297")
    return "Source: " + ", ".join(parts) + "."


def figure_specs(res: Results) -> list[FigureSpec]:
    """The figures the tables of ``res`` allow, in report order."""
    label = GENERATED_LABEL if res.generated else False
    source = credit(res)
    g = lambda depends: label if depends else False
    units, geo = res.table("units"), res.units_geo
    specs: list[FigureSpec] = []
    add = specs.append

    if res.nep_paths:
        def draw_nep():
            grids = {y: nep.read_grid(p) for y, p in res.nep_paths.items()}
            outline = geo[geo["year"] == geo["year"].min()] if geo is not None else None
            return nep.nep_maps(grids, outline, generated=label, credit=source)
        add(FigureSpec("nep_maps", "nep", "Annual NEP per grid cell [g C m-2 yr-1].",
                       res.generated, draw_nep))

    if all(f"{q}_{k}" in res.trend_paths for q in ("npp", "nep") for k in ("slope", "p")):
        add(_trend_spec(res, geo, label, source))

    region = res.table("region")
    if region is not None and "year" in region:
        add(FigureSpec("budget_totals", "budgets",
                       "Carbon emissions (CE), sequestration (CS) and budget (CB = CE - CS) "
                       "of the region and its groups by year.", res.generated,
                       lambda: budgets.budget_totals(
                           region, res.table("groups"), basis=res.basis, generated=label,
                           estimated=budgets.estimated_years(units))))
    if geo is not None:
        for q in MAP_QUANTITIES:
            if q in geo and geo[q].notna().any():
                section = "indicators" if q in INDICATORS else "budgets"
                add(FigureSpec(f"map_{q}", section,
                               f"{maps.QUANTITY_STYLES[q].title} by unit and year; "
                               "class breaks shared across years.", _uses_generated(q),
                               (lambda q=q: maps.choropleth_maps(
                                   geo, q, basis=res.basis, generated=g(_uses_generated(q)),
                                   credit=source)),
                               svg=True))
    if units is not None:
        for q in INDICATORS:
            if q in units and units[q].notna().any():
                add(FigureSpec(f"chart_{q}", "indicators",
                               f"{maps.QUANTITY_STYLES[q].title} by unit and year; the "
                               "dashed line is the zoning threshold.", _uses_generated(q),
                               lambda q=q: indicators.indicator_chart(
                                   units, q, generated=g(_uses_generated(q)))))
    if geo is not None and "zone" in geo:
        add(FigureSpec("zone_maps", "zoning", "Carbon balance zones by unit and year.",
                       res.generated, lambda: zoning.zone_maps(geo, generated=label,
                                                               credit=source), svg=True))
    shares = res.table("zone_shares")
    if shares is not None and len(shares):
        add(FigureSpec("zone_shares", "zoning", "Share of the study area in each zone [%].",
                       res.generated, lambda: zoning.zone_share_chart(shares, generated=label)))
    transitions = res.table("zone_transitions")
    if transitions is not None and len(transitions):
        add(FigureSpec("zone_transitions", "zoning",
                       "Zone transitions between study years [number of units].",
                       res.generated,
                       lambda: zoning.zone_transition_chart(transitions, generated=label)))
    ch = res.table("changes")
    if ch is not None and len(ch):
        for q in CHANGE_QUANTITIES:
            if ((ch["quantity"] == q) & (ch["level"] == "unit")).any():
                add(FigureSpec(f"change_{q}", "changes",
                               f"Change of {maps.QUANTITY_STYLES[q].title} per unit between "
                               "the first and last study years [%].", _uses_generated(q),
                               lambda q=q: changes.change_chart(
                                   ch, q, generated=g(_uses_generated(q)))))
    sg = res.table("spatial_global")
    if sg is not None and len(sg):
        add(FigureSpec("moran", "spatial", "Global Moran's I by year; filled markers are "
                       "significant.", res.generated,
                       lambda: spatial.moran_chart(sg, generated=label)))
    sl = res.table("spatial_local")
    if sl is not None and geo is not None:
        fdr = sg is not None and "significance" in sg and bool(
            (sg["significance"].astype(str) == "fdr_bh").any())
        perms = (int(pd.to_numeric(sg["permutations"], errors="coerce").max())
                 if sg is not None and "permutations" in sg and len(sg) else None)
        rule = ("false-discovery-rate adjusted p < 0.05" if fdr
                else "permutation p < 0.05, not adjusted for multiple tests")
        for q in LISA_QUANTITIES:
            if (sl["quantity"] == q).any():
                add(FigureSpec(f"lisa_{q}", "spatial",
                               f"LISA clusters of {maps.QUANTITY_STYLES[q].title.split(' = ')[0]}"
                               f" by year (queen contiguity, {rule}"
                               + (f", {perms:,} permutations)." if perms else ")."),
                               res.generated,
                               lambda q=q: spatial.lisa_maps(geo, sl, q, generated=label,
                                                             fdr=fdr, permutations=perms,
                                                             credit=source),
                               svg=True))
    specs += _attribution_specs(res, label, source)
    return specs


def _attribution_specs(res: Results, label, source: str) -> list[FigureSpec]:
    """The waterfalls and the dominant-driver map of tables/attribution*.csv (shown in
    the report's "What drove the change" section)."""
    specs = []
    groups, table = res.table("attribution_groups"), res.table("attribution")
    if groups is not None and len(groups):
        specs.append(FigureSpec(
            "attribution_waterfall", "attribution", "CS of the first year, the "
            "contribution of each driver and the interaction, CS of the second year.",
            res.generated, lambda: attribution.attribution_waterfall(groups, generated=label)))
    if table is not None and len(table) and res.units_geo is not None:
        specs.append(FigureSpec(
            "attribution_dominant_driver", "attribution", "The driver with the largest "
            "absolute contribution to each unit's CS change.", res.generated,
            lambda: attribution.dominant_driver_map(res.units_geo, table, generated=label,
                                                    credit=source), svg=True))
    return specs


def _trend_spec(res: Results, geo, label, source) -> FigureSpec:
    """The map of the per-pixel trends (report section ``trends``)."""
    def draw():
        tp = res.trend_paths
        slopes = {q: nep.read_grid(tp[f"{q}_slope"]) for q in ("npp", "nep")}
        pvalues = {q: trends.read_pvalues(tp[f"{q}_p"]) for q in ("npp", "nep")}
        outline = geo[geo["year"] == geo["year"].min()] if geo is not None else None
        ys = sorted(res.nep_paths)
        return trends.trend_maps(slopes, pvalues, outline, generated=label, credit=source,
                                 years=(ys[0], ys[-1], len(ys)) if ys else None)
    return FigureSpec("trend_maps", "trends", "Theil–Sen slope of annual NPP and NEP per grid "
                      "cell [g C m-2 yr-2]; hatched cells have a Mann–Kendall two-sided "
                      "p-value below 0.05 (not adjusted for testing every cell).",
                      res.generated, draw, svg=True)


@dataclass(frozen=True)
class MadeFigure:
    spec: FigureSpec
    png: Path
    svg: Path | None


def _stem(spec: FigureSpec) -> str:
    return spec.stem


def draw_all(res: Results, *, strict: bool = False) -> list[MadeFigure]:
    """Draw every supported figure into ``res.folder/figures``.

    A figure that fails is logged and left out (the report says so), unless ``strict``.
    """
    out = res.folder / "figures"
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for spec in progress.iterate(figure_specs(res), "figures", unit="figures", label=_stem):
        try:
            fig = spec.draw()
            png = out / f"{spec.stem}.png"
            fig.savefig(png, metadata={"Software": None})
            svg = None
            if spec.svg:
                svg = out / f"{spec.stem}.svg"
                # a fixed salt per figure: the same clip-path ids on every rerun, and
                # distinct ones between the figures of one report
                with matplotlib.rc_context({"svg.hashsalt": f"carbon-balance-{spec.stem}"}):
                    fig.savefig(svg, metadata={"Date": None})
        except Exception as exc:  # one broken figure must not lose the whole report
            if strict:
                raise
            log.warning("figure %s not drawn: %s: %s", spec.stem, type(exc).__name__, exc)
            continue
        made.append(MadeFigure(spec, png, svg))
    _remove_stale(out, {m.spec.stem for m in made})
    return made


#: File stems this module writes (other modules, e.g. uncertainty_*, are left alone).
_OWN_STEMS = ("nep_maps", "budget_totals", "map_", "chart_", "zone_maps", "zone_shares",
              "zone_transitions", "change_", "moran", "lisa_", "attribution_", "trend_maps")


def _remove_stale(out: Path, current: set[str]) -> None:
    """Delete figures of an earlier drawing that this one did not redraw (a table gone)."""
    for path in [*out.glob("*.png"), *out.glob("*.svg")]:
        if path.stem.startswith(_OWN_STEMS) and path.stem not in current:
            path.unlink()


def make_figures(folder: str | Path) -> list[Path]:
    """Read an output folder and write ``DIR/figures/*.png`` (+ ``.svg`` for the maps)."""
    made = draw_all(load_results(folder))
    return [p for m in made for p in (m.png, m.svg) if p is not None]


__all__ = [
    "attribution",
    "budgets",
    "changes",
    "draw_all",
    "figure_specs",
    "indicators",
    "load_results",
    "make_figures",
    "maps",
    "nep",
    "spatial",
    "trends",
    "zoning",
]
