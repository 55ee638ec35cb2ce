"""Too little valid data inside the units is an error naming the file (issue 15, item 3).

An all-nodata NDVI year, a climate file whose nodata is its every value, a vegetation map
of another region: each used to turn a whole year "unclassified" without naming the
culprit. The grid passes count, where they already read the data, the valid (not nodata,
finite) values among the cells inside the units (:class:`~.bounds.UnitFootprint`; the
whole grid when the study has no units):

- the histogram pass (:func:`~.bounds.ndvi_scan`): vegetation as the share of the cells
  with a class; NDVI as the share of the cell-months with a finite NDVI among the cells
  with a class (NDVI is not read elsewhere);
- the NPP pass (:func:`~.nep.write_year`): temperature, precipitation and radiation as the
  share of the cell-months inside the units with a finite value.

A share below ``[checks] min_valid_fraction`` (default 0.5) of any year is refused
(:class:`~carbon_balance.errors.ProblemsError`, exit 2), naming the file (the pattern of
monthly files), the year, the share found and the fix. ``validate`` refuses a file whose
whole-file sample holds no valid value at all (:mod:`.raster_checks`); the share inside
the units needs the grid passes.
"""

from __future__ import annotations

import numpy as np

from ..errors import Problem

#: What each input's share counts, for the message.
WHAT = {"ndvi": "NDVI values (cell-months of the cells with a vegetation class)",
        "vegetation": "vegetation cells (with a class)",
        "temperature": "temperature values (cell-months)",
        "precipitation": "precipitation values (cell-months)",
        "radiation": "radiation values (cell-months)"}


def inside_mask(footprint, rows: slice, cols: slice) -> np.ndarray | None:
    """The chunk's cells inside the units (``footprint``: a :class:`~.bounds.UnitFootprint`),
    or None (every cell) without one."""
    return None if footprint is None else footprint.mask(rows, cols)


def count(values: np.ndarray, inside: np.ndarray | None) -> tuple[int, int]:
    """(valid values, values) of ``values`` (months, y, x) or (y, x) among the cells
    ``inside`` (bool (y, x); None: all)."""
    values = np.asarray(values)
    if inside is not None:
        values = values[..., inside]
    return int(np.isfinite(values).sum()), int(values.size)


def add(*parts: dict) -> dict:
    """{name: (valid, total)} summed over the chunks' ``parts``."""
    out: dict = {}
    for part in parts:
        for name, (valid, total) in part.items():
            v, t = out.get(name, (0, 0))
            out[name] = (v + valid, t + total)
    return out


def _files(files) -> str:
    from ..problem_groups import files_pattern

    files = list(files)
    return files[0] if len(files) == 1 else files_pattern(files)


def share_problem(name: str, valid: int, total: int, *, files, year: int,
                  threshold: float, units: bool = True) -> Problem | None:
    """The problem of input ``name`` when ``valid`` / ``total`` is below ``threshold``
    (None when it is not, or when there is nothing to count); ``files``: the year's files
    of the input; ``units``: whether the cells counted are those inside the units."""
    if total <= 0 or valid / total >= threshold:
        return None
    share = valid / total
    where = "inside the units" if units else "on the study grid"
    found = "none" if valid == 0 else f"only {share:.1%}"
    return Problem(f"{found} of the {WHAT[name]} {where} are valid (not nodata, finite) in "
                   f"{year}; at least {threshold:.0%} are needed ([checks] "
                   f"min_valid_fraction)", _files(files), f"inputs.{name}.path",
                   f"check that the file holds data for {year} over the study area "
                   f"(gdalinfo -stats FILE), that [inputs.{name}] nodata is the file's fill "
                   "value and scale/offset are right; or lower [checks] min_valid_fraction")


def scan_problems(specs: dict, scan, year: int, *, threshold: float,
                  units: bool = True) -> list[Problem]:
    """Vegetation and NDVI shares of one year's histogram ``scan`` (its ``inside_cells``,
    ``cells`` and ``counts``); ``specs``: the year's input specs."""
    classed = int(scan.cells.sum())
    problems = [share_problem("vegetation", classed, scan.inside_cells,
                              files=specs["vegetation"].files, year=year, threshold=threshold,
                              units=units)]
    if classed and problems[0] is None:
        problems.append(share_problem("ndvi", int(scan.counts.sum()), 12 * classed,
                                      files=specs["ndvi"].files, year=year,
                                      threshold=threshold, units=units))
    return [p for p in problems if p is not None]


def pass_problems(specs: dict, counts: dict, year: int, *, threshold: float,
                  units: bool = True) -> list[Problem]:
    """The shares of the climate inputs counted in one year's NPP pass (``counts``:
    {name: (valid, total)})."""
    found = [share_problem(name, valid, total, files=specs[name].files, year=year,
                           threshold=threshold, units=units)
             for name, (valid, total) in counts.items()]
    return [p for p in found if p is not None]


def sample_problem(name: str, values: np.ndarray, *, file: str, whole: bool) -> Problem | None:
    """``validate``'s check on a file's sampled ``values`` (model units, NaN nodata): a
    sample of the ``whole`` file (all of a small raster, or a decimated overview) without
    a single valid value is refused. A sample of a few blocks is not (a global file's
    sampled blocks may all be sea); the run counts every cell inside the units."""
    if not whole or values.size == 0 or np.isfinite(values).any():
        return None
    return Problem(f"no valid {name} value in the file: every cell is nodata or not finite",
                   file, f"inputs.{name}.path", f"check that the file holds data (gdalinfo "
                   f"-stats FILE) and that [inputs.{name}] nodata is the file's fill value")
