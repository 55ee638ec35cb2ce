"""The effect of the IGBP savanna crosswalks and of the fill method on the demo.

Run from the repository root:  python benchmarks/class_table_effect.py [WORKDIR]
Generates the demo inputs into WORKDIR (default: a temporary folder), then runs
``carbon-balance run --no-report`` once per variant and prints region CS per study year
[Mt C], the 2020 region CE [Mt CO2] and CBI, the carbon sink functional zones of the first and
last year and the number of city-years whose zone differs from the default run. Variants (docs/method.md, "Crosswalk decisions"):

- ``default``: the shipped tables (woody savannas and savannas -> sparse woodland,
  eps_max 0.542), fill = arima;
- ``shrub-eps``: both -> shrub (eps_max 0.429, the same NDVI row and the same percentile
  pool as sparse woodland on the demo, which has no IGBP shrubland): the earlier tables;
- ``woody-mixed``: woody savannas -> needleleaf-broadleaf mixed forest (0.475);
- ``woody-broadleaf-mixed``: woody savannas -> evergreen-deciduous broadleaf mixed forest
  (0.768), the type the CAS LUCC and CLCD forest classes take;
- ``bounds-table``: the default tables, ``[casa] ndvi_bounds = "table"`` (Zhu et al. 2007);
- ``fill-naive``: the default tables, fill = naive.

Every run is the full chain on GENERATED NDVI and climate (docs/demo.md): the figures
show what the choices do to this tool's results, not to the real cities.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

from carbon_balance.demo import demo_inputs

VARIANTS = {  # name: ({IGBP code: CASA code}, fill, [casa] ndvi_bounds, ndvi_bounds_pool)
    "default": ({}, "arima", "percentile", "study"),
    "bounds-per-year": ({}, "arima", "percentile", "year"),
    "bounds-zhu": ({}, "arima", "zhu", "study"),
    "bounds-table": ({}, "arima", "table", "study"),
    "shrub-eps": ({8: 7, 9: 7}, "arima", "percentile", "study"),
    "woody-mixed": ({8: 5}, "arima", "percentile", "study"),
    "woody-broadleaf-mixed": ({8: 6}, "arima", "percentile", "study"),
    "fill-naive": ({}, "naive", "percentile", "study"),
}


def _write_variant(folder: Path, name: str, remap: dict, fill: str, bounds: str,
                   pool: str = "study") -> Path:
    study = (folder / "study.toml").read_text()
    if remap:
        lines = []
        shipped = resources.files("carbon_balance.casa").joinpath("tables", "modis-igbp.csv")
        for line in shipped.read_text(encoding="utf-8").splitlines():
            code = line.split(",", 1)[0]
            if not line.startswith("#") and code.isdigit() and int(code) in remap:
                parts = line.split(",", 3)
                parts[2] = str(remap[int(code)])
                line = ",".join(parts)
            lines.append(line)
        (folder / f"igbp_{name}.csv").write_text("\n".join(lines) + "\n")
        study = study.replace('classes = "modis-igbp"', f'classes = "igbp_{name}.csv"')
    study = re.sub(r'fill = "arima"', f'fill = "{fill}"', study, count=1)
    study = re.sub(r'ndvi_bounds = "percentile"', f'ndvi_bounds = "{bounds}"', study, count=1)
    if pool != "study":
        study = re.sub(r'(ndvi_bounds = "[a-z]+")', rf'\1\nndvi_bounds_pool = "{pool}"', study,
                       count=1)
    path = folder / f"study_{name}.toml"
    path.write_text(study)
    return path


def cropland_share(out: Path, inputs: Path, years) -> dict[int, float]:
    """Share [%] of region CS on cropland cells (CASA type 10) of a run in ``out``, by the
    cell-centre rule (the shares only; CS itself uses exact coverage)."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    from rasterio.features import rasterize
    from rasterio.warp import Resampling, reproject

    from carbon_balance.accounting.zonal import cell_areas_m2
    from carbon_balance.casa import to_casa_codes

    shares = {}
    for year in years:
        with rasterio.open(out / "grids" / str(year) / "nep.tif") as src:
            nep, transform, crs = src.read(1).astype(float), src.transform, src.crs
        landcover = np.full(nep.shape, 255, dtype=np.uint8)
        (path,) = (inputs / "landcover").glob("*.tif")
        with rasterio.open(path) as src:  # the grid engine's nearest/mode pick, at 5x finer
            reproject(src.read(1), landcover, src_transform=src.transform, src_crs=src.crs,
                      dst_transform=transform, dst_crs=crs, resampling=Resampling.nearest)
        types = to_casa_codes(landcover, "modis-igbp")
        units = gpd.read_file(out / "units.gpkg", layer=f"units_{year}").to_crs(crs)
        inside = rasterize([(g, 1) for g in units.geometry], out_shape=nep.shape,
                           transform=transform, fill=0).astype(bool)
        carbon = np.where(inside & np.isfinite(nep), nep, 0.0) * cell_areas_m2(nep.shape, transform, crs)
        shares[year] = round(float(carbon[types == 10].sum() / carbon.sum() * 100), 1)
    return shares


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="cb-classes-"))
    inputs = work / "inputs"
    demo_inputs(inputs)
    results = {}
    for name, (remap, fill, bounds, pool) in VARIANTS.items():
        study = _write_variant(inputs, name, remap, fill, bounds, pool)
        out = work / "out" / name
        if not (out / "tables" / "units.csv").exists():
            subprocess.run([sys.executable, "-m", "carbon_balance", "run", str(study), "--out",
                            str(out), "--no-report", "--overwrite", "--workers", "1"],
                           check=True, env=dict(os.environ), capture_output=True)
        results[name] = (pd.read_csv(out / "tables" / "region.csv"),
                         pd.read_csv(out / "tables" / "units.csv", dtype={"unit_id": str}))
    base_units = results["default"][1].set_index(["unit_id", "year"]).zone
    years = results["default"][0].year.tolist()
    rows = []
    for name, (region, units) in results.items():
        cs = region.set_index("year").cs_t_c / 1e6
        zones = units.set_index(["unit_id", "year"]).zone
        rows.append({"variant": name, **{f"CS {y} [Mt C]": round(cs[y], 1) for y in years},
                     "CS change first-last [%]": round((cs[years[-1]] - cs[years[0]])
                                                       / abs(cs[years[0]]) * 100, 1),
                     "CE 2020 [Mt CO2]": round(region.set_index("year").ce_t_co2[years[-1]] / 1e6, 1),
                     "CBI 2020": round(region.set_index("year").cbi[years[-1]], 2),
                     "sink zones first/last": "{} / {}".format(*(
                         int((units[units.year == y].zone == "carbon sink functional zone").sum())
                         for y in (years[0], years[-1]))),
                     "city-years with another zone": int((zones != base_units).sum())})
    print(pd.DataFrame(rows).to_string(index=False))
    print("share of region CS on cropland cells (default run) [%]:",
          cropland_share(work / "out" / "default", inputs, years))


if __name__ == "__main__":
    main()
