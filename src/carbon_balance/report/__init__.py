"""The self-contained HTML report of an output folder (``DIR/report.html``).

One file that opens in any browser without a network: figures are inline PNG data URIs,
styles are inline, nothing is loaded from elsewhere. It opens on a one-screen summary
(:mod:`.summary`), then the sections, with the provenance last and folded. Table cells
are formatted for people (:mod:`.format`: display units in the headers, thousands
separators, four significant figures); the exact CSV text of each number is its cell's
``title`` and stays in ``DIR/tables``. Estimated values (emissions filled by a forecast,
GDP filled) are marked wherever they show. Unit names and every other value are
HTML-escaped by jinja2's autoescaping.
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from ..analysis.spatial import ALPHA, MIN_UNITS
from .. import progress
from ..errors import InputError
from ..figures import draw_all
from ..figures._folder import Results, load_results
from ..figures.maps import basis_unit
from ..figures._style import ZONE_ORDER
from .columns import column_label, is_numeric_column
from .format import format_column, header_unit
from .summary import build_summary

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
#: Sections in order: id, title, depends on generated inputs.
SECTIONS = [
    ("nep", "Net ecosystem productivity (NEP)", True),
    ("budgets", "Carbon budgets", True),
    ("indicators", "Carbon balance indicators", True),
    ("zoning", "Carbon balance zoning", True),
    ("changes", "Changes and shares", True),
    ("spatial", "Spatial autocorrelation", True),
    ("data", "Data and provenance", False),
]
#: Columns whose value in a row is estimated when that row's CE (or GDP) is estimated.
CE_DERIVED = ("ce_t_co2", "ce_t_c", "ce_low_t_co2", "ce_high_t_co2", "cb_t", "cbi", "ecc")
GDP_DERIVED = ("gdp_yuan", "ecc")
#: Tables longer than this are folded into a <details> element.
FOLD_ROWS = 40

#: Method references (DOIs as text: the report links to nothing outside itself).
REFERENCES = [
    ("Fan Y., Wang Y., Han R., Li X. (2024) Spatial-temporal dynamics of carbon budgets and "
     "carbon balance zoning: a case study of the Middle Reaches of the Yangtze River Urban "
     "Agglomerations, China. Land 13:297. doi:10.3390/land13030297"),
    "Potter C. et al. (1993) Global Biogeochemical Cycles 7:811. doi:10.1029/93GB02725",
    "Zhu W., Pan Y., Zhang J. (2007) J. Plant Ecol. (Chinese) 31:413",
    "Zhu W. et al. (2006) Chinese Science Bulletin 51:457",
    "Zhou G., Zhang X. (1995) Acta Phytoecologica Sinica 19:193",
    "Thornthwaite C.W. (1948) Geographical Review 38:55",
    "Pei Z. et al. (2009) J. Integr. Plant Biol. 51:521",
    ("Chen J. et al. (2020) County-level CO2 emissions and sequestration in China during "
     "1997-2017. Scientific Data 7:391. doi:10.1038/s41597-020-00736-3"),
    ("Anselin L. (1995) Local indicators of spatial association - LISA. Geographical "
     "Analysis 27:93. doi:10.1111/j.1538-4632.1995.tb00338.x"),
]


def _env() -> jinja2.Environment:
    # autoescape on for every template: unit names come from user files
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)


def _text_table(folder: Path, name: str) -> pd.DataFrame | None:
    """A CSV of ``tables/`` with every cell as the text written in the file."""
    path = folder / "tables" / f"{name}.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def table_view(df: pd.DataFrame | None, *, caption: str, columns: list[str] | None = None,
               basis: str = "CO2", generated: bool = False, note: str = "",
               fold: bool | None = None, estimated: dict | None = None,
               raw: bool = False) -> dict | None:
    """What the template needs to draw one table (headers with units, formatted cells).

    ``estimated`` maps ``"ce"`` and ``"gdp"`` to sets of ``(unit_id, year)`` whose value is
    estimated: the cells of :data:`CE_DERIVED` (:data:`GDP_DERIVED`) of those rows are
    marked. ``raw`` shows the CSV text unchanged (hashes, file sizes).
    """
    if df is None:
        return None
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    unit = basis_unit(basis)
    heads, texts = [], []
    for c in cols:
        label = column_label(c, unit)
        numeric = is_numeric_column(c)
        if numeric and not raw:
            du, cells = format_column(c, df[c].tolist(), unit)
            label = header_unit(label, du)
        else:
            cells = ["" if v is None else str(v) for v in df[c].tolist()]
        heads.append({"code": c, "label": label, "numeric": numeric})
        texts.append(cells)
    marks = [[False] * len(cols) for _ in range(len(df))]
    keyed = estimated and "unit_id" in df and "year" in df
    if keyed:
        keys = list(zip(df["unit_id"].astype(str), pd.to_numeric(df["year"], errors="coerce")))
        for kind, derived in (("ce", CE_DERIVED), ("gdp", GDP_DERIVED)):
            flagged = estimated.get(kind) or set()
            idx = [j for j, c in enumerate(cols) if c in derived]
            for i, k in enumerate(keys):
                if k in flagged:
                    for j in idx:
                        marks[i][j] = True
    raw_cells = df[cols].astype(str).to_numpy().tolist()
    rows = [[{"text": texts[j][i], "title": raw_cells[i][j] if heads[j]["numeric"] else "",
              "est": marks[i][j]} for j in range(len(cols))] for i in range(len(df))]
    return {
        "caption": caption,
        "columns": heads,
        "rows": rows,
        "n_rows": len(df),
        "fold": len(df) > FOLD_ROWS if fold is None else fold,
        "generated": generated,
        "note": note,
        "has_estimates": any(any(r) for r in marks),
    }


def _estimated_keys(units: pd.DataFrame | None) -> dict:
    """{"ce": {(unit_id, year)}, "gdp": {...}} of the estimated values of ``units.csv``."""
    out = {"ce": set(), "gdp": set()}
    if units is None:
        return out
    for kind, col in (("ce", "ce_estimated"), ("gdp", "gdp_estimated")):
        if col in units:
            rows = units[_is_true(units[col])]
            out[kind] = set(zip(rows["unit_id"].astype(str),
                                pd.to_numeric(rows["year"], errors="coerce")))
    return out


def _is_true(series: pd.Series) -> pd.Series:
    return series.str.strip().str.lower().isin(["true", "1", "yes"])


def _estimated(units: pd.DataFrame | None) -> dict:
    """Which emissions and GDP values are estimated, not observed (from ``units.csv``)."""
    out: dict = {"ce": None, "gdp": None, "summary": []}
    if units is None:
        return out
    if "ce_estimated" in units:
        rows = units[_is_true(units["ce_estimated"])]
        cols = ["unit_id", "name", "year", "ce_t_co2", "ce_low_t_co2", "ce_high_t_co2",
                "ce_method"]
        if len(rows):
            out["ce"] = rows
            for year, g in rows.groupby("year"):
                methods = g["ce_method"].value_counts() if "ce_method" in g else pd.Series()
                how = ", ".join(f"{m} {n}" for m, n in methods.items() if m)
                out["summary"].append(f"Emissions {year}: {len(g)} unit(s) estimated"
                                      + (f" ({how})" if how else ""))
        out["ce_cols"] = cols
    if "gdp_estimated" in units:
        rows = units[_is_true(units["gdp_estimated"])]
        if len(rows):
            out["gdp"] = rows
            names = sorted(set(rows["name"]))
            out["summary"].append(f"GDP estimated for {len(names)} unit(s): " + ", ".join(names))
    return out


def _figure_views(made, section: str) -> list[dict]:
    views = []
    for m in made:
        if m.spec.section != section:
            continue
        data = base64.b64encode(m.png.read_bytes()).decode("ascii")
        views.append({"stem": m.spec.stem, "caption": m.spec.caption,
                      "generated": m.spec.generated, "src": f"data:image/png;base64,{data}"})
    return views


def _optional_section(res: Results, text, tables: tuple, figure_prefix: str) -> dict | None:
    """Tables and figures of an optional section: ``tables`` are (name, caption) pairs, the
    first of which must exist; figures are the folder's ``figures/{figure_prefix}*.png``."""
    if text(tables[0][0]) is None:
        return None
    figures = []
    for png in sorted((res.folder / "figures").glob(f"{figure_prefix}*.png")):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        figures.append({"stem": png.stem, "caption": png.stem.replace("_", " "),
                        "generated": res.generated, "src": f"data:image/png;base64,{data}"})
    views = [table_view(text(n), caption=cap, basis=res.basis, generated=res.generated)
             for n, cap in tables]
    return {"tables": [t for t in views if t], "figures": figures}


