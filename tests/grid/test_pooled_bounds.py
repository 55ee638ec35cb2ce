"""NDVI bounds pooled over the study years and the units' cells (METHOD.md section 1).

The independent chain: bounds by ``numpy.percentile`` over the pooled NDVI of the cells
inside the units (chosen by hand: the units are boxes on cell edges), NPP/NEP by the
readable float64 functions (:func:`carbon_balance.casa.reference.reference_carbon`) and
CS by summing NEP x geodesic cell area (pyproj's polygon area, not the project's cell
areas). All data are generated (tests/grid/synthetic.py).
"""

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import box

from carbon_balance import casa
from carbon_balance.accounting.zonal import zonal_carbon
from carbon_balance.casa.reference import reference_carbon
from carbon_balance.grid.bounds import warn_high_minimum
from carbon_balance.grid.nep import write_grids
from carbon_balance.pipeline import study_units
from carbon_balance.study import load_study

from .synthetic import ORIGIN, RES, SHAPE, STUDY, climate, model_inputs, read, write_raster

#: The two units as (row slice, column slice) of the study grid; everything else is outside.
UNIT_CELLS = {"A": (slice(5, 15), slice(5, 25)), "B": (slice(20, 35), slice(30, 50))}
UNITS_TOML = '\n[units]\npath = "units.gpkg"\nid = "code"\nname = "name"\n'
YEARS = (2005, 2010)
#: NDVI rise of every vegetated cell from the first to the second year [-].
GREENING = 0.04


def _unit_box(rows, cols):
    x0, y0 = ORIGIN
    return box(x0 + cols.start * RES, y0 - rows.stop * RES, x0 + cols.stop * RES,
               y0 - rows.start * RES)


def _inside() -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    for rows, cols in UNIT_CELLS.values():
        mask[rows, cols] = True
    return mask


def _casa_codes(veg) -> np.ndarray:
    return casa.to_casa_codes(veg, "cas-lucc")


def _vegetated(codes) -> np.ndarray:
    flags = casa.vegetation_types().set_index("code")["vegetated"]
    return np.isin(codes, flags[flags == 1].index.to_numpy())


def _fields(outside_ndvi: int | None = None) -> dict:
    """Two years, the same climate and classes; NDVI + 0.04 on every vegetated cell in the
    second year. ``outside_ndvi``: raw NDVI put on every cell outside the units."""
    base = climate(7)
    veg = _vegetated(_casa_codes(base["vegetation"]))
    second = base["ndvi"].copy()
    valid = second != -3000
    second[valid & veg[None]] += int(round(GREENING * 10000))
    fields = {YEARS[0]: dict(base), YEARS[1]: dict(base, ndvi=second)}
    if outside_ndvi is not None:
        for f in fields.values():
            f["ndvi"] = np.where(_inside()[None], f["ndvi"], outside_ndvi).astype(np.int16)
    return fields


def _write(root, fields, extra: str = "", units: bool = True):
    for year, f in fields.items():
        write_raster(root / f"ndvi/ndvi_{year}.tif", f["ndvi"], nodata=-3000)
        write_raster(root / f"climate/tmp_{year}.tif", f["temperature"])
        write_raster(root / f"climate/pre_{year}.tif", f["precipitation"])
        write_raster(root / f"climate/sol_{year}.tif", f["radiation"])
        write_raster(root / f"lc/lc_{year}.tif", f["vegetation"])
    gpd.GeoDataFrame({"code": list(UNIT_CELLS), "name": list(UNIT_CELLS)},
                     geometry=[_unit_box(*rc) for rc in UNIT_CELLS.values()],
                     crs="EPSG:4326").to_file(root / "units.gpkg", driver="GPKG")
    path = root / "study.toml"
    text = STUDY.format(years=list(fields))
    path.write_text(text + (UNITS_TOML if units else "") + extra)
    return path


def _run(tmp_path, name, fields, extra="", units=True):
    """Grid engine and zonal sums: ({(unit, year): CS [t C]}, bounds table, grids)."""
    study = load_study(_write(tmp_path / name, fields, extra, units))
    out = tmp_path / f"{name}-out"
    grids = write_grids(study, out, progress=False)
    polygons = study_units(load_study(_write(tmp_path / f"{name}-u", fields)))
    cs = zonal_carbon(polygons, grids).set_index(["unit_id", "year"])["cs_t_c"]
    return cs.to_dict(), pd.read_csv(out / "tables/ndvi_bounds.csv",
                                     float_precision="round_trip"), grids


