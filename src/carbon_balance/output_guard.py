"""What an output folder may be, and what it may replace (issue 15, item 1).

:mod:`carbon_balance.outputs` writes a run into a temporary sibling folder and renames it
into place. This module holds the rules that make that safe:

- **location**: ``--out`` may not be, contain, or lie inside an input of the study, and
  may not be or contain the study file's folder (``--out .`` run from the study's folder
  would otherwise replace every input). A folder *inside* the study's folder, such as
  ``results/`` next to ``study.toml``, is allowed: it holds no input (that is checked),
  and what it may replace is limited by the next rule;
- **replacement**: an existing ``--out`` is replaced only with ``--overwrite``, and only
  when it is an output folder of this tool (its ``manifest.json`` says
  ``"tool": "carbon-balance"``) or an empty folder;
- **commit**: the target is recorded at start (:class:`Target`) and checked again, under
  an exclusive lock on the parent folder, right before the rename. If it changed (another
  run finished into it meanwhile), it is left alone, and the new result is kept beside it
  under a visible name, with an error that names both;
- **stale temporary folders**: each temporary folder holds a marker file that its process
  keeps locked. At the next run into the same parent folder, temporary folders whose
  marker is no longer locked (their process died, e.g. by kill -9) are removed, with a
  log line; an earlier result that a killed run had moved aside mid-swap is put back.

Locks are ``flock`` locks (released by the kernel when a process dies, however it dies);
where ``fcntl`` does not exist (Windows) there is no lock, and stale folders are kept.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import CarbonBalanceError, OutputExistsError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

log = logging.getLogger(__name__)

TOOL = "carbon-balance"
MANIFEST = "manifest.json"
#: Marker file in a temporary output folder, locked by the process writing it.
MARKER = ".carbon-balance-partial"
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)$")


class OutputLocationError(CarbonBalanceError):
    """``--out`` would replace or write into an input of the study."""


class OutputConflictError(CarbonBalanceError):
    """The output folder changed while the run was computing; the result was kept beside it."""


# ---------------------------------------------------------------- location

def _resolve(path: Path) -> Path:
    from .study import safe_resolve   # a symbolic link loop is not a crash
    return safe_resolve(path)


def protected_paths(study) -> list[tuple[Path, str]]:
    """(path, what) of everything an output folder must not replace: the study file's
    folder, the study file, every input file (all years and months), the tables and the
    [reference] rasters."""
    out: list[tuple[Path, str]] = []
    if getattr(study, "source", None) is not None:
        source = _resolve(Path(study.source))
        out += [(source.parent, "the study file's folder"), (source, "the study file")]
    else:
        out.append((_resolve(Path(study.root)), "the study file's folder"))
    if getattr(study, "inputs", None) is not None:
        out += [(p, "an input of the study") for p in study.raster_files()]
    for key in ("units", "emissions", "gdp"):
        sec = getattr(study, key, None)
        if sec is not None:
            out.append((study.resolve(sec.path), f"the [{key}] table"))
    if getattr(study, "reference", None) is not None:
        out += [(study.reference.path(study, year), "a [reference] raster")
                for year in study.study.years]
    return out


def check_location(out: str | Path, protected: Iterable[tuple[Path, str]], *,
                   noun: str = "output folder") -> None:
    """Refuse an ``out`` that is, contains, or lies inside a protected path (the study
    file's folder: is or contains only)."""
    target = _resolve(Path(out))
    for path, what in protected:
        path = _resolve(Path(path))
        if target == path:
            relation = "is"
        elif path.is_relative_to(target):
            relation = "contains"
        elif target.is_relative_to(path) and "folder" not in what:
            relation = "lies inside"
        else:
            continue
        raise OutputLocationError(
            f"the {noun} {relation} {what} ({path}); writing the results there "
            "could replace it", file=out, key="--out",
            fix="choose an output folder that holds no input, e.g. a new folder "
                "'results' next to the study file" if noun == "output folder" else
                f"choose another {noun}")


def check_output_file(out: str | Path, overwrite: bool, inputs: Iterable[Path]) -> Path:
    """For commands that write one file (``zoning``): refuse an ``out`` that is one of
    ``inputs``, or that exists without ``overwrite``, or is a folder."""
    out = Path(out)
    check_location(out, [(Path(p), "the input table") for p in inputs], noun="output file")
    if out.is_dir():
        raise OutputExistsError("the output is a folder; this command writes one CSV file",
                                file=out, fix="give a file name, e.g. zones.csv")
    if out.exists() and not overwrite:
        raise OutputExistsError("the output file already exists", file=out,
                                fix="choose another --out file, or pass --overwrite to "
                                    "replace it")
    return out


# ---------------------------------------------------------------- replacement

@dataclass(frozen=True)
class Target:
    """What the output folder was when the run started."""

    path: Path
    #: None: absent; else (device, inode, manifest size, manifest mtime) of the folder.
    identity: tuple | None


def _identity(path: Path) -> tuple | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    try:
        m = (path / MANIFEST).stat()
        manifest = (m.st_ino, m.st_size, m.st_mtime_ns)
    except OSError:
        manifest = None
    return (st.st_dev, st.st_ino, st.st_mode, manifest)


def is_tool_output(path: Path) -> bool:
    """Whether ``path`` is an output folder of carbon-balance (its manifest says so)."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("tool") == TOOL


def check_target(out: str | Path, overwrite: bool) -> Target:
    """Refuse an existing ``out`` unless ``overwrite`` and it is this tool's output folder
    (or an empty folder); return what it is now, for the check at commit."""
    path = Path(out)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise OutputExistsError(
                "the output folder already exists", file=path,
                fix="choose another --out folder, or pass --overwrite to replace it")
        if not path.is_dir():
            raise OutputExistsError(
                "--overwrite replaces only an output folder of carbon-balance, and this "
                "is a file", file=path, fix="choose another --out folder")
        if not is_tool_output(path) and any(path.iterdir()):
            raise OutputExistsError(
                "--overwrite replaces only an output folder of carbon-balance (one with "
                "its manifest.json), and this folder is not one; nothing was changed",
                file=path, fix="choose a new --out folder (or empty this one yourself "
                               "if its contents may go)")
    return Target(_resolve(path), _identity(_resolve(path)))


# ---------------------------------------------------------------- locks

def _lock(fd: int, *, wait: bool) -> bool | None:
    """True: locked; False: another process holds the lock; None: this file system
    cannot lock (some network file systems refuse ``flock``)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError as exc:   # EBADF, ENOLCK, EINVAL on file systems without flock
        log.debug("no lock on this file system (%s)", exc)
        return None
    return True


@contextlib.contextmanager
def parent_lock(parent: Path) -> Iterator[None]:
    """Exclusive lock on the folder ``parent`` (commits and clean-ups into it take turns)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(parent, os.O_RDONLY)
    except OSError:   # an unreadable parent: the commit itself reports what is wrong
        yield
        return
    try:
        _lock(fd, wait=True)
        yield
    finally:
        os.close(fd)   # releases the lock


def mark_partial(tmp: Path) -> int:
    """Write and lock the marker of the temporary folder ``tmp``; returns its descriptor,
    kept open (and locked) until :func:`unmark_partial`."""
    fd = os.open(tmp / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    _lock(fd, wait=False)
    os.write(fd, f"{TOOL} pid {os.getpid()}\n".encode())
    return fd


def unmark_partial(tmp: Path, fd: int | None) -> None:
    """Remove the marker before the folder becomes the result."""
    with contextlib.suppress(OSError):
        (tmp / MARKER).unlink()
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def _owner_gone(folder: Path) -> bool:
    """Whether the process that wrote the temporary ``folder`` has ended."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(folder / MARKER, os.O_RDWR)
    except OSError:
        return False   # not ours (or another user's), or committing right now
    try:
        return _lock(fd, wait=False) is True   # no lock possible: keep the folder
    finally:
        os.close(fd)


def remove_stale(out: Path) -> None:
    """Remove temporary folders of dead runs next to ``out``; put back an earlier result
    that a run killed mid-swap had moved aside. Call with :func:`parent_lock` held."""
    parent = out.parent
    if not parent.is_dir():
        return
    for entry in sorted(parent.iterdir()):
        m = _PARTIAL.match(entry.name)
        if m is None or not entry.is_dir() or entry.is_symlink():
            continue
        if m["kind"] == "partial":
            if _owner_gone(entry):
                log.info("removing %s, the temporary folder of an earlier run that did not "
                         "finish (process %s)", entry, m["pid"])
                shutil.rmtree(entry, ignore_errors=True)
        elif m["name"] == out.name and is_tool_output(entry):
            # an earlier result moved aside by a commit; commits hold the parent lock, so
            # one seen here belongs to a run that died mid-swap (or is being deleted)
            if not out.exists():
                log.warning("restoring %s from %s, where a run that did not finish had "
                            "moved it", out, entry)
                entry.rename(out)
            else:
                log.info("removing %s, an earlier result already replaced", entry)
                shutil.rmtree(entry, ignore_errors=True)


def kept_name(out: Path) -> Path:
    """A visible, unused sibling name for a result that could not be moved to ``out``."""
    base = out.with_name(f"{out.name}.new-{os.getpid()}")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def commit(tmp: Path, target: Target, old: Path) -> None:
    """Move ``tmp`` to the target if it is still what it was at start; else keep ``tmp``
    beside it and raise :class:`OutputConflictError`. Call with :func:`parent_lock` held."""
    out = target.path
    if _identity(out) != target.identity:
        kept = kept_name(out)
        tmp.rename(kept)
        raise OutputConflictError(
            "the output folder changed while this run was computing (another run wrote "
            f"it?); it was left as it is, and this run's complete result is in {kept}",
            file=out, key="--out",
            fix="compare the two folders and keep the one you want; give each run its "
                "own --out folder")
    if target.identity is not None:
        out.rename(old)
    tmp.rename(out)            # the one atomic step that makes the result visible
