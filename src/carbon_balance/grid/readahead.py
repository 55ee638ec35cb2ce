"""NDVI read ahead, on the core that the command's start-up leaves idle.

Before its first chunk, ``carbon-balance nep`` spends ~2 s importing its libraries,
loading the compiled kernels and checking the inputs: work that holds Python's GIL, so
one core does it while the other waits (docs/grid.md, section 5). Decoding compressed
rasters does not need the GIL (GDAL releases it), and the first thing the run needs is
the first year's NDVI, for the histogram pass. :class:`NdviReadAhead` reads the stored
NDVI integers of the first chunks in a background thread meanwhile; the histogram pass
takes each chunk from it instead of reading it (:meth:`NdviReadAhead.take`), the same
numbers (:func:`~carbon_balance.grid.readers.read_integers` either way).

Only for the local threaded scheduler (dask.distributed workers are other processes),
only when NDVI is stored as small integers on the study grid (as for the NDVI scratch),
and never more than :data:`READ_AHEAD_BYTES`. A chunk is read once: by the read-ahead
thread, or by the pass when it claims the chunk first.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from .readers import InputSpec, input_spec, read_integers
from .template import chunk_shape, study_grid, windows

log = logging.getLogger(__name__)

#: Most stored NDVI held ahead of the histogram pass [bytes] (10 chunks of 1024 x 1024
#: x 12 months of int16).
READ_AHEAD_BYTES = 256 * 2**20

_READING = object()   # the read-ahead thread is reading the chunk
_CLAIMED = object()   # the pass took the chunk, or reads it itself


class NdviReadAhead:
    """Stored NDVI integers of ``wins`` of ``spec``, read in a background thread."""

    def __init__(self, spec: InputSpec, wins: list[tuple[slice, slice]],
                 chunks: tuple[int, int]):
        self.spec = spec
        #: the chunk shape of ``wins`` (the pass must use the same to find them)
        self.chunks = chunks
        self._wins = list(wins)
        self._state: dict[tuple, object] = {}
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read_all, daemon=True,
                                        name="carbon-balance NDVI read-ahead")
        self._thread.start()

    @classmethod
    def start(cls, study, budget: int = READ_AHEAD_BYTES) -> NdviReadAhead | None:
        """Start reading the first year's first chunks of ``study``; None where there is
        nothing to read ahead (NDVI not small integers on the grid, or unreadable: the
        checks then say why)."""
        try:
            grid = study_grid(study)
            spec = input_spec(study, "ndvi", study.study.years[0], grid)
        except Exception:   # noqa: BLE001  (reported by the checks, with the fix)
            return None
        if not spec.small_integers:
            return None
        chunks = chunk_shape(study)   # as write_grids chooses them
        wins = windows(grid, chunks)
        per_chunk = 12 * chunks[0] * chunks[1] * np.dtype(spec.raw_dtype).itemsize
        n = min(len(wins), budget // per_chunk)
        if n == 0:
            return None
        return cls(spec, wins[:n], chunks)

    @staticmethod
    def _key(rows: slice, cols: slice) -> tuple:
        return (rows.start, rows.stop, cols.start, cols.stop)

    def _read_all(self) -> None:
        for rows, cols in self._wins:
            key = self._key(rows, cols)
            with self._changed:
                if self._closed:
                    return
                if key in self._state:    # claimed by the pass already
                    continue
                self._state[key] = _READING
            integers = _CLAIMED   # on any error the pass reads it again, and reports
            try:
                integers = read_integers(self.spec, rows, cols)
            except Exception:   # noqa: BLE001
                pass
            finally:   # never leave the chunk "being read": take() would wait for ever
                with self._changed:
                    if not self._closed:
                        self._state[key] = integers
                    self._changed.notify_all()

    def take(self, spec: InputSpec, rows: slice, cols: slice) -> np.ndarray | None:
        """The chunk's stored integers if they were read ahead (waiting while they are
        being read); None, and the chunk no longer read ahead, otherwise."""
        if spec != self.spec:
            return None
        key = self._key(rows, cols)
        with self._changed:
            if self._closed:
                return None
            while self._state.get(key) is _READING and not self._closed:
                self._changed.wait()
            found = self._state.get(key)
            self._state[key] = _CLAIMED
        return found if isinstance(found, np.ndarray) else None

    def close(self) -> None:
        """Stop reading ahead and drop what was not taken."""
        with self._changed:
            self._closed = True
            self._state.clear()
            self._changed.notify_all()
        self._thread.join()
