"""Exact partial-cell coverage against the cell-centre rule on a run's NEP grids.

Run from the repository root:  python benchmarks/zonal_method_effect.py OUTPUT_FOLDER
(an output folder of ``carbon-balance run`` or ``carbon-balance demo``). Sums the annual
NEP grids over the units of ``units.gpkg`` both ways (``[accounting] method = "exact"``,
the default, and ``"centres"``) and prints the relative difference of CS per unit-year
(median and largest) and of the region per year. On the demo the NEP is computed from
GENERATED NDVI and climate (docs/demo.md); the difference depends on the grid and the
unit outlines, not on the NEP values' realism.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np

from carbon_balance.accounting.zonal import zonal_carbon


def main(folder: Path) -> None:
    years = sorted(int(p.name) for p in (folder / "grids").iterdir() if p.name.isdigit())
    units = gpd.read_file(folder / "units.gpkg", layer=f"units_{years[0]}")[["unit_id", "geometry"]]
    grids = {y: {k: folder / "grids" / str(y) / f"{k}.tif" for k in ("npp", "nep")} for y in years}
    exact = zonal_carbon(units, grids)
    centres = zonal_carbon(units, grids, method="centres")
    rel = np.abs(centres.cs_t_c - exact.cs_t_c) / exact.cs_t_c.abs()
    print(f"unit-years: {len(rel)}; |centres - exact| / |exact| of CS: median "
          f"{100 * rel.median():.2f} %, largest {100 * rel.max():.2f} %")
    for y in years:
        e, c = exact.cs_t_c[exact.year == y].sum(), centres.cs_t_c[centres.year == y].sum()
        print(f"{y}: region CS exact {e / 1e6:.3f} Mt C, centres {c / 1e6:.3f} Mt C "
              f"({100 * (c / e - 1):+.3f} %)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
