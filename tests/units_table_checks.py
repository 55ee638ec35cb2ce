"""The check every run's units.csv must pass: each number follows from its own columns by
the formulas of METHOD.md sections 3-5 (written out here independently of the package)."""

import numpy as np


def assert_units_table_recomputable(u, *, ecc_threshold=1.0, esc_threshold=1.0):
    """``u``: units.csv as a DataFrame (CO2 basis)."""
    assert list(u.columns[:18]) == ["unit_id", "name", "group", "year", "area_km2",
                                    "npp_mean_g_c_m2", "nep_mean_g_c_m2", "cs_t_c", "cs_t_co2",
                                    "ce_t_co2", "ce_estimated", "gdp_yuan", "cb_t", "cbi", "ecc",
                                    "esc", "budget_state", "zone"]
    assert np.allclose(u.cs_t_co2, u.cs_t_c * 44 / 12)
    # nep mean over the vegetated area: g C m-2 = t C x 1e6 / (km2 x 1e6)
    assert np.allclose(u.nep_mean_g_c_m2, u.cs_t_c / u.vegetated_area_km2)
    assert np.allclose(u.cb_t, u.ce_t_co2 - u.cs_t_co2)
    assert np.allclose(u.cbi, u.ce_t_co2 / u.cs_t_co2)
    for _, y in u.groupby("year"):
        ecc = (y.gdp_yuan / y.gdp_yuan.sum()) / (y.ce_t_co2 / y.ce_t_co2.sum())
        esc = (y.cs_t_co2 / y.cs_t_co2.sum()) / (y.ce_t_co2 / y.ce_t_co2.sum())
        assert np.allclose(y.ecc, ecc) and np.allclose(y.esc, esc)
    for r in u.itertuples():
        sink, hi_esc, hi_ecc = r.cs_t_co2 > r.ce_t_co2, r.esc > esc_threshold, r.ecc > ecc_threshold
        expect = ("carbon sink functional zone" if sink and hi_esc else "unclassified" if sink
                  else {(True, True): "low-carbon economic zone",
                        (True, False): "low-carbon optimization zone",
                        (False, True): "carbon intensity control zone",
                        (False, False): "high-carbon optimization zone"}[(hi_esc, hi_ecc)])
        assert r.zone == expect
        assert r.budget_state == ("deficit" if r.cb_t > 0 else "surplus")
