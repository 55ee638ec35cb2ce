"""Carbon balance indicators and zones (METHOD.md sections 4 and 5; Fan et al. 2024,
Land 13:297, doi:10.3390/land13030297).

    CB  = CE - CS                        deficit if > 0, surplus if < 0, balance if = 0
    CBI = CE / CS                        NaN (flagged in zone_reason) when CS <= 0
    ECC = (G / sum G) / (CE / sum CE)    economic contribution coefficient
    ESC = (CS / sum CS) / (CE / sum CE)  ecological support coefficient

Sums run over the units of the same year. "High" means strictly greater than the threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .constants import CO2_PER_C  # noqa: F401  (re-exported)
from .errors import InputError

SINK = "carbon sink functional zone"
LOW_CARBON_ECONOMIC = "low-carbon economic zone"
LOW_CARBON_OPTIMIZATION = "low-carbon optimization zone"
INTENSITY_CONTROL = "carbon intensity control zone"
HIGH_CARBON_OPTIMIZATION = "high-carbon optimization zone"
UNCLASSIFIED = "unclassified"
ZONES = (SINK, LOW_CARBON_ECONOMIC, LOW_CARBON_OPTIMIZATION, INTENSITY_CONTROL,
         HIGH_CARBON_OPTIMIZATION, UNCLASSIFIED)


def carbon_budget(ce, cs):
    """CB = CE - CS [basis unit]."""
    return np.asarray(ce, float) - np.asarray(cs, float)


def budget_state(cb) -> np.ndarray:
    """'deficit' (CB > 0), 'surplus' (CB < 0), 'balance' (CB = 0); '' when CB is NaN."""
    cb = np.asarray(cb, float)
    return np.select([cb > 0, cb < 0, cb == 0], ["deficit", "surplus", "balance"], "")


def carbon_balance_index(ce, cs) -> np.ndarray:
    """CBI = CE / CS [-]; NaN when CS <= 0."""
    ce, cs = np.asarray(ce, float), np.asarray(cs, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cs > 0, ce / cs, np.nan)


def _share_ratio(x, ce, x_total, ce_total) -> np.ndarray:
    """(x / sum x) / (CE / sum CE); +inf when CE = 0 and x > 0."""
    x, ce = np.asarray(x, float), np.asarray(ce, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x / x_total) / (ce / ce_total)


def economic_contribution(gdp, ce, gdp_total=None, ce_total=None) -> np.ndarray:
    """ECC_i = (G_i / sum G) / (CE_i / sum CE) [-]."""
    gdp, ce = np.asarray(gdp, float), np.asarray(ce, float)
    return _share_ratio(gdp, ce, np.nansum(gdp) if gdp_total is None else gdp_total,
                        np.nansum(ce) if ce_total is None else ce_total)


def ecological_support(cs, ce, cs_total=None, ce_total=None) -> np.ndarray:
    """ESC_i = (CS_i / sum CS) / (CE_i / sum CE) [-]; NaN when sum CS <= 0."""
    cs, ce = np.asarray(cs, float), np.asarray(ce, float)
    cs_total = np.nansum(cs) if cs_total is None else np.asarray(cs_total, float)
    ratio = _share_ratio(cs, ce, cs_total, np.nansum(ce) if ce_total is None else ce_total)
    # totals may be arrays (one per year or per Monte Carlo draw)
    return np.where(cs_total > 0, ratio, np.nan)


def zone(ce, cs, ecc, esc, *, ecc_threshold: float = 1.0, esc_threshold: float = 1.0,
         esc_usable: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Zone names and reasons (METHOD.md section 5). CE and CS in the same basis.

    ``esc_usable=False`` (the region's sum CS <= 0) leaves every unit unclassified.
    """
    ce, cs = np.asarray(ce, float), np.asarray(cs, float)
    ecc, esc = np.asarray(ecc, float), np.asarray(esc, float)
    n = ce.shape
    zones = np.full(n, UNCLASSIFIED, dtype=object)
    reasons = np.full(n, "", dtype=object)
    missing = ~(np.isfinite(ce) & np.isfinite(cs)) | np.isnan(ecc) | np.isnan(esc)
    sink = cs > ce
    high_esc = esc > esc_threshold
    high_ecc = ecc > ecc_threshold
    rules = [
        (sink & high_esc, SINK),
        (~sink & high_esc & high_ecc, LOW_CARBON_ECONOMIC),
        (~sink & high_esc & ~high_ecc, LOW_CARBON_OPTIMIZATION),
        (~sink & ~high_esc & high_ecc, INTENSITY_CONTROL),
        (~sink & ~high_esc & ~high_ecc, HIGH_CARBON_OPTIMIZATION),
    ]
    for mask, name in reversed(rules):
        zones[mask] = name
    odd = sink & ~high_esc
    zones[odd] = UNCLASSIFIED
    reasons[odd] = "CS > CE but ESC <= threshold"
    if not esc_usable:
        zones[:] = UNCLASSIFIED
        reasons[:] = "region sum CS <= 0: ESC is meaningless, not zoned"
        return zones, reasons
    zones[missing] = UNCLASSIFIED
    reasons[missing] = "missing input (CE, CS, GDP or an indicator is NaN)"
    return zones, reasons