def _pooled_bounds(fields, years, mask, q=(5, 95)) -> dict:
    """numpy.percentile of the NDVI of each vegetated type over ``years`` and ``mask``."""
    values, codes = [], []
    for year in years:
        ndvi = model_inputs(fields[year])[0]
        values.append(ndvi[:, mask].reshape(-1))
        codes.append(np.broadcast_to(_casa_codes(fields[year]["vegetation"])[mask],
                                     (12, int(mask.sum()))).reshape(-1))
    values, codes = np.concatenate(values), np.concatenate(codes)
    out = {}
    for k in np.unique(codes[_vegetated(codes)]):
        v = values[(codes == k) & np.isfinite(values)].astype(np.float64)
        if v.size:
            out[int(k)] = tuple(float(x) for x in np.percentile(v, q))
    return out


def _row_areas_m2() -> np.ndarray:
    """Geodesic area of one cell in each row [m2] (pyproj Geod polygon area)."""
    geod = Geod(ellps="WGS84")
    areas = []
    for r in range(SHAPE[0]):
        cell = _unit_box(slice(r, r + 1), slice(0, 1))
        areas.append(abs(geod.geometry_area_perimeter(cell)[0]))
    return np.array(areas)


def _reference_cs(fields, bounds_of_year) -> dict:
    """CS per (unit, year) [t C] from the readable float64 chain."""
    areas = _row_areas_m2()[:, None] * np.ones(SHAPE)
    out = {}
    for year, f in fields.items():
        ndvi, t, p, sol, veg = model_inputs(f)
        nep = reference_carbon(ndvi, t, p, sol, _casa_codes(veg), classes="casa",
                               bounds=bounds_of_year(year))["nep"]
        for unit, (rows, cols) in UNIT_CELLS.items():
            v = nep[rows, cols]
            out[(unit, year)] = float(np.sum(np.where(np.isfinite(v), v, 0) *
                                             areas[rows, cols])) * 1e-6
    return out


def _rise(cs: dict, unit: str) -> float:
    return cs[(unit, YEARS[1])] - cs[(unit, YEARS[0])]


def test_greening_raises_cs_as_an_independent_chain_with_pooled_bounds(tmp_path):
    fields = _fields()
    cs, table, _ = _run(tmp_path, "green", fields)
    pooled = _pooled_bounds(fields, YEARS, _inside())
    expected = _reference_cs(fields, lambda year: pooled)
    per_year = _reference_cs(fields, lambda year: _pooled_bounds(fields, [year], _inside()))
    for unit in UNIT_CELLS:
        assert _rise(cs, unit) > 0
        assert _rise(cs, unit) == pytest.approx(_rise(expected, unit), rel=2e-3)
        for year in YEARS:
            assert cs[(unit, year)] == pytest.approx(expected[(unit, year)], rel=1e-4)
        # per-year bounds rank the greening away: the test would see the difference
        assert abs(_rise(per_year, unit) - _rise(expected, unit)) > 0.2 * _rise(expected, unit)
    # the bounds table: one set of bounds for both years, from the units' cells
    assert set(table["pool"]) == {"study"} and set(table["pool_area"]) == {"units"}
    assert set(table["pool_years"]) == {"2005-2010"} and set(table["mode"]) == {"percentile"}
    for _, row in table.iterrows():
        assert (row.ndvi_min, row.ndvi_max) == pooled[row.code]


def test_ndvi_outside_every_unit_changes_no_units_cs(tmp_path):
    plain, _, plain_grids = _run(tmp_path, "plain", _fields())
    changed, _, changed_grids = _run(tmp_path, "changed", _fields(outside_ndvi=9000))
    inside = _inside()
    for year in YEARS:     # bit for bit on every cell inside a unit
        np.testing.assert_array_equal(read(plain_grids[year]["nep"], 1)[inside],
                                      read(changed_grids[year]["nep"], 1)[inside])
    # exactextract gives cells beyond the edge-aligned boxes coverages of ~1e-16 at most
    assert changed == pytest.approx(plain, rel=1e-11)
    # pooling the whole grid instead (a study without units) would move them
    plain_grid, _, _ = _run(tmp_path, "plain-grid", _fields(), units=False)
    changed_grid, _, _ = _run(tmp_path, "changed-grid", _fields(outside_ndvi=9000), units=False)
    assert all(abs(changed_grid[k] - plain_grid[k]) > 1e-3 * abs(plain_grid[k]) for k in plain)


