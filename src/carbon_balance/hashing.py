"""sha256 of a study's input files, computed in background threads for the manifest.

Hashing 1.5 GiB of inputs takes about 1.1 s of one core (1.5 GiB/s with the CPU's SHA
instructions). ``carbon-balance nep`` starts it before importing the numerical libraries
(:meth:`BackgroundHashes.of_study`), in threads of the lowest priority, so that it uses
the CPU time the run leaves idle (the GIL-bound start-up, the ends of the passes) rather
than slowing the passes; what is left at the end is shared by all cores. hashlib releases
the GIL on large buffers. The digests are those of
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


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class BackgroundHashes:
    """sha256 of the files ``list_paths()`` names, in daemon threads started at once.

    One thread per core, each taking the largest file not yet taken, all at the lowest
    priority (:func:`lower_priority`): they use the CPU time the run leaves idle, and
    whatever is left when the run ends is hashed on every core instead of one.
    """

    def __init__(self, list_paths: Callable[[], Iterable[str | Path]],
                 threads: int | None = None):
        self._list_paths = list_paths
        self._stop = threading.Event()
        self._hashes: dict[str, str] = {}
        self._todo: list[str] | None = None
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, name=f"sha256-inputs-{i}",
                                          daemon=True)
                         for i in range(threads or os.cpu_count() or 1)]
        for t in self._threads:
            t.start()

    @classmethod
    def of_study(cls, study) -> "BackgroundHashes":
        """Hash the input files of a loaded study (:func:`study_inputs`)."""
        return cls(lambda: study_inputs(study))

    def _next(self) -> str | None:
        with self._lock:
            if self._todo is None:
                try:
                    paths = {str(Path(p).resolve()) for p in self._list_paths()}
                except Exception:   # noqa: BLE001 - the checks report bad studies and paths
                    paths = set()
                # smallest last: the threads finish close together
                self._todo = sorted(paths, key=_size)
            return self._todo.pop() if self._todo else None

    def _run(self):
        lower_priority()
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        while (path := self._next()) is not None:
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
        for t in self._threads:
            t.join()
        return dict(self._hashes)

    def cancel(self):
        self._stop.set()
