"""Problems with the study's tables and polygons, found before computing (for ``validate``/``run``)."""

from __future__ import annotations

import re

import numpy as np

from ..errors import CarbonBalanceError, Problem
from .table_values import leading_zero_hint, magnitude_problems
from .unit_checks import outside_problems, overlap_problems

#: Characters special in file paths or HTML; names with them are escaped on output.
#: Characters that break file names or HTML markup. An apostrophe (Ji'an) is common in
#: place names and harmless once escaped, so it is not warned about.
SPECIAL_NAME = re.compile(r"[<>&\"/\\:*?|]")


def table_problems(study, *, required: bool = True) -> list[Problem]:
    """Every problem with ``[units]``, ``[emissions]`` and ``[gdp]`` (fatal and warnings).

    ``required=False`` (``validate``): a missing section is a note, not fatal, so that a
    study written by ``fetch`` validates before its tables are added; ``run`` needs them.
    """
    from .boundaries import load_units
    from .emissions import TO_T_CO2, load_emissions
    from .gdp import TO_YUAN, load_gdp

    problems: list[Problem] = []
    if study.units is None:
        return [Problem("the study has no [units] section" + ("" if required else
                        "; `nep` runs without it, `run` needs it"), str(study.source), "units",
                        "add [units] path, id, name (see docs/accounting.md)", fatal=required)]
    u = study.units
    upath = str(study.resolve(u.path))
    try:
        import geopandas as gpd
        units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group, layer=u.layer)
        raw = gpd.read_file(study.resolve(u.path), layer=u.layer) if u.layer else \
            gpd.read_file(study.resolve(u.path))
        present = np.array([g is not None for g in raw.geometry], dtype=bool)
        bad = present & ~raw.geometry.is_empty.to_numpy() & ~raw.geometry.is_valid.to_numpy()
        if bad.any() and u.id in raw:
            problems.append(Problem(f"invalid polygon(s) repaired with make_valid: "
                                    f"{', '.join(map(str, raw.loc[bad, u.id]))}", upath, "units.path",
                                    "check the repaired shapes, or fix them in a GIS", fatal=False))
    except CarbonBalanceError as exc:
        # the tables' own problems are still worth reporting in the same run
        return problems + list(exc.problems) + _table_read_problems(study)
    except Exception as exc:
        return problems + [Problem(f"cannot read the units file ({exc})", upath, "units.path",
                                   "give a GeoPackage, Shapefile or GeoJSON of polygons")] + \
            _table_read_problems(study)
    odd = [n for n in units.name if SPECIAL_NAME.search(n)]
    if odd:
        problems.append(Problem(f"unit names with characters special in paths or HTML: "
                                f"{', '.join(odd)}", upath, "units.name",
                                "they are escaped on output; rename them for cleaner files",
                                fatal=False))
    problems += _grid_overlap(study, units, upath)
    problems += overlap_problems(units, upath)
    ids = list(units.unit_id)
    years = study.study.years
    for sec_name, loader, fill_ok in (("emissions", load_emissions, True), ("gdp", load_gdp, True)):
        sec = getattr(study, sec_name)
        if sec is None:
            problems.append(Problem(f"the study has no [{sec_name}] section" + (
                "" if required else "; `run` needs it"), str(study.source), sec_name,
                f"add [{sec_name}] path, format, units, id", fatal=required))
            continue
        spath = str(study.resolve(sec.path))
        try:
            wide = loader(study)
        except CarbonBalanceError as exc:
            problems += list(exc.problems)
            continue
        absent = [i for i in ids if i not in wide.index]
        if absent:
            problems.append(Problem(f"units missing from the table: {', '.join(absent)}", spath,
                                    f"{sec_name}.id", f"add them, or check that {sec_name}.id "
                                    "holds the same codes as units.id" +
                                    leading_zero_hint(absent, wide.index)))
        problems += magnitude_problems(wide, units.set_index("unit_id")["area_km2"],
                                       table=sec_name, declared=sec.units, file=spath,
                                       factors=TO_T_CO2 if sec_name == "emissions" else TO_YUAN)
        present = [i for i in ids if i in wide.index]
        sub = wide.reindex(index=present, columns=years)
        gaps = [(i, y) for i in present for y in years if not np.isfinite(sub.at[i, y])]
        if gaps and (sec.fill in (None, "none")):
            listing = "; ".join(f"{i} {y}" for i, y in gaps[:15]) + (" ..." if len(gaps) > 15 else "")
            fix = ('set fill = "arima" in [gdp]' if sec_name == "gdp" else
                   "set emissions.fill (arima, naive, drift, ets or best)")
            problems.append(Problem(f"years missing without a fill rule: {listing}", spath,
                                    f"{sec_name}.fill", fix))
        if sec_name == "gdp":
            nonpos = [i for i in present if (sub.loc[i].dropna() <= 0).any()]
            if nonpos:
                problems.append(Problem(f"GDP <= 0 for: {', '.join(nonpos)}", spath, "gdp.path",
                                        "GDP must be positive; correct the values"))
    return problems


def _table_read_problems(study) -> list[Problem]:
    """Problems reading ``[emissions]`` and ``[gdp]`` alone (when the units cannot be read)."""
    from .emissions import load_emissions
    from .gdp import load_gdp

    problems: list[Problem] = []
    for sec_name, loader in (("emissions", load_emissions), ("gdp", load_gdp)):
        if getattr(study, sec_name) is None:
            continue
        try:
            loader(study)
        except CarbonBalanceError as exc:
            problems += list(exc.problems)
    return problems


def _grid_overlap(study, units, upath) -> list[Problem]:
    """Units that do not overlap the study grid (when the grid can be built)."""
    try:
        from shapely.geometry import box

        from ..grid.study_grid import study_grid
        grid = study_grid(study)
    except Exception:  # the grid's own problems are reported by grid.raster_checks
        return []
    try:
        b = grid.bounds if hasattr(grid, "bounds") else None
        if b is None:
            return []
        frame = box(*b)
        inside = units.to_crs(grid.crs).intersects(frame)
    except Exception:
        return []
    out = list(units.unit_id[~inside.to_numpy()])
    partly = outside_problems(units, b, grid.crs, upath)
    if out:
        return [Problem(f"units outside the study grid: {', '.join(out)}", upath, "units.path",
                        "extend [grid] bounds or the input rasters to cover them")] + partly
    return partly
