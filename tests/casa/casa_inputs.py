"""Generated (synthetic) monthly inputs for the casa tests, plausible for subtropical China."""

import numpy as np


def plausible_inputs(n, seed, dtype=np.float64):
    """(ndvi, temperature, precipitation, radiation, CASA codes 0..11) for n pixels."""
    rng = np.random.default_rng(seed)
    season = -np.cos(2 * np.pi * (np.arange(12)[:, None] + 0.5) / 12)
    t = 15 + rng.normal(0, 8, n) + 12 * season + rng.normal(0, 2, (12, n))
    p = rng.gamma(2.0, 1.0, (12, n)) * (60 + 50 * (season + 1))
    p[rng.random((12, n)) < 0.05] = 0.0
    sol = 380 + 170 * season + rng.normal(0, 30, (12, n))
    ndvi = np.clip(0.45 + 0.2 * season + rng.normal(0, 0.15, (12, n)), -0.3, 0.95)
    veg = rng.integers(0, 12, n)
    return [a.astype(dtype) for a in (ndvi, t, p, sol)] + [veg]