def test_zhu_mode_runs_with_bare_soil_minimum_and_pooled_maximum(tmp_path):
    fields = _fields()
    cs, table, _ = _run(tmp_path, "zhu", fields, extra='\n[casa]\nndvi_bounds = "zhu"\n')
    pooled = _pooled_bounds(fields, YEARS, _inside())
    assert set(table["mode"]) == {"zhu"} and set(table["ndvi_min"]) == {0.023}
    for _, row in table.iterrows():
        assert row.ndvi_max == pooled[row.code][1]
    zhu = {k: (0.023, hi) for k, (_, hi) in pooled.items()}
    expected = _reference_cs(fields, lambda year: zhu)
    for key, value in expected.items():
        assert cs[key] == pytest.approx(value, rel=1e-4)


def test_year_pool_keeps_per_year_bounds(tmp_path):
    fields = _fields()
    _, table, _ = _run(tmp_path, "year", fields, extra='\n[casa]\nndvi_bounds_pool = "year"\n')
    assert set(table["pool"]) == {"year"}
    for year in YEARS:
        own = _pooled_bounds(fields, [year], _inside())
        rows = table[table.year == year]
        assert set(rows["pool_years"].astype(str)) == {str(year)}
        for _, row in rows.iterrows():
            assert (row.ndvi_min, row.ndvi_max) == own[row.code]


def test_unquantised_ndvi_pooled_exactly_over_years_and_units(tmp_path):
    """Float NDVI puts several values in a 1e-4 bin: the refinement pass reads every year,
    inside the units only, and the bounds still equal numpy's."""
    rng = np.random.default_rng(3)
    fields = _fields()
    root = tmp_path / "float"
    for year, f in fields.items():
        ndvi = model_inputs(f)[0] + rng.uniform(-4e-5, 4e-5, SHAPE).astype(np.float32)
        f["float_ndvi"] = ndvi
    path = _write(root, fields)
    for year, f in fields.items():
        write_raster(root / f"ndvi/ndvi_{year}.tif", f["float_ndvi"], nodata=np.nan)
    path.write_text(path.read_text().replace("scale = 0.0001\n", ""))
    out = tmp_path / "float-out"
    write_grids(load_study(path), out, progress=False)
    table = pd.read_csv(out / "tables/ndvi_bounds.csv", float_precision="round_trip")
    for k, (lo, hi) in _float_bounds(fields).items():
        row = table[(table.code == k)].iloc[0]
        assert (row.ndvi_min, row.ndvi_max) == (lo, hi)


def _float_bounds(fields) -> dict:
    mask = _inside()
    values, codes = [], []
    for f in fields.values():
        values.append(f["float_ndvi"][:, mask].reshape(-1))
        codes.append(np.broadcast_to(_casa_codes(f["vegetation"])[mask],
                                     (12, int(mask.sum()))).reshape(-1))
    values, codes = np.concatenate(values), np.concatenate(codes)
    return {int(k): tuple(float(x) for x in np.percentile(
        values[(codes == k) & np.isfinite(values)].astype(np.float64), [5, 95]))
        for k in np.unique(codes[_vegetated(codes)])}


def test_high_ndvi_minimum_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="carbon_balance.grid.bounds"):
        high = warn_high_minimum({4: (0.69, 0.88), 9: (0.12, 0.7), 6: (0.3, 0.8),
                                  2: (0.62, 0.83)})
    assert high == [2, 4]                  # 0.3 itself is not above 0.3
    assert len(caplog.records) == 1        # one warning naming both
    assert "4 evergreen broadleaf forest 0.69" in caplog.text
    assert "2 evergreen needleleaf forest 0.62" in caplog.text and "grassland" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="carbon_balance.grid.bounds"):
        caplog.clear()
        assert warn_high_minimum({9: (0.12, 0.7)}) == [] and not caplog.records


# --- issue 16: many years, the histograms of one scan in memory --------------------------
SERIES = (2001, 2002, 2003, 2004, 2005)


def _series_fields() -> dict:
    """Five years, NDVI of the vegetated cells rising by a different step each year (so
    each year's own bounds differ from the pooled ones) and the study's years as a range."""
    base = climate(11)
    veg = _vegetated(_casa_codes(base["vegetation"]))
    valid = base["ndvi"] != -3000
    out = {}
    for i, year in enumerate(SERIES):
        ndvi = base["ndvi"].copy()
        ndvi[valid & veg[None]] += [0, 150, 90, 400, 260][i]
        out[year] = dict(base, ndvi=ndvi)
    return out


