"""Local Moran p-values: esda's numba kernel versus carbon_balance's numpy version.

Run: python benchmarks/spatial_local_pvalues.py [n_side] [permutations]

Measures, in one process and side by side, the time of esda.Moran_Local with
permutations (numba; the first call includes compiling its kernel, as in every new
`carbon-balance run`), a second esda call (compiled), and
carbon_balance.analysis.spatial.local_moran_p_sim, on an n_side x n_side grid of
squares with a spatial trend; and the largest difference of the p-values (Monte Carlo
noise only: both use the same algorithm with different random draws).
"""

import sys
import time
import warnings

import geopandas as gpd
import numpy as np
from shapely.geometry import box

warnings.simplefilter("ignore")


def main(n_side: int = 6, permutations: int = 9999) -> None:
    import esda

    from carbon_balance.analysis.spatial import local_moran_p_sim, queen_weights

    rng = np.random.default_rng(0)
    n = n_side * n_side
    ids = [str(i) for i in range(n)]
    gdf = gpd.GeoDataFrame({"unit_id": ids}, geometry=[box(c, r, c + 1, r + 1)
                                                       for r in range(n_side)
                                                       for c in range(n_side)])
    y = rng.normal(size=n) + np.repeat(np.arange(n_side), n_side) * 0.5
    w = queen_weights(gdf, ids)
    w.transform = "r"
    t0 = time.perf_counter()
    ref = esda.Moran_Local(y, w, permutations=permutations, seed=1, n_jobs=1)
    t1 = time.perf_counter()
    esda.Moran_Local(y, w, permutations=permutations, seed=2, n_jobs=1)
    t2 = time.perf_counter()
    mine = local_moran_p_sim(np.asarray(ref.z).ravel(), w, ref.Is,
                             permutations=permutations, seed=1)
    t3 = time.perf_counter()
    print(f"{n} units, {permutations} permutations")
    print(f"esda first call (compiles) : {t1 - t0:8.2f} s")
    print(f"esda second call           : {t2 - t1:8.2f} s")
    print(f"numpy local_moran_p_sim    : {t3 - t2:8.2f} s")
    print(f"ratio first esda / numpy   : {(t1 - t0) / (t3 - t2):8.1f}")
    print(f"max |p_esda - p_numpy|     : {np.abs(ref.p_sim - mine).max():.4f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