def _uncertainty(res: Results, text) -> dict | None:
    """The optional uncertainty section (issue 7): zone probabilities and its figures."""
    return _optional_section(res, text, (
        ("zone_probabilities", "Probability of each zone per unit and year"),
        ("intervals", "Intervals of the results (quantiles of the draws)"),
        ("sensitivity", "Sensitivity of the results to each parameter")), "uncertainty_")


def _reference(res: Results, text) -> dict | None:
    """The optional check against an independent NPP product ([reference] of the study
    file, issue 13): pixel statistics, the per-unit comparison and their figures."""
    return _optional_section(res, text, (
        ("reference_stats", "Pixel statistics of the study's NPP against the reference "
         "product (bias = study - reference)"),
        ("reference_comparison", "Mean NPP over each unit's vegetated area: study and "
         "reference")), "reference_")


def _attribution(res: Results, text) -> dict | None:
    """The optional "What drove the change" section (issue 16): tables/attribution.csv,
    attribution_groups.csv and the figures figures/attribution_*.png."""
    section = _optional_section(res, text, (
        ("attribution_groups", "Contributions to the CS change of the region and groups "
         "[t C], and the CB change"),
        ("attribution", "Contributions to the CS change of each unit [t C], and the CB "
         "change")), "attribution_")
    if section is not None:
        t = res.table("attribution")
        section["years"] = (int(t.from_year.iloc[0]), int(t.to_year.iloc[0]))
    return section


