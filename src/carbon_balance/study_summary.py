"""The paragraph ``validate`` ends with: what the study is (issue 15, item 4).

Grid, CRS, extent, years, units, inputs and tables, as far as they can be read; a part
that cannot be read is said to be so (its problem is listed above the paragraph).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _grid(study) -> str:
    try:
        from .grid.study_grid import study_grid
        g = study_grid(study)
    except Exception:   # its problem is reported by the raster checks
        return "the study grid could not be built"
    b = ", ".join(f"{v:.6g}" for v in g.bounds)
    return f"grid {g.describe()}, extent ({b})"


def _units(study) -> str:
    if study.units is None:
        return "no [units]"
    try:
        from .accounting.boundaries import load_units
        u = study.units
        units = load_units(study.resolve(u.path), id=u.id, name=u.name, group=u.group,
                           layer=u.layer)
    except Exception:
        return f"units from {u.path} (unreadable)"
    return f"{len(units)} units ({units.area_km2.sum():,.0f} km²) from {u.path}"


def study_summary(study) -> str:
    """One paragraph describing ``study``."""
    s = study.study
    years = s.years
    span = f"{len(years)} year(s) {years[0]}–{years[-1]}" if len(years) > 1 else f"year {years[0]}"
    first = f"Study '{s.name}': {span}"
    sentences = []
    if study.inputs is not None:
        first += f"; {_grid(study)}"
        inputs = study.inputs
        sentences.append("Inputs: " + "; ".join(
            f"{name} {getattr(inputs, name).path}" +
            (f" [{getattr(inputs, name).units}]" if getattr(inputs, name).units else "")
            for name in ("ndvi", "temperature", "precipitation", "radiation", "vegetation")))
    else:
        first += "; no [inputs] (tables only)"
    tables = [_units(study)]
    for key in ("emissions", "gdp"):
        sec = getattr(study, key)
        if sec is not None:
            tables.append(f"{key} {sec.path} ({sec.format}, {sec.units}, fill {sec.fill})")
    sentences.append("Tables: " + "; ".join(tables))
    return ". ".join([first] + sentences) + "."
