"""Worker processes that never outlive the command that started them (issue 15, item 1).

A ``ProcessPoolExecutor`` worker waits for tasks on a pipe whose writing end it holds
itself (inherited through ``fork``), so when its parent is killed with ``kill -9`` it
never sees the end of the pipe: it is adopted by init and waits forever (~350 MB each).
The pools here start every worker with :func:`die_with_parent`: on Linux the kernel
sends the worker SIGKILL when its parent ends (``PR_SET_PDEATHSIG``), and everywhere a
daemon thread checks the parent once a second and ends the worker when it has gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

#: How often a worker checks that its parent is still there [s].
PARENT_CHECK_INTERVAL = 1.0
#: prctl option: signal to receive when the parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _kernel_kills_on_parent_exit() -> None:
    """Linux: ask for SIGKILL when the parent ends (immediate; no polling)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass   # the watching thread below still ends the worker


def _watch_parent(parent: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:   # re-parented: the command has ended
            os._exit(1)


def die_with_parent(parent: int, interval: float = PARENT_CHECK_INTERVAL) -> None:
    """Worker initializer: end this process when process ``parent`` ends."""
    _kernel_kills_on_parent_exit()
    if os.getppid() != parent:   # the parent ended before the request above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, interval), daemon=True,
                     name="carbon-balance-parent-watch").start()


def process_pool(max_workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with this process, however it ends.

    Use it from the thread that creates it, in a ``with`` block (Linux ends a worker
    when the *thread* that started it ends)."""
    return ProcessPoolExecutor(max_workers=max_workers, initializer=die_with_parent,
                               initargs=(os.getpid(),))
