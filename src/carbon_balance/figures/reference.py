"""The CASA NPP beside an independent product: a density scatter of the pixel pairs and a
map of the per-unit difference (from ``tables/reference_*.csv`` of an output folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._mapframe import frame_map
from ._style import new_figure, style


def reference_scatter(pixels: pd.DataFrame, stats: pd.DataFrame | None = None) -> Figure:
    """Hexbin density of CASA NPP against the reference NPP [g C m-2 yr-1], with the 1:1 line."""
    with style():
        fig = new_figure(5.0, 4.4)
        ax = fig.add_subplot()
        x = pixels["reference_npp_g_c_m2"].to_numpy(float)
        y = pixels["npp_g_c_m2"].to_numpy(float)
        if len(x):
            hb = ax.hexbin(x, y, gridsize=40, mincnt=1, bins="log", cmap="viridis")
            fig.colorbar(hb, ax=ax, label="pixels")
            lo, hi = float(np.nanmin([x.min(), y.min()])), float(np.nanmax([x.max(), y.max()]))
            ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls="--", label="1:1")
            ax.legend(loc="upper left", frameon=False)
        ax.set_xlabel("reference NPP [g C m$^{-2}$ yr$^{-1}$]")
        ax.set_ylabel("CASA NPP [g C m$^{-2}$ yr$^{-1}$]")
        if stats is not None and len(stats):
            s = stats[stats["year"].astype(str) == "all"]
            s = s.iloc[0] if len(s) else stats.iloc[-1]
            ax.set_title(f"bias {s.bias_g_c_m2:.0f}, RMSE {s.rmse_g_c_m2:.0f} g C m$^{{-2}}$ yr$^{{-1}}$, "
                         f"R$^2$ {s.r2:.2f}, n {int(s.n)}", fontsize=9)
        return fig


def reference_difference_map(units_geo, table: pd.DataFrame, year: int) -> Figure:
    """Per-unit difference (CASA - reference) / reference [%] in ``year``."""
    with style():
        fig = new_figure(5.5, 4.4)
        ax = fig.add_subplot()
        rows = table[table["year"] == year][["unit_id", "difference_percent"]]
        geo = units_geo.merge(rows, on="unit_id", how="left")
        lim = float(np.nanmax(np.abs(geo["difference_percent"]))) if geo["difference_percent"].notna().any() else 1.0
        geo.plot(column="difference_percent", ax=ax, cmap="RdBu_r", vmin=-lim, vmax=lim,
                 legend=True, edgecolor="0.4", linewidth=0.3,
                 legend_kwds={"label": "CASA vs reference NPP [%]"},
                 missing_kwds={"color": "0.85", "label": "no data"})
        frame_map(ax, units_geo.crs, units_geo.total_bounds, index=0, cols=1, n=1)
        ax.set_title(f"NPP difference from the reference, {year}", fontsize=9)
        return fig


def reference_figures(folder: str | Path) -> list[Path]:
    """Write figures/reference_scatter.png and figures/reference_difference_{year}.png (the
    last study year) when the folder has tables/reference_comparison.csv; else nothing."""
    import geopandas as gpd

    folder = Path(folder)
    tables = folder / "tables"
    if not (tables / "reference_comparison.csv").is_file():
        return []
    table = pd.read_csv(tables / "reference_comparison.csv", dtype={"unit_id": str})
    stats = pd.read_csv(tables / "reference_stats.csv", dtype={"year": str})
    pixels = pd.read_csv(tables / "reference_pixels.csv")
    out_dir = folder / "figures"
    out_dir.mkdir(exist_ok=True)
    paths = []
    fig = reference_scatter(pixels, stats)
    paths.append(out_dir / "reference_scatter.png")
    fig.savefig(paths[-1], dpi=150)
    if (folder / "units.gpkg").is_file() and len(table):
        year = int(table["year"].max())
        geo = gpd.read_file(folder / "units.gpkg", layer=f"units_{year}")[["unit_id", "geometry"]]
        geo["unit_id"] = geo["unit_id"].astype(str)
        fig = reference_difference_map(geo, table, year)
        paths.append(out_dir / f"reference_difference_{year}.png")
        fig.savefig(paths[-1], dpi=150)
    return paths