def indicators(frame: pd.DataFrame, *, ce: str, cs: str, gdp: str, by: str = "year",
               ecc_threshold: float = 1.0, esc_threshold: float = 1.0) -> pd.DataFrame:
    """Add ``cb, cbi, ecc, esc, budget_state, zone, zone_reason`` per row (sums within ``by``).

    ``ce`` and ``cs`` must be in the same basis; no conversion is done here.
    """
    out = frame.copy()
    parts = []
    for _, g in out.groupby(by, sort=False):
        g = g.copy()
        ce_v, cs_v, gdp_v = (g[c].to_numpy(float) for c in (ce, cs, gdp))
        cs_total = np.nansum(cs_v)
        g["cb"] = carbon_budget(ce_v, cs_v)
        g["cbi"] = carbon_balance_index(ce_v, cs_v)
        g["ecc"] = economic_contribution(gdp_v, ce_v)
        g["esc"] = ecological_support(cs_v, ce_v)
        g["budget_state"] = budget_state(g["cb"].to_numpy())
        z, r = zone(ce_v, cs_v, g["ecc"].to_numpy(), g["esc"].to_numpy(),
                    ecc_threshold=ecc_threshold, esc_threshold=esc_threshold,
                    esc_usable=bool(cs_total > 0))
        r = np.asarray(r, dtype=object)
        cbi_flag = ~(cs_v > 0)
        r[cbi_flag] = [("CS <= 0: CBI undefined" + ("; " + x if x else "")) for x in r[cbi_flag]]
        g["zone"], g["zone_reason"] = z, r
        parts.append(g)
    return pd.concat(parts).loc[out.index] if parts else out


def aggregate(frame: pd.DataFrame, keys: list[str], *, ce: str, cs: str, gdp: str,
              area: str | None = None) -> pd.DataFrame:
    """Group or region rows: sums of CE, CS, GDP (and area), CB = sum CE - sum CS,
    CBI = sum CE / sum CS (METHOD.md section 4)."""
    cols = {c: "sum" for c in (ce, cs, gdp) + ((area,) if area else ())}
    g = frame.groupby(keys, sort=False).agg({**cols}).reset_index()
    g["n_units"] = frame.groupby(keys, sort=False).size().to_numpy()
    g["cb"] = carbon_budget(g[ce], g[cs])
    g["cbi"] = carbon_balance_index(g[ce], g[cs])
    g["budget_state"] = budget_state(g["cb"].to_numpy())
    return g


ZONING_INPUT = ("unit_id", "year", "ce", "cs", "gdp")


def zone_table(table: pd.DataFrame, *, ecc_threshold: float = 1.0, esc_threshold: float = 1.0,
               file: str = "<table>") -> pd.DataFrame:
    """Zone a user table (``unit_id, year, ce, cs, gdp`` [+ ``area_km2, group``])."""
    missing = [c for c in ZONING_INPUT if c not in table.columns]
    if missing:
        raise InputError(f"column(s) missing: {', '.join(missing)}", file=file, key=missing[0],
                         fix="the table needs unit_id, year, ce, cs, gdp (ce and cs in the same "
                         "carbon units)")
    if table.empty:
        raise InputError("the table has no rows", file=file,
                         fix="give one row per unit and year (unit_id, year, ce, cs, gdp)")
    no_year = table["year"].isna().to_numpy()
    if no_year.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(no_year)[:10])
        raise InputError(f"year missing on line(s) {rows}", file=file, key="year",
                         fix="give every row a year (the indicators sum over the units of a year)")
    t = table.copy()
    for c in ("ce", "cs", "gdp"):
        t[c] = pd.to_numeric(t[c], errors="coerce")
    if (t["gdp"] <= 0).any():
        bad = t.loc[t.gdp <= 0, "unit_id"].map(str).unique()
        raise InputError(f"GDP <= 0 for unit(s) {', '.join(bad)}", file=file, key="gdp",
                         fix="GDP must be positive")
    out = indicators(t, ce="ce", cs="cs", gdp="gdp", ecc_threshold=ecc_threshold,
                     esc_threshold=esc_threshold)
    return out


def zone_table_file(table, out, *, ecc_threshold: float = 1.0, esc_threshold: float = 1.0,
                    overwrite: bool = False):
    """``carbon-balance zoning TABLE.csv --out OUT.csv``: write the table with the indicators."""
    from pathlib import Path

    from .output_guard import check_output_file

    table, out = Path(table), Path(out)
    check_output_file(out, overwrite, inputs=[table])
    if not table.exists():
        raise InputError("table not found", file=table, fix="check the path")
    try:
        frame = pd.read_csv(table)
    except Exception as exc:
        raise InputError(f"cannot read the CSV ({exc})", file=table, fix="give a CSV file") from None
    result = zone_table(frame, ecc_threshold=ecc_threshold, esc_threshold=esc_threshold,
                        file=str(table))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    result.to_csv(tmp, index=False)
    tmp.replace(out)
    return out
