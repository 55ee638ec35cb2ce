"""The uncertainty passes stream the grid chunk by chunk: the unit x type sums do not
depend on the chunk size (each chunk's exact cell coverage is computed on its own
window, so cells on chunk edges are counted once, with their whole-grid fractions)."""

from __future__ import annotations

import numpy as np

from carbon_balance.analysis.uncertainty import carbon_basis, coefficient_values
from carbon_balance.pipeline import study_units
from carbon_balance.study import load_study, parse_study
from tests.errors.studies import full_study


def test_unit_sums_do_not_depend_on_the_chunk_size(tmp_path):
    path = full_study(tmp_path / "s")
    chunked = load_study(path)                       # [grid] chunk_size = 16: 3 x 4 chunks
    text = path.read_text().replace("chunk_size = 16", "chunk_size = 1024")
    whole = parse_study(text, root=path.parent, source=path)   # one chunk
    assert chunked.grid.chunk_size == 16 and whole.grid.chunk_size == 1024
    units = study_units(chunked)
    kw = dict(scenarios=["percentile", "table"],
              rn_values=coefficient_values((0.589, 0.598), 0.598),
              rh_values=coefficient_values((0.0912, 0.0913), 0.0913))
    a = carbon_basis(chunked, units, **kw)
    b = carbon_basis(whole, units, **kw)
    assert a.npp1.shape == (1, 2, 2, a.types.size) and a.rh.shape == (1, 2, 2)
    assert a.scenario_npp1.shape == (1, 1, 2, a.types.size) and a.scenarios == ["table"]
    assert (a.npp1 > 0).any() and (a.rh > 0).all() and (a.scenario_npp1 > 0).any()
    np.testing.assert_allclose(a.npp1, b.npp1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.scenario_npp1, b.scenario_npp1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.rh, b.rh, rtol=1e-12, atol=0)
