"""sha256 of a study's input files, computed in background threads for the manifest.

Hashing 1.5 GiB of inputs takes about 1.1 s of one core (1.5 GiB/s with the CPU's SHA
instructions); a national study's tens of GiB take a minute. So:

- ``carbon-balance nep`` starts it before importing the numerical libraries
  (:meth:`BackgroundHashes.of_study`), in threads of the lowest priority, so that it uses
  the CPU time the run leaves idle (the GIL-bound start-up, the ends of the passes)
  rather than slowing the passes; what is left at the end is shared by all cores;
- the digest of each file is kept between runs (:func:`cached_sha256`, in the user's
  cache folder, as numba keeps its compiled kernels), and a file whose size, times, inode
  and device are unchanged is not read again; ``CARBON_BALANCE_HASH_CACHE=0`` turns
  this off.

hashlib releases the GIL on large buffers. :func:`file_sha256` is the one digest of a
file: the manifest's, whether computed here in the background or when it is written.
"""

from __future__ import annotations

import hashlib
import json
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


#: Environment variable: "0" hashes every input on every run (no cache of digests).
HASH_CACHE_ENV = "CARBON_BALANCE_HASH_CACHE"


def hash_cache_dir() -> Path:
    """Where the digests of earlier runs are kept: ``$XDG_CACHE_HOME/carbon-balance/sha256``
    (``~/.cache`` when unset), one small JSON file per input path."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "carbon-balance" / "sha256"


def _identity(st: os.stat_result) -> list[int]:
    # ctime changes on every write and every metadata change, and cannot be set back
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _entry(path: str) -> Path:
    return hash_cache_dir() / (hashlib.sha256(path.encode()).hexdigest()[:32] + ".json")


def cached_sha256(path: str) -> str | None:
    """The sha256 an earlier run recorded for ``path`` (a resolved path), if the file has
    not changed since: same size, modification and change times, inode and device (the
    test git and DVC use). None otherwise, or with ``CARBON_BALANCE_HASH_CACHE=0``."""
    if os.environ.get(HASH_CACHE_ENV) == "0":
        return None
    try:
        st = os.stat(path)
        entry = json.loads(_entry(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if entry.get("path") == path and entry.get("identity") == _identity(st):
        return entry.get("sha256")
    return None


def remember_sha256(path: str, digest: str, before: os.stat_result) -> None:
    """Record ``digest`` for the next runs, unless the file changed while it was hashed
    (``before``: its stat when hashing began) or the cache is off. Written to a temporary
    file and renamed, so a reader never sees half an entry; failures are ignored (the
    cache only saves time)."""
    if os.environ.get(HASH_CACHE_ENV) == "0":
        return
    try:
        if _identity(os.stat(path)) != _identity(before):
            return
        entry = _entry(path)
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.{threading.get_native_id()}.tmp")
        tmp.write_text(json.dumps({"path": path, "identity": _identity(before),
                                   "sha256": digest}), encoding="utf-8")
        os.replace(tmp, entry)
    except OSError:
        pass


def file_sha256(path: str | Path, *, stop: threading.Event | None = None,
                buffer: bytearray | None = None) -> str | None:
    """Hex sha256 of a file, read in 1 MiB pieces (into ``buffer`` when given): the
    digest an earlier run recorded when the file is unchanged (:func:`cached_sha256`),
    else computed and recorded. None when ``stop`` is set before it is done. Raises
    OSError when the file cannot be read."""
    key = str(Path(path).resolve())
    if (known := cached_sha256(key)) is not None:
        return known
    buffer = buffer if buffer is not None else bytearray(1 << 20)
    view = memoryview(buffer)
    h = hashlib.sha256()
    before = os.stat(key)
    with open(key, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            if stop is not None and stop.is_set():
                return None
            h.update(view[:n])
    digest = h.hexdigest()
    remember_sha256(key, digest, before)
    return digest


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class BackgroundHashes:
    """sha256 of the files ``list_paths()`` names, in daemon threads started at once.

    One thread per core, each taking the largest file not yet taken, all at the lowest
    priority (:func:`lower_priority`): they use the CPU time the run leaves idle, and
    whatever is left when the run ends is hashed on every core instead of one. A file
    unchanged since an earlier run is not read again (:func:`cached_sha256`).
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
        while (path := self._next()) is not None:
            try:
                digest = file_sha256(path, stop=self._stop, buffer=buffer)
            except OSError:
                continue        # write_manifest skips or hashes it itself
            if digest is None:  # cancelled
                return
            self._hashes[path] = digest

    def result(self) -> dict[str, str]:
        """{resolved path: sha256 hex digest}, once every file is hashed."""
        for t in self._threads:
            t.join()
        return dict(self._hashes)

    def cancel(self):
        self._stop.set()