def _trends(res: Results, text, made) -> dict | None:
    """The optional trends section (issue 16; studies of at least 8 years): the map of the
    per-pixel slopes and tables/trends.csv, the region and groups apart from the units."""
    df = text("trends")
    if df is None and not _figure_views(made, "trends"):
        return None
    cols = ["unit_id", "name", "quantity", "units", "year_from", "year_to", "n_years",
            "slope_per_yr", "p_value", "tau", "significant", "direction"]
    gen = res.generated
    tables = [] if df is None else [
        table_view(df[df["level"] != "unit"], caption="Trends of the region and groups "
                   "(Theil–Sen slope per year, Mann–Kendall test)", columns=cols,
                   basis=res.basis, generated=gen),
        table_view(df[df["level"] == "unit"], caption="Trends by unit", columns=cols,
                   basis=res.basis, generated=gen)]
    return {"figures": _figure_views(made, "trends"), "tables": [t for t in tables if t]}


def _spatial_method(sg: pd.DataFrame | None, sl: pd.DataFrame | None) -> str:
    """How the spatial tests were made: permutations and the significance rule."""
    if sg is None or sg.empty:
        return ""
    perms = pd.to_numeric(sg.get("permutations"), errors="coerce").dropna()
    n = f"{int(perms.max()):,}" if len(perms) else "an unknown number of"
    fdr = "significance" in sg and (sg["significance"].astype(str) == "fdr_bh").any()
    rule = ("LISA clusters are labelled where the false-discovery-rate adjusted p-value "
            "(Benjamini and Hochberg 1995, over the units of each quantity and year) is "
            f"below {ALPHA:g}" if fdr else
            f"LISA clusters are labelled where the permutation p-value is below {ALPHA:g}, "
            "without a correction for testing every unit")
    text = (f"Global and local Moran's I with {n} conditional permutations (queen "
            f"contiguity, row-standardised weights). {rule}.")
    units = pd.to_numeric(sg.get("n_units"), errors="coerce").dropna()
    if fdr and len(perms) and len(units):
        # a unit at the smallest p-value, 1 / (permutations + 1), alone among the n tests
        # has the adjusted value n / (permutations + 1) (Benjamini-Hochberg, rank 1)
        floor = float(units.max()) / (float(perms.max()) + 1)
        if floor >= ALPHA:
            need = int(np.ceil(float(units.max()) / ALPHA))
            text += (f" With {int(units.max())} units and these permutations, a unit that "
                     f"stands out alone keeps an adjusted p-value of at least {floor:.2g}, "
                     f"above {ALPHA:g}: only groups of units can show as clusters; at least "
                     f"{need:,} permutations are needed for a single one.")
    return text


