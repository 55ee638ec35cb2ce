"""The output folder: its layout, atomic commit and manifest.

A run never writes into ``DIR`` directly. It writes into a temporary sibling folder
``.DIR.partial-<pid>`` and renames it to ``DIR`` only when everything, the manifest last,
has been written. An interrupted run (Ctrl-C, kill -9, a crash) therefore leaves at most
a ``.partial`` folder, never a ``DIR`` that looks complete. An existing ``DIR`` is replaced
only with ``overwrite=True``.

Layout of a complete output folder::

    DIR/manifest.json          tool version, command, parameters, sha256 of every input
    DIR/run.log                the log of the run
    DIR/grids/{year}/npp.tif   annual grids (nep command)
    DIR/tables/*.csv           per-unit, group and region tables (run command)
    DIR/units.gpkg             polygons with indicators, one layer per year
    DIR/figures/*.png          figures
    DIR/report.html            the self-contained report
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from . import environment_errors, output_guard

MANIFEST = "manifest.json"
LOG = "run.log"

#: Temporary folders of this process not yet committed or removed. A Ctrl-C can land
#: between the generator's ``yield`` and the start of the ``with`` body, where the context
#: manager's cleanup never runs; these are removed at exit instead.
_unfinished: set[Path] = set()


def remove_unfinished() -> None:
    """Remove the temporary output folders this process left uncommitted."""
    for tmp in list(_unfinished):
        shutil.rmtree(tmp, ignore_errors=True)
        _unfinished.discard(tmp)


atexit.register(remove_unfinished)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of every byte of a file, read in 1 MiB pieces (hashlib releases the
    GIL on large buffers, so this runs beside the computation). Raises OSError when the
    file cannot be read."""
    h = hashlib.sha256()
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            h.update(view[:n])
    return h.hexdigest()


class InputHashes:
    """sha256 of ``paths`` for the manifest, computed in one background thread while the
    run computes: every byte of every file, on every run (no digest is trusted from
    file metadata). Files that cannot be read are left to :func:`write_manifest`."""

    def __init__(self, paths: Iterable[str | Path]):
        self._paths = sorted({str(Path(p).resolve()) for p in paths})
        self._hashes: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="sha256-inputs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for path in self._paths:
            try:
                self._hashes[path] = file_sha256(path)
            except OSError:
                continue

    def result(self) -> dict[str, str]:
        """{resolved path: sha256 hex digest}, once every file is hashed."""
        self._thread.join()
        return dict(self._hashes)


def check_can_write(out: str | Path, overwrite: bool, *, study=None) -> Path:
    """Refuse early (before any computing) an ``out`` that may not be written: one that
    is, contains or lies inside an input of ``study`` or is its folder, an existing
    folder without ``overwrite``, or one that is not this tool's output
    (:mod:`carbon_balance.output_guard`)."""
    out = Path(out)
    if study is not None:
        output_guard.check_location(out, output_guard.protected_paths(study))
    output_guard.check_target(out, overwrite)
    return out


def write_manifest(folder: Path, *, command: str, parameters: dict,
                   inputs: Iterable[str | Path] = (), outputs_note: str = "",
                   hashes: dict[str, str] | None = None) -> Path:
    """Write ``manifest.json``: version, command, parameters, input hashes, output list.

    The run time is recorded, but kept out of the tables so that identical inputs give
    byte-identical tables. ``hashes``: sha256 hex digests already computed, by resolved
    path (e.g. in a background thread while computing); other inputs are hashed here.
    """
    hashes = hashes or {}
    files = sorted({str(Path(p).resolve()) for p in inputs})
    manifest = {
        "tool": "carbon-balance",
        "version": __version__,
        "python": sys.version.split()[0],
        "command": command,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "inputs": [{"path": p, "sha256": hashes.get(p) or file_sha256(p),
                    "bytes": os.path.getsize(p)}
                   for p in files if os.path.isfile(p)],
        "outputs": sorted(str(p.relative_to(folder)).replace(os.sep, "/")
                          for p in folder.rglob("*")
                          if p.is_file() and p.name not in (MANIFEST, output_guard.MARKER)),
        "note": outputs_note,
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def atomic_output(out: str | Path, *, overwrite: bool = False, study=None) -> Iterator[Path]:
    """Yield a temporary folder to write into; move it to ``out`` only on success.

    On any exception the temporary folder is removed and ``out`` is left as it was. The
    caller writes the manifest last (see :func:`write_manifest`). ``study``: refuse an
    ``out`` that would replace its inputs or its folder. The move re-checks, under a lock,
    that ``out`` is still what it was here (see :func:`output_guard.commit`).
    """
    out = output_guard._resolve(Path(out))
    if out.parent.is_dir():   # first, so that a result a killed run moved aside is back
        with output_guard.parent_lock(out.parent):
            output_guard.remove_stale(out)
    check_can_write(out, overwrite, study=study)
    target = output_guard.check_target(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    root = logging.getLogger("carbon_balance")
    handler = marker = None
    committed = False
    # Everything from creating the folder on sits inside the try: a Ctrl-C may arrive
    # between any two statements, and must still leave no temporary folder behind.
    _unfinished.add(tmp)
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        marker = output_guard.mark_partial(tmp)
        handler = logging.FileHandler(tmp / LOG, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        yield tmp
        _detach(root, handler)
        handler = None
        with output_guard.parent_lock(out.parent):
            output_guard.unmark_partial(tmp, marker)
            marker = None
            try:
                output_guard.commit(tmp, target, old)
            finally:
                committed = not tmp.exists()   # moved into place, or kept beside it
                if committed:
                    _unfinished.discard(tmp)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        _detach(root, handler)
        environment_errors.record_written(exc, tmp)   # the space a full disk lacked
        if marker is not None:
            output_guard.unmark_partial(tmp, marker)
        if not committed:
            shutil.rmtree(tmp, ignore_errors=True)
            _unfinished.discard(tmp)
            if old.exists() and not out.exists():
                old.rename(out)  # interrupted mid-swap: put the earlier result back
        raise


def _detach(root: logging.Logger, handler: logging.Handler | None) -> None:
    if handler is not None:
        root.removeHandler(handler)
        handler.close()
