"""Process-wide memory settings of the ``carbon-balance`` executable (not of the API).

A grid run allocates and frees the same few large arrays for every chunk (a chunk's
decoded inputs are ~50 MB each). glibc serves allocations above its mmap threshold
(at most 32 MiB) with fresh ``mmap`` calls and returns them to the kernel when freed, so
every chunk faults in new pages that the kernel must zero first: at 4096 x 4096 that was
2.4 s of the run's ~24 s of CPU in the kernel's ``clear_page`` (measured with ``perf``).
:func:`reuse_freed_memory` makes glibc keep freed memory in one heap and hand it out
again: huge-page faults of a 4096 x 4096 run fell from 1577 to 369 and its system time
from 3.5-4.5 s to 2.2-3.7 s (docs/grid.md, section 5).

Huge pages make it worse: numpy asks for them (``madvise(MADV_HUGEPAGE)``) on every
large array, and each first touch of one then zeroes 2 MiB at once. The executable turns
that off too (``NUMPY_MADVISE_HUGEPAGE=0``, numpy's own switch, unless it is already
set): system time of a 4096 x 4096 run fell again, from 2.3-3.4 s to 1.5-1.7 s, with the
same user time (three interleaved pairs; docs/grid.md, section 5).

The cost is that freed memory is not returned to the operating system before the
process ends, which suits a command that exits when done; so only the executable calls
it, never ``import carbon_balance`` (a notebook keeps the allocator it had).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import sys

#: Environment variable: "1" keeps the system's malloc settings.
SYSTEM_MALLOC_ENV = "CARBON_BALANCE_SYSTEM_MALLOC"

# mallopt parameters (glibc malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX, M_ARENA_MAX = -1, -2, -4, -8
#: Free memory kept at the top of the heap before glibc gives it back [bytes].
TRIM_THRESHOLD = 2**31 - 1
#: Extra memory requested from the kernel whenever the heap grows [bytes].
TOP_PAD = 64 * 2**20
#: numpy's environment variable for huge pages (read when numpy is imported).
NUMPY_HUGEPAGE_ENV = "NUMPY_MADVISE_HUGEPAGE"


def reuse_freed_memory() -> bool:
    """Ask numpy not to ask for huge pages (on Linux), and glibc to serve large
    allocations from one heap it never trims (one arena, no ``mmap`` for large blocks).
    Returns whether glibc took its settings: False where this is not glibc (macOS,
    Windows, musl), and False, changing nothing at all, with
    ``CARBON_BALANCE_SYSTEM_MALLOC=1``. Call it before any thread starts."""
    if not sys.platform.startswith("linux") or os.environ.get(SYSTEM_MALLOC_ENV) == "1":
        return False
    _no_huge_pages_for_numpy()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    settings = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                (M_TOP_PAD, TOP_PAD))
    return all(mallopt(param, value) == 1 for param, value in settings)


def _no_huge_pages_for_numpy() -> None:
    if NUMPY_HUGEPAGE_ENV in os.environ:   # the user's own choice stands
        return
    os.environ[NUMPY_HUGEPAGE_ENV] = "0"   # numpy not yet imported, and worker processes
    if "numpy" in sys.modules:
        import numpy

        numpy._core.multiarray._set_madvise_hugepage(False)


@contextlib.contextmanager
def no_gc_while_starting():
    """No garbage collection while a command imports its libraries and loads its kernels;
    afterwards what they made is frozen (:func:`gc.freeze`) and collection resumes.

    Start-up makes ~10^6 long-lived objects (numba, pandas, dask, LLVM) and no garbage to
    speak of, yet the collector walks them all again and again: three full collections
    and ~450 young ones, 0.3-0.4 s with the GIL held, at the start of a 4096 x 4096
    ``nep`` run (measured with ``gc.callbacks``). Frozen, they are not walked again.
    For the executable only: a notebook keeps its collector as it is.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