@pytest.mark.parametrize("pool", ["study", "year"])
def test_five_year_range_study_pools_bounds_as_numpy_does(tmp_path, pool):
    fields = _series_fields()
    path = _write(tmp_path / pool, fields, f'\n[casa]\nndvi_bounds_pool = "{pool}"\n')
    path.write_text(path.read_text().replace(f"years = {list(SERIES)}", 'years = "2001-2005"'))
    study = load_study(path)
    assert study.study.years == list(SERIES)
    write_grids(study, tmp_path / f"{pool}-out", progress=False)
    table = pd.read_csv(tmp_path / f"{pool}-out/tables/ndvi_bounds.csv",
                        float_precision="round_trip")
    pooled = _pooled_bounds(fields, SERIES, _inside())
    assert sorted(set(table.year)) == list(SERIES)
    for year in SERIES:
        expected = pooled if pool == "study" else _pooled_bounds(fields, [year], _inside())
        rows = table[table.year == year]
        assert set(rows.code) == set(expected)
        for _, row in rows.iterrows():
            assert (row.ndvi_min, row.ndvi_max) == expected[row.code]
        assert set(rows.pool_years.astype(str)) == {"2001-2005" if pool == "study" else str(year)}
        # n_pixels: the cells of the type inside the units, over the years pooled
        codes = _casa_codes(fields[year]["vegetation"])[_inside()]
        n_years = len(SERIES) if pool == "study" else 1
        for _, row in rows.iterrows():
            assert row.n_pixels == n_years * int((codes == row.code).sum())
    if pool == "year":   # the years' own bounds differ: the test sees a pooling mix-up
        assert _pooled_bounds(fields, [2001], _inside()) != _pooled_bounds(fields, [2004],
                                                                            _inside())


def _quantised_scan(seed: int, shift: float):
    """A Scan of generated NDVI on 1e-4 steps (no refinement pass) and its values."""
    from carbon_balance.grid import percentiles as pct

    rng = np.random.default_rng(seed)
    codes = rng.choice([1, 2, 4], size=(30, 40)).astype(np.float32)
    ndvi = np.round(np.clip(0.4 + shift + 0.2 * rng.standard_normal((12, 30, 40)), -0.2, 0.95),
                    4).astype(np.float32)
    return pct.scan_block(ndvi, codes), ndvi, codes


def test_scan_pool_holds_one_scan_whatever_the_years_and_gives_numpys_percentiles():
    from carbon_balance.grid.bounds import ScanPool

    made = {2000 + i: _quantised_scan(i, 0.02 * i) for i in range(6)}
    one = made[2000][0]
    one_scan = one.counts.nbytes + one.mins.nbytes + one.maxs.nbytes
    study = ScanPool("study", modes=("percentile", "zhu"), lower=5, upper=95, wins=None,
                     run=None)
    year = ScanPool("year", modes=("percentile",), lower=5, upper=95, wins=None, run=None)
    for y, (scan, _, _) in made.items():
        study.add(y, scan, specs={})
        year.add(y, scan, specs={})
        assert study.histogram_bytes == one_scan     # not one scan per year
        assert year.histogram_bytes == 0             # per-year bounds, no histograms
    values = np.concatenate([n.reshape(12, -1) for _, n, _ in made.values()], axis=1)
    codes = np.concatenate([np.broadcast_to(c.reshape(-1), (12, c.size)) for _, _, c in
                            made.values()], axis=1)
    vegetated = casa.vegetation_types().set_index("code")["vegetated"]
    pooled = study.bounds("percentile")
    zhu = study.bounds("zhu")
    assert sorted(pooled) == list(made)
    for k in (1, 2, 4):
        v = values[codes == k].astype(np.float64)
        lo, hi = np.percentile(v, [5, 95])
        if vegetated[k]:
            assert pooled[2003][0][k] == (lo, hi) and zhu[2003][0][k] == (0.023, hi)
            assert pooled[2003][1][k] == v.size
        own = made[2005][1][:, made[2005][2] == k].astype(np.float64)
        if vegetated[k]:
            assert year.bounds()[2005][0][k] == tuple(np.percentile(own, [5, 95]))
    assert {r[3] for r in pooled.values()} == {"2000-2005"}
    # the cell counts of the bounds table survive the dropped histograms
    assert year.bounds()[2001][2].cells.tolist() == made[2001][0].cells.tolist()
    with pytest.raises(ValueError, match="ascending"):
        study.add(2003, made[2003][0], specs={})
