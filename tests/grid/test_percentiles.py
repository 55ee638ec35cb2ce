"""Streaming per-class NDVI percentiles equal numpy's linear percentile."""

import numpy as np
import pytest

from carbon_balance.casa import percentile_bounds
from carbon_balance.grid import percentiles as pct

LOWER, UPPER = 5.0, 95.0


def _streamed(ndvi, codes, block=(7, 5), lower=LOWER, upper=UPPER):
    blocks = [(ndvi[:, r:r + block[0], c:c + block[1]], codes[r:r + block[0], c:c + block[1]])
              for r in range(0, codes.shape[0], block[0])
              for c in range(0, codes.shape[1], block[1])]
    scan = pct.merge_scans(*[pct.scan_block(n, c) for n, c in blocks])
    todo = pct.unresolved(scan, lower, upper)
    gathered = pct.merge_gathered([pct.gather_block(n, c, todo) for n, c in blocks])
    return pct.class_percentiles(scan, lower, upper, gathered), todo


def _numpy(ndvi, codes, q):
    out = {}
    for k in np.unique(codes[~np.isnan(codes)]).astype(int):
        v = ndvi[:, codes == k]
        v = v[~np.isnan(v)].astype(np.float64)
        if v.size:
            out[k] = tuple(np.percentile(v, q))
    return out


def _fields(seed, quantised, shape=(23, 31)):
    rng = np.random.default_rng(seed)
    ndvi = rng.uniform(-0.2, 0.95, (12, *shape))
    if quantised:
        ndvi = np.round(ndvi * 10000).astype(np.int16).astype(np.float32) * np.float32(1e-4)
    ndvi = ndvi.astype(np.float32)
    ndvi[rng.random(ndvi.shape) < 0.1] = np.nan
    codes = rng.choice([0, 2, 6, 9, 10], size=shape).astype(np.float32)
    codes[rng.random(shape) < 0.05] = np.nan
    return ndvi, codes


@pytest.mark.parametrize("quantised", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_streaming_equals_numpy(quantised, seed):
    ndvi, codes = _fields(seed, quantised)
    got, todo = _streamed(ndvi, codes)
    ref = _numpy(ndvi, codes, [LOWER, UPPER])
    assert set(got) == set(ref)
    for k in ref:
        assert got[k][:2] == ref[k], k       # bit for bit
    # quantised NDVI is resolved by the histogram alone; continuous NDVI needs the refinement
    assert (len(todo) == 0) == quantised


def test_other_percentiles_and_tiny_classes():
    ndvi, codes = _fields(5, True, shape=(9, 9))
    codes[:] = 6
    codes[0, 0] = 9                      # a class with 12 values
    codes[0, 1] = 10
    ndvi[:, 0, 1] = np.nan
    ndvi[3, 0, 1] = 0.5                  # a class with a single value
    got, _ = _streamed(ndvi, codes, lower=0.0, upper=37.5)
    ref = _numpy(ndvi, codes, [0.0, 37.5])
    for k in ref:
        assert got[k][:2] == ref[k]
    assert got[10][:2] == (np.float32(0.5).item(), np.float32(0.5).item())


def test_equals_casa_percentile_bounds():
    ndvi, codes = _fields(3, True)
    codes = np.where(np.isnan(codes), 0, codes)            # casa.percentile_bounds: casa codes
    got, _ = _streamed(ndvi, codes)
    ref = percentile_bounds(ndvi, codes.astype(np.int64))
    for k, (lo, hi) in ref.items():
        assert got[k][:2] == (lo, hi)


def test_scan_reports_range_and_unknown_codes():
    ndvi = np.full((12, 2, 2), 0.5, np.float32)
    ndvi[0, 0, 0] = -0.25
    codes = np.array([[6, -1], [np.nan, 9]], np.float32)
    s = pct.scan_block(ndvi, codes, raw_codes=np.array([[21, 77], [255, 31]], np.float32))
    assert (s.ndvi_min, s.ndvi_max) == (-0.25, 0.5)
    assert s.unknown_cells == 1 and s.unknown_codes == {77.0}
    assert s.cells[6] == 1 and s.counts[6].sum() == 12


def _as_values(raw, nodata, scale, offset):
    """Stored integers to float32 NDVI, as the readers do (nodata -> NaN first)."""
    v = raw.astype(np.float32)
    v[v == np.float32(nodata)] = np.nan
    return v * np.float32(scale) + np.float32(offset)


@pytest.mark.parametrize("dtype, nodata, scale, offset", [
    ("int16", -3000, 1e-4, 0.0),        # MODIS MOD13: int16 x 1e-4
    ("uint8", 255, 0.004, -0.08),       # 8-bit products (e.g. SPOT-VGT / PROBA-V style)
    ("int16", -32768, 1e-5, 0.0),       # finer than the 1e-4 bins: several values per bin
])
def test_integer_scan_equals_float_scan(dtype, nodata, scale, offset):
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    raw = rng.integers(max(info.min, -2000), min(info.max, 9500), (12, 19, 23)).astype(dtype)
    raw[rng.random(raw.shape) < 0.1] = nodata
    codes = rng.choice([0, 2, 6, 9, 10], size=(19, 23)).astype(np.float32)
    codes[rng.random(codes.shape) < 0.05] = np.nan
    codes[0, :3] = -1                                  # codes missing from the class table
    raw_codes = np.where(codes == -1, 77, codes)
    values = _as_values(raw, nodata, scale, offset)
    a = pct.scan_integer_block(raw, codes, lambda r: _as_values(r, nodata, scale, offset),
                               raw_codes)
    b = pct.scan_block(values, codes, raw_codes)
    for name in ("counts", "mins", "maxs", "cells"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.ndvi_min, a.ndvi_max) == (b.ndvi_min, b.ndvi_max)
    assert a.unknown_cells == b.unknown_cells == 3 and a.unknown_codes == {77.0}
    # and through to the percentiles, against numpy
    todo = pct.unresolved(a, LOWER, UPPER)
    got = pct.class_percentiles(a, LOWER, UPPER, pct.gather_block(values, codes, todo))
    ref = _numpy(values, np.where(codes == -1, np.nan, codes), [LOWER, UPPER])
    assert {k: v[:2] for k, v in got.items()} == ref
    assert bool(todo) == (scale < 1e-4)


def test_integer_scan_refuses_wide_integers():
    with pytest.raises(ValueError, match="small integer"):
        pct.scan_integer_block(np.zeros((12, 2, 2), np.int32), np.zeros((2, 2), np.float32),
                               lambda r: r.astype(np.float32))
