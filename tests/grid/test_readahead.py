"""NDVI read ahead during start-up (carbon_balance.grid.readahead): the histogram pass
gets the very integers it would have read, each chunk is read once, and nothing is kept."""

import threading

import numpy as np
import pandas as pd
import rasterio

from carbon_balance.grid import pipeline, readahead
from carbon_balance.grid.pipeline import write_grids
from carbon_balance.grid.readahead import NdviReadAhead
from carbon_balance.grid.readers import input_spec, read_integers
from carbon_balance.grid.template import study_grid, windows
from carbon_balance.study import load_study

#: Stored bytes of one 16 x 16 chunk of 12 months of int16 (the synthetic study's chunks).
CHUNK_BYTES = 12 * 16 * 16 * 2


def _spec_and_windows(study, year=2005):
    grid = study_grid(study)
    return input_spec(study, "ndvi", year, grid), windows(grid, (16, 16))


def test_read_ahead_changes_no_output(study_2005, tmp_path, monkeypatch):
    study = load_study(study_2005[0])
    plain = write_grids(study, tmp_path / "plain", progress=False)
    ahead = NdviReadAhead.start(study, budget=5 * CHUNK_BYTES)
    assert ahead is not None and len(ahead._wins) == 5
    ahead._thread.join()
    read_by_the_pass = []
    monkeypatch.setattr(pipeline, "read_integers",
                        lambda *a: read_by_the_pass.append(a[1:]) or read_integers(*a))
    read_first = write_grids(study, tmp_path / "ahead", progress=False, ahead=ahead)
    assert len(read_by_the_pass) == 12 - 5          # 12 chunks, 5 read ahead
    assert not ahead._thread.is_alive() and not ahead._state   # closed after the pass
    for q in ("npp", "rh", "nep"):
        with rasterio.open(plain[2005][q]) as a, rasterio.open(read_first[2005][q]) as b:
            np.testing.assert_array_equal(a.read(), b.read())
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "plain/tables/ndvi_bounds.csv"),
                                  pd.read_csv(tmp_path / "ahead/tables/ndvi_bounds.csv"))


def test_each_chunk_is_read_once_and_handed_over_once(study_2005, monkeypatch):
    study = load_study(study_2005[0])
    spec, wins = _spec_and_windows(study)
    reads = []

    def counting(spec_, rows, cols):
        reads.append((rows.start, cols.start))
        return read_integers(spec_, rows, cols)

    monkeypatch.setattr(readahead, "read_integers", counting)
    ahead = NdviReadAhead.start(study, budget=3 * CHUNK_BYTES + 1)
    ahead._thread.join()
    assert reads == [(r.start, c.start) for r, c in wins[:3]]
    for rows, cols in wins[:3]:
        np.testing.assert_array_equal(ahead.take(spec, rows, cols),
                                      read_integers(spec, rows, cols))
        assert ahead.take(spec, rows, cols) is None          # handed over once
    assert ahead.take(spec, *wins[3]) is None                # beyond the budget
    ahead.close()


def test_other_chunks_than_the_read_ahead_ones_close_it(study_2005, tmp_path, monkeypatch):
    study = load_study(study_2005[0])
    ahead = NdviReadAhead.start(study)
    assert ahead.chunks == (16, 16)
    given, real = [], pipeline._scan_task
    monkeypatch.setattr(pipeline, "_scan_task",
                        lambda *a: given.append(a[-1]) or real(*a))
    write_grids(study, tmp_path / "out", progress=False, chunks=(8, 8), ahead=ahead)
    assert len(given) == 5 * 8 and set(given) == {None}   # closed before the pass
    assert ahead._closed and not ahead._state


def test_another_years_spec_gets_nothing(tmp_path):
    from .synthetic import write_study

    study = load_study(write_study(tmp_path / "s", years=(2005, 2010))[0])
    ahead = NdviReadAhead.start(study)
    ahead._thread.join()
    spec_2010, wins = _spec_and_windows(study, 2010)
    assert ahead.take(spec_2010, *wins[0]) is None
    spec_2005, _ = _spec_and_windows(study, 2005)
    assert ahead.take(spec_2005, *wins[0]) is not None
    ahead.close()


def test_a_chunk_the_pass_claims_first_is_not_read_ahead(study_2005, monkeypatch):
    study = load_study(study_2005[0])
    spec, wins = _spec_and_windows(study)
    reads, entered, go = [], threading.Event(), threading.Event()

    def slow_first(spec_, rows, cols):
        if not reads:
            entered.set()
            go.wait(10)                     # the pass claims chunk 2 meanwhile
        reads.append((rows.start, cols.start))
        return read_integers(spec_, rows, cols)

    monkeypatch.setattr(readahead, "read_integers", slow_first)
    ahead = NdviReadAhead.start(study, budget=3 * CHUNK_BYTES)
    assert entered.wait(10)                     # chunk 1 is being read
    assert ahead.take(spec, *wins[1]) is None   # not read yet: the pass reads it itself
    go.set()
    first = ahead.take(spec, *wins[0])          # waits while it is being read
    ahead._thread.join()
    assert first is not None
    assert reads == [(wins[0][0].start, wins[0][1].start), (wins[2][0].start, wins[2][1].start)]
    ahead.close()


def test_nothing_to_read_ahead(study_2005, tmp_path):
    study = load_study(study_2005[0])
    assert NdviReadAhead.start(study, budget=CHUNK_BYTES - 1) is None   # not one chunk
    (study_2005[0].parent / "ndvi/ndvi_2005.tif").unlink()
    assert NdviReadAhead.start(study) is None        # the checks report it, with the fix


def test_close_drops_what_was_not_taken(study_2005):
    study = load_study(study_2005[0])
    spec, wins = _spec_and_windows(study)
    ahead = NdviReadAhead.start(study)
    ahead._thread.join()
    assert ahead._state                      # read, not taken
    ahead.close()
    assert not ahead._thread.is_alive() and not ahead._state
    assert ahead.take(spec, *wins[0]) is None and not ahead._state


def test_the_read_ahead_thread_imports_nothing(study_2005):
    """It reads while the main thread imports the numerical libraries; two threads
    importing the same modules at once can see one half initialised (see the checks'
    test_background_checks_import_nothing). So it must find everything imported."""
    from .synthetic import modules_imported_in_threads

    assert modules_imported_in_threads(
        "from carbon_balance.study import load_study\n"
        "from carbon_balance.grid.readahead import NdviReadAhead\n"
        f"ahead = NdviReadAhead.start(load_study({str(study_2005[0])!r}))\n"
        "ahead._thread.join()\n"
        "assert ahead._state, 'nothing was read'\n") == []