def _spatial_warning(sg: pd.DataFrame | None) -> str:
    """A warning when the tests ran on fewer units than :data:`MIN_UNITS`."""
    if sg is None or sg.empty or "n_units" not in sg:
        return ""
    n = pd.to_numeric(sg["n_units"], errors="coerce").dropna()
    if n.empty or int(n.min()) >= MIN_UNITS:
        return ""
    return (f"Only {int(n.min())} units entered the spatial tests (fewer than {MIN_UNITS}): "
            "a permutation test on so few units has little power and a LISA cluster "
            "rests on a handful of neighbours, so read these results as descriptive.")


def report_context(res: Results, made) -> dict:
    """Everything the template shows, as plain Python values."""
    folder, basis, gen = res.folder, res.basis, res.generated
    text = lambda n: _text_table(folder, n)
    units = text("units")
    est = _estimated(units)
    keys = _estimated_keys(units)
    t = lambda *a, **k: table_view(*a, basis=basis, estimated=keys, **k)
    manifest = res.manifest
    inputs = pd.DataFrame(manifest.get("inputs") or [], columns=["path", "sha256", "bytes"])
    inputs = inputs.astype(str)
    study_text = ((folder / "study.toml").read_text(encoding="utf-8")
                  if (folder / "study.toml").exists() else "")
    changes = text("changes")
    tables = {
        "data": [
            t(inputs if len(inputs) else None, caption="Input files and their sha256 "
              "(from manifest.json)", columns=["path", "sha256", "bytes"], raw=True,
              fold=len(inputs) > 5),
            t(text("emissions_backtest"), caption="Backtest of the emission gap-filling "
              "methods: error when forecasting held-out years"),
            t(est["ce"], caption="Estimated emissions (not in the inventory)",
              columns=est.get("ce_cols")),
            t(est["gdp"], caption="Estimated GDP (not in the statistics)",
              columns=["unit_id", "name", "year", "gdp_yuan"]),
            t(text("emissions"), caption="Emissions by unit and year, with method and "
              "95 % interval"),
            t(text("ndvi_bounds"), caption="NDVI bounds per vegetation class and year",
              generated=gen),
        ],
        "nep": [t(units, caption="Productivity and carbon sequestration by unit",
                  columns=["unit_id", "name", "year", "area_km2", "vegetated_area_km2",
                           "npp_mean_g_c_m2", "nep_mean_g_c_m2", "cs_t_c", "cs_t_co2"],
                  generated=gen)],
        "budgets": [
            t(text("region"), caption="Region totals by year", generated=gen),
            t(text("groups"), caption="Group totals by year", generated=gen),
            t(units, caption="Carbon budget by unit and year",
              columns=["unit_id", "name", "group", "year", "ce_t_co2", "ce_estimated",
                       "cs_t_co2", "cb_t", "budget_state"], generated=gen),
        ],
        "indicators": [t(units, caption="Indicators by unit and year",
                         columns=["unit_id", "name", "year", "gdp_yuan", "gdp_estimated",
                                  "cbi", "ecc", "esc"], generated=gen)],
        "zoning": [
            t(text("zone_shares"), caption="Zone shares of the study area", generated=gen),
            t(text("zone_transitions"), caption="Zone transitions between years",
              generated=gen),
            t(units, caption="Zone of each unit and year",
              columns=["unit_id", "name", "year", "budget_state", "zone", "zone_reason"],
              generated=gen),
        ],
        "changes": [
            t(changes[changes["level"] != "unit"] if changes is not None else None,
              caption="Changes of the region and groups", generated=gen),
            t(changes[changes["level"] == "unit"] if changes is not None else None,
              caption="Changes by unit", generated=gen),
        ],
        "spatial": [
            t(text("spatial_global"), caption="Global Moran's I (queen contiguity, "
              "row-standardised weights, permutation p-value)", generated=gen),
            t(text("spatial_local"), caption="Local Moran's I (LISA) by unit",
              generated=gen),
        ],
    }
    missing_note = {
        "spatial": "No spatial autocorrelation tables in this folder." if text(
            "spatial_global") is None else "",
        "changes": "No changes table in this folder." if changes is None else "",
        "zoning": "No zoning tables in this folder." if text("zone_shares") is None else "",
    }
    warnings = {"spatial": _spatial_warning(res.table("spatial_global"))}
    if text("spatial_global") is not None:
        missing_note["spatial"] = _spatial_method(res.table("spatial_global"),
                                                  res.table("spatial_local"))
    sections = []
    for sid, title, depends in SECTIONS:
        sections.append({"id": sid, "title": title, "generated": gen and depends,
                         "figures": _figure_views(made, sid),
                         "tables": [x for x in tables.get(sid, []) if x],
                         "note": missing_note.get(sid, ""),
                         "warning": warnings.get(sid, "")})
    return {
        "name": res.name,
        "description": str((res.study.get("study") or {}).get("description", "")
                           or (res.parameters.get("study") or {}).get("description", "") or ""),
        "generated": gen,
        "generated_note": res.generated_note,
        "basis": basis,
        "basis_unit": basis_unit(basis),
        "manifest": {k: manifest.get(k, "") for k in ("tool", "version", "command",
                                                       "created_utc", "python", "note")},
        "sources": manifest.get("sources") or [],
        "study_text": study_text,
        "estimated_summary": est["summary"],
        "references": REFERENCES,
        "sections": sections,
        "uncertainty": _uncertainty(res, text),
        "reference": _reference(res, text),
        "attribution": _attribution(res, text),
        "trends": _trends(res, text, made),
        "summary": build_summary(res, zone_order=ZONE_ORDER, basis_unit=basis_unit(basis)),
        "spatial_warning": warnings["spatial"],
    }


def render_report(res: Results, made) -> str:
    """The report's HTML text."""
    return _env().get_template("report.html.j2").render(**report_context(res, made))


def build_report(folder: str | Path) -> Path:
    """(Re)make the figures of an output folder and write ``DIR/report.html``."""
    folder = Path(folder)
    res = load_results(folder)
    if res.table("units") is None:
        raise InputError("no tables/units.csv in the output folder", file=folder,
                         fix="give the folder written by `carbon-balance run` or `demo`")
    made = draw_all(res)
    progress.begin("report")   # uncertainty and reference figures, report.html
    if res.table("zone_probabilities") is not None:
        from ..figures.uncertainty import write_uncertainty_figures

        write_uncertainty_figures(folder)
    if res.table("reference_comparison") is not None:
        from ..figures.reference import reference_figures

        reference_figures(folder)
    html = render_report(res, made)
    path = folder / "report.html"
    tmp = folder / ".report.html.partial"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a report
    log.info("report written: %s (%d figures)", path, len(made))
    return path


__all__ = ["build_report", "render_report", "report_context", "table_view"]
