"""The one exact-percentile implementation equals numpy's linear percentile bit for bit,
in memory and streamed over blocks, for float32 and float64 values."""

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.casa import percentiles as pct
from carbon_balance.casa.reference import reference_bounds


@pytest.mark.parametrize("n, dtype", [(5000, np.float32), (3000, np.float64), (3, np.float64),
                                      (1, np.float32)])
def test_percentile_bounds_equal_numpy_exactly(n, dtype):
    rng = np.random.default_rng(3)
    ndvi = rng.uniform(-0.2, 0.9, (12, n)).astype(dtype)
    ndvi[rng.random((12, n)) < 0.1] = np.nan
    ndvi[:, ::3] = np.round(ndvi[:, ::3], 2)   # ties, like quantised NDVI
    veg = rng.integers(0, 12, n)
    assert casa.percentile_bounds(ndvi, veg) == reference_bounds(ndvi, veg)


def test_other_percentiles_and_a_crosswalk():
    rng = np.random.default_rng(4)
    ndvi = rng.uniform(0, 0.9, (12, 50, 40))
    veg = rng.choice([11, 12, 21, 42], (50, 40))
    got = casa.percentile_bounds(ndvi, veg, lower=10, upper=90, classes="cas-lucc")
    casa_codes = np.select([veg < 20, veg == 21], [10, 6], 0)   # cas-lucc: crops, forest
    want = {c: tuple(np.percentile(ndvi[:, casa_codes == c], [10, 90])) for c in (6, 10)}
    assert got == want


def test_infinite_values_are_not_counted():
    ndvi = np.full((12, 4), 0.5)
    ndvi[0, 0], ndvi[1, 1] = np.inf, -np.inf
    ndvi[:, 2] = np.linspace(0.1, 0.9, 12)
    veg = np.array([6, 6, 6, 6])
    finite = ndvi[np.isfinite(ndvi)]
    assert casa.percentile_bounds(ndvi, veg) == {6: tuple(np.percentile(finite, [5, 95]))}


def test_streamed_blocks_equal_in_memory_float64():
    rng = np.random.default_rng(5)
    ndvi = rng.uniform(-0.2, 0.95, (12, 60, 90))          # float64, unquantised
    codes = rng.choice([0, 2, 6, 9], (60, 90)).astype(np.float32)
    blocks = [(ndvi[:, r:r + 7, c:c + 11], codes[r:r + 7, c:c + 11])
              for r in range(0, 60, 7) for c in range(0, 90, 11)]
    scan = pct.merge_scans(*[pct.scan_block(n, c) for n, c in blocks])
    todo = pct.unresolved(scan, 5, 95)
    assert todo       # continuous values share bins: the refinement pass is exercised
    gathered = pct.merge_gathered([pct.gather_block(n, c, todo) for n, c in blocks])
    streamed = {k: v[:2] for k, v in pct.class_percentiles(scan, 5, 95, gathered).items()}
    assert streamed == pct.class_percentile_bounds(ndvi, codes.astype(int), 5, 95)
    for k in (0, 2, 6, 9):
        assert streamed[k] == tuple(np.percentile(ndvi[:, codes == k], [5, 95]))
