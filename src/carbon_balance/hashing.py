"""sha256 of a study's input files, computed in a background thread for the manifest.

Hashing 1.5 GiB of inputs takes about 1.5 s of one core. ``carbon-balance nep`` starts it
before importing the numerical libraries (:meth:`BackgroundHashes.of_study`), so it runs
on the core that the imports and checks leave idle instead of competing with the compute
passes. hashlib releases the GIL on large buffers. The digests are those of
:func:`carbon_balance.outputs.file_sha256`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

#: The study's raster inputs, in the order of the [inputs] tables.
INPUT_NAMES = ("ndvi", "temperature", "precipitation", "radiation", "vegetation")
#: Class tables shipped with the package (not hashed: they are part of the version).
BUILT_IN_CLASSES = ("casa", "cas-lucc", "modis-igbp", "esa-worldcover", "clcd")


def study_inputs(study) -> list[Path]:
    """Every input file of the study (for the manifest's hashes)."""
    files = []
    for year in study.study.years:
        for name in INPUT_NAMES:
            files += study.input_paths(name, year)
    classes = study.inputs.vegetation.classes
    if classes not in BUILT_IN_CLASSES:
        files.append(study.resolve(classes))
    return list(dict.fromkeys(files))


#: Nice value of the hashing thread: it takes the CPU time the run leaves idle.
HASH_NICENESS = 19


def lower_priority(niceness: int = HASH_NICENESS) -> bool:
    """Give the calling thread the lowest scheduling priority (Linux: a thread is a task
    with its own nice value). The run's own threads then always come first, and the
    hashes fill the gaps they leave (the GIL-bound start-up, the ends of the passes)
    instead of slowing the passes. Elsewhere (no per-thread priority) it does nothing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), niceness))
    except (OSError, AttributeError):
        return False
    return True


class BackgroundHashes:
    """sha256 of the files ``list_paths()`` names, in a daemon thread started at once."""

    def __init__(self, list_paths: Callable[[], Iterable[str | Path]]):
        self._list_paths = list_paths
        self._stop = threading.Event()
        self._hashes: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="sha256-inputs", daemon=True)
        self._thread.start()

    @classmethod
    def of_study(cls, study) -> "BackgroundHashes":
        """Hash the input files of a loaded study (:func:`study_inputs`)."""
        return cls(lambda: study_inputs(study))

    def _run(self):
        lower_priority()
        try:
            paths = [str(Path(p).resolve()) for p in self._list_paths()]
        except Exception:   # noqa: BLE001 - the checks report bad studies and paths
            return
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        for path in paths:
            h = hashlib.sha256()
            try:
                with open(path, "rb", buffering=0) as fh:
                    while n := fh.readinto(buffer):
                        if self._stop.is_set():
                            return
                        h.update(view[:n])
            except OSError:
                continue        # write_manifest skips or hashes it itself
            self._hashes[path] = h.hexdigest()

    def result(self) -> dict[str, str]:
        """{resolved path: sha256 hex digest}, once every file is hashed."""
        self._thread.join()
        return dict(self._hashes)

    def cancel(self):
        self._stop.set()
