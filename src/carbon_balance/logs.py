"""Console logging of the command line: the package's messages, the progress display's
lines, and the libraries' own loggers kept at WARNING unless ``--verbose``.

dask.distributed sets its loggers' levels when it is imported (``distributed: info``, from
its ``logging`` configuration), after the command line has set them, so
:func:`settle_library_loggers` sets them again once it is imported
(:func:`carbon_balance.grid.runner.dask_client`); its worker processes log through their
own configuration, which ``LocalCluster(silence_logs=...)`` sets
(:func:`worker_log_level`).
"""

from __future__ import annotations

import logging

#: Libraries whose INFO messages are theirs, not the user's: WARNING unless --verbose.
LIBRARY_LOGGERS = ("distributed", "dask", "bokeh", "tornado", "rasterio", "fiona", "pyogrio",
                   "numba", "matplotlib", "fontTools", "PIL")

_settings = {"cli": False, "verbose": False}


class ConsoleHandler(logging.Handler):
    """Writes "LEVEL message" through a rich console, so that lines land above a live
    progress display instead of through it. While the display is live it shows the
    progress itself: the progress lines and (unless ``--verbose``) INFO lines go only to
    the run log."""

    def __init__(self, console, level: int, *, verbose: bool):
        super().__init__(level)
        self.console, self.verbose = console, verbose
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        from . import progress

        if progress.live():
            if record.name == progress.__name__:
                return False
            if record.levelno < logging.WARNING and not self.verbose:
                return False
        return super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.print(self.format(record), markup=False, highlight=False)
        except Exception:  # logging must never end the command
            self.handleError(record)


def configure(console, *, quiet: bool, verbose: bool) -> None:
    """The command line's console logging (replacing any of an earlier call)."""
    level = logging.WARNING if quiet else logging.INFO
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, ConsoleHandler)]:
        root.removeHandler(h)
    root.addHandler(ConsoleHandler(console, level, verbose=verbose))
    root.setLevel(logging.INFO)
    logging.getLogger("carbon_balance").setLevel(level)
    _settings.update(cli=True, verbose=verbose)
    settle_library_loggers()
    # fetch: a failed connection's retries end in one message of its own (sources/stac.py)
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def settle_library_loggers() -> None:
    """Set the libraries' loggers to WARNING (INFO with ``--verbose``); only under the
    command line (a Python caller's logging configuration is its own)."""
    if not _settings["cli"]:
        return
    level = logging.INFO if _settings["verbose"] else logging.WARNING
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def worker_log_level():
    """``silence_logs`` for a LocalCluster: WARNING, or False (their own INFO) with
    ``--verbose``."""
    return False if _settings["verbose"] else logging.WARNING
