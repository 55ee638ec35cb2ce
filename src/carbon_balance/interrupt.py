"""Ctrl-C, remembered: the command exits 130 whatever a library turned it into.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when SIGINT
arrives. When that is a Python callback inside a C extension, the extension may report it
as its own error: pandas' C CSV parser, interrupted inside the ``read`` it calls, raises
``ParserError: Calling read(nbytes) on source failed``. Without a record of the signal
the command would then print a traceback and exit 1 instead of saying it was
interrupted (seen in CI, tests/errors/test_atomic_run.py). The handler below behaves as
Python's default one and also records that a Ctrl-C was received, so the command line
can map any error that follows to "interrupted", exit 130.
"""

from __future__ import annotations

import signal
import threading

#: What every command says when Ctrl-C stopped it (exit status 130).
INTERRUPTED = "interrupted: no output folder was completed"

_received = threading.Event()


def _record_and_interrupt(signum, frame):
    _received.set()
    raise KeyboardInterrupt


def watch_for_ctrl_c() -> None:
    """Record Ctrl-C from now on (main thread only; a handler set by the caller is kept)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _record_and_interrupt)


def ctrl_c_received() -> bool:
    """Whether a Ctrl-C (SIGINT) arrived since :func:`watch_for_ctrl_c`."""
    return _received.is_set()
