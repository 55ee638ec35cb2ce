"""Global and local Moran's I on layouts small enough to derive by hand.

Row-standardised weights make S0 = n, so I = z'Wz / z'z and E[I] = -1/(n-1). Local
Moran's I as in esda: I_i = (n-1) z_i (Wz)_i / sum(z^2).
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from carbon_balance.analysis.spatial import (
    autocorrelation_tables,
    write_autocorrelation_tables,
)


def _strip(values, *, far=None):
    """Unit squares side by side (each touches the next), plus an optional far-away unit."""
    geoms = [box(i, 0, i + 1, 1) for i in range(len(values))]
    ids = [f"u{i}" for i in range(len(values))]
    if far is not None:
        geoms.append(box(100, 100, 101, 101))
        ids.append("island")
        values = list(values) + [far]
    gdf = gpd.GeoDataFrame({"unit_id": ids}, geometry=geoms, crs="EPSG:3857")
    table = pd.DataFrame({"unit_id": ids, "name": [f"<{u}>" for u in ids], "year": 2005,
                          "cb_t": values})
    return gdf, table


def test_two_neighbours_with_different_values_give_minus_one():
    gdf, table = _strip([5.0, 9.0])
    g, _ = autocorrelation_tables(gdf, table, quantities=["cb_t"], permutations=0)
    # n = 2 is below the 3 units a test needs: reported as undefined, not as a number
    assert np.isnan(g.loc[0, "moran_i"])
    gdf, table = _strip([5.0, 9.0, 5.0, 9.0])
    g, _ = autocorrelation_tables(gdf, table, quantities=["cb_t"], permutations=0)
    # z = -1, 1, -1, 1; Wz = 1, -1, -1... ends: (1, -1, 1, -1)*1 -> z'Wz = -4, z'z = 4
    assert g.loc[0, "moran_i"] == pytest.approx(-1.0)
    assert g.loc[0, "expected_i"] == pytest.approx(-1 / 3)


def test_three_in_a_row_by_hand():
    gdf, table = _strip([0.0, 0.0, 1.0])
    g, loc = autocorrelation_tables(gdf, table, quantities=["cb_t"], permutations=999, seed=3)
    # z = (-1/3, -1/3, 2/3); Wz = (-1/3, 1/6, -1/3); z'Wz = -1/6; z'z = 2/3
    assert g.loc[0, "moran_i"] == pytest.approx(-0.25)
    assert g.loc[0, "expected_i"] == pytest.approx(-0.5)
    assert g.loc[0, "permutations"] == 999 and g.loc[0, "n_units"] == 3
    # local: I_i = 2 z_i (Wz)_i / (2/3)
    assert loc["local_i"].tolist() == pytest.approx([1 / 3, -1 / 6, -2 / 3], abs=1e-6)
    # unit 0's one neighbour is drawn from {u1, u2} with equal chance: one draw equals the
    # observed statistic, the other is smaller, so the folded p is about one half
    assert loc.loc[0, "p_sim"] == pytest.approx(0.5, abs=0.06)
    assert loc.loc[0, "cluster"] == "not significant"
    # u1's two neighbours can only be {u0, u2}: every draw ties with the observed value,
    # and esda's folded count (ties count as ">=") then gives the smallest p, 1/1000
    assert loc.loc[1, "p_sim"] == pytest.approx(1 / 1000)
    assert loc["name"].tolist() == ["<u0>", "<u1>", "<u2>"]


def test_quadrants_are_labelled_like_geoda():
    gdf, table = _strip([0.0, 0.0, 1.0])
    _, loc = autocorrelation_tables(gdf, table, quantities=["cb_t"], permutations=99,
                                    alpha=1.01)  # everything "significant"
    # u0: low value, low lag -> LL; u1: low value, lag 1/6 above the mean -> LH; u2: HL
    assert loc["cluster"].tolist() == ["LL", "LH", "HL"]


def test_islands_and_missing_values_are_left_out():
    gdf, table = _strip([0.0, 0.0, 1.0], far=1000.0)
    table = pd.concat([table, pd.DataFrame({"unit_id": ["u3"], "name": ["x"], "year": [2005],
                                            "cb_t": [np.nan]})], ignore_index=True)
    gdf = pd.concat([gdf, gpd.GeoDataFrame({"unit_id": ["u3"]}, geometry=[box(3, 0, 4, 1)],
                                           crs=gdf.crs)], ignore_index=True)
    g, loc = autocorrelation_tables(gdf, table, quantities=["cb_t"], permutations=99)
    assert g.loc[0, "moran_i"] == pytest.approx(-0.25)  # as without the island and u3
    assert g.loc[0, "n_islands"] == 1 and g.loc[0, "n_units"] == 3
    out = loc.set_index("unit_id")
    assert np.isnan(out.loc["island", "local_i"]) and np.isnan(out.loc["u3", "p_sim"])
    assert out.loc["island", "cluster"] == "not significant"


def test_fixed_seed_gives_identical_tables(tmp_path):
    rng = np.random.default_rng(0)
    geoms = [box(c, r, c + 1, r + 1) for r in range(4) for c in range(4)]
    gdf = gpd.GeoDataFrame({"unit_id": [str(i) for i in range(16)]}, geometry=geoms)
    table = pd.concat([pd.DataFrame({"unit_id": [str(i) for i in range(16)], "name": "n",
                                     "year": y, "cb_t": rng.normal(size=16),
                                     "cbi": rng.gamma(2, size=16)}) for y in (2005, 2010)])
    a = autocorrelation_tables(gdf, table, seed=11)
    b = autocorrelation_tables(gdf, table, seed=11)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert list(a[0].columns[:7]) == ["quantity", "year", "moran_i", "expected_i", "z",
                                      "p_sim", "permutations"]
    assert list(a[1].columns) == ["unit_id", "name", "quantity", "year", "local_i", "p_sim",
                                  "p_fdr", "cluster"]
    assert len(a[0]) == 4 and len(a[1]) == 64
    p = a[1]["p_sim"]
    assert ((p >= 1 / 1000) & (p <= 0.5 + 1e-9)).all()  # folded pseudo p-values
    paths = write_autocorrelation_tables(tmp_path, gdf, table, seed=11)
    assert pd.read_csv(paths[0])["moran_i"].tolist() == pytest.approx(a[0]["moran_i"].tolist())


def test_units_without_polygons_are_an_input_error():
    from carbon_balance.errors import InputError

    gdf, table = _strip([0.0, 1.0, 2.0])
    table.loc[0, "unit_id"] = "nowhere"
    with pytest.raises(InputError, match="nowhere"):
        autocorrelation_tables(gdf, table, quantities=["cb_t"])


def test_benjamini_hochberg_by_hand():
    from carbon_balance.analysis.spatial import fdr_adjust

    # sorted 0.001, 0.04, 0.2, 0.5 (n = 4): p x n / rank = 0.004, 0.08, 0.2667, 0.5,
    # already increasing, so no step-up minimum changes them
    adj = fdr_adjust(np.array([0.001, 0.2, 0.04, 0.5, np.nan]))
    assert adj[:4] == pytest.approx([0.004, 0.8 / 3, 0.08, 0.5])
    assert np.isnan(adj[4])
    # 0.01..0.05 (n = 5): p x 5 / rank = 0.05 for every one
    assert fdr_adjust(np.array([0.01, 0.02, 0.03, 0.04, 0.05])) == pytest.approx([0.05] * 5)


def test_clusters_follow_the_fdr_adjusted_p_and_few_units_warn(caplog):
    rng = np.random.default_rng(3)
    geoms = [box(c, r, c + 1, r + 1) for r in range(5) for c in range(5)]
    gdf = gpd.GeoDataFrame({"unit_id": [str(i) for i in range(25)]}, geometry=geoms)
    # a smooth gradient plus noise: strong autocorrelation, some local clusters
    values = np.array([r + c for r in range(5) for c in range(5)], float) + rng.normal(0, .5, 25)
    table = pd.DataFrame({"unit_id": [str(i) for i in range(25)], "name": "n", "year": 2005,
                          "cb_t": values})
    with caplog.at_level("WARNING"):
        g_fdr, l_fdr = autocorrelation_tables(gdf, table, quantities=["cb_t"], seed=5)
    assert "fewer than" not in caplog.text  # 25 units: no warning
    g_raw, l_raw = autocorrelation_tables(gdf, table, quantities=["cb_t"], seed=5, fdr=False)
    assert g_fdr["significance"].tolist() == ["fdr_bh"] and g_raw["significance"].tolist() == ["none"]
    sig_fdr = l_fdr["cluster"] != "not significant"
    sig_raw = l_raw["cluster"] != "not significant"
    assert (sig_fdr == (l_fdr["p_fdr"] < 0.05)).all()
    assert (sig_raw == (l_raw["p_sim"] < 0.05)).all()
    assert (l_fdr["p_fdr"] >= l_fdr["p_sim"] - 1e-9).all()  # adjusting never lowers p
    assert sig_raw.sum() >= sig_fdr.sum() and not (sig_fdr & ~sig_raw).any()
    caplog.clear()
    with caplog.at_level("WARNING"):
        autocorrelation_tables(gdf.iloc[:10], table.iloc[:10], quantities=["cb_t"], seed=5)
    assert "fewer than 20 units (cb_t 2005: 10)" in caplog.text
