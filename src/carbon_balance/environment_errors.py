"""Problems of the machine, not of the inputs, explained (issue 15, item 5): a full disk,
a folder one may not write, a symbolic link loop. The command line turns them into one
message and exit status 2 instead of a traceback."""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from .errors import CarbonBalanceError


class EnvironmentProblem(CarbonBalanceError):
    """The machine refused (disk full, permission denied, ...)."""


_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
#: How libraries that do not raise OSError (GDAL through rasterio, SQLite) word them.
_TEXT = {"no space left on device": errno.ENOSPC, "disk quota exceeded": errno.ENOSPC,
         "permission denied": errno.EACCES, "read-only file system": errno.EROFS}
_PARTIAL = re.compile(r"^\.(.+)\.partial-\d+$")
#: Attribute set on a disk-full error: bytes the run had written when the disk filled.
WRITTEN = "carbon_balance_written"


def _errno(exc: BaseException) -> int | None:
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    text = str(exc).lower()
    return next((code for words, code in _TEXT.items() if words in text), None)


def is_disk_full(exc: BaseException) -> bool:
    return _errno(exc) in _DISK_FULL


def record_written(exc: BaseException, folder: Path) -> None:
    """Remember on ``exc`` how much the run had written into ``folder`` (before it goes)."""
    if not is_disk_full(exc):
        return
    try:
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        setattr(exc, WRITTEN, size)
    except (OSError, AttributeError, TypeError):
        pass


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} kB"


def _output_folder(path: Path) -> Path:
    """The output folder a file of a temporary ``.DIR.partial-<pid>`` folder is for."""
    for parent in [path, *path.parents]:
        m = _PARTIAL.match(parent.name)
        if m:
            return parent.with_name(m.group(1))
    return path.parent


def explain(exc: BaseException) -> EnvironmentProblem | None:
    """The explained form of ``exc``, or None if it is not an environment problem."""
    code = _errno(exc)
    name = getattr(exc, "filename", None)
    if code in _DISK_FULL:
        target = _output_folder(Path(name)) if name else Path.cwd()
        existing = target
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        free = shutil.disk_usage(existing).free
        written = getattr(exc, WRITTEN, None)
        need = (f"; the run had written {_mb(written)} when the disk filled, and needs "
                "more than that" if written else "")
        return EnvironmentProblem(
            f"no space left on the disk of {target} ({_mb(free)} free){need}; nothing was "
            "kept", file=target, fix="free some space, or choose an --out folder on another "
                                     "disk")
    if code in _DENIED:
        where = name or "a file or folder"
        return EnvironmentProblem(
            f"permission denied ({os.strerror(code)}) writing or reading {where}",
            file=name, fix="choose an --out folder you may write to, or fix the permissions")
    if code == errno.ELOOP:
        return EnvironmentProblem("a loop of symbolic links", file=name,
                                  fix="point the link at the real file or folder")
    if code == errno.ENAMETOOLONG:
        return EnvironmentProblem("the path is too long for the file system", file=name,
                                  fix="use a shorter folder or file name")
    return None
