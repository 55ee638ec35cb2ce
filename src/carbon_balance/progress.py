"""One progress display for a whole command, across its stages.

The CLI opens a :func:`command`; the pipeline announces its stages (:func:`plan`), runs
each inside :func:`stage` and marks the items of a stage (years, figures) with
:func:`item`; the grid runner names the pass in flight with :func:`step`. Three modes:

``live``
    on a terminal: one rich display of two rows, the command (stage *i* of *n*, elapsed
    time) and the current stage (its item and pass, items done, elapsed and remaining
    time); a finished stage leaves one line behind.
``lines``
    off a terminal (a log file, CI): plain log lines, one per stage start and end, item
    and pass, through the ``carbon_balance.progress`` logger.
``off``
    ``--quiet``: nothing on the console.

In every mode the same lines go to the logger, so a run's ``run.log`` records the stages
and their times. Without an open :func:`command` (the Python API, the tests) every call
here is a no-op: a library does not draw on its caller's terminal.

The remaining time is rich's estimate for the current stage, from its items so far (the
years of one stage cost alike; the stages of a command do not, so no estimate is made for
the command as a whole).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Iterator

log = logging.getLogger(__name__)

MODES = ("live", "lines", "off")

#: The display of the command in flight (None: no command, every call a no-op).
_active: "_Display | None" = None


def _count(n: int, unit: str) -> str:
    """"2 years", "1 year" (``unit`` given in the plural)."""
    return f"{n} {unit[:-1] if n == 1 and unit.endswith('s') else unit}".strip()


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


class _Display:
    def __init__(self, name: str, mode: str, console):
        self.name, self.mode, self.console = name, mode, console
        self.stages: list[str] = []
        self.stage_name: str | None = None
        self.stage_t0 = 0.0
        self.unit = ""
        self.total: int | None = None
        self.done = 0
        self.item_label: str | None = None
        self.step_label: str | None = None
        self.begun = False   # the stage in flight was opened by begin(), not stage()
        self.bar = None

    # -- the rich display (live mode only) ------------------------------------------------
    def open(self) -> None:
        if self.mode != "live":
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
                            _Remaining(), console=self.console, transient=True)
        self.bar.start()
        self.command_task = self.bar.add_task(self.name, total=None, count="", eta=False)
        self.stage_task = self.bar.add_task("", total=None, count="", eta=True, visible=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _refresh(self) -> None:
        if self.bar is None:
            return
        n = len(self.stages)
        i = self.stages.index(self.stage_name) + 1 if self.stage_name in self.stages else None
        count = f"stage {i}/{n}" if i and n else ""
        self.bar.update(self.command_task, description=f"{self.name}", count=count,
                        total=n or None, completed=(i - 1) if i else 0)
        if self.stage_name is None:
            self.bar.update(self.stage_task, visible=False)
            return
        label = " · ".join(x for x in (self.stage_name, self.item_label, self.step_label) if x)
        done = f"{self.done}/{self.total} {self.unit}" if self.total else _count(self.done, self.unit)
        self.bar.update(self.stage_task, description=f"  {label}", total=self.total,
                        completed=self.done, count=done.strip(), visible=True)

    # -- stages, items and passes ---------------------------------------------------------
    def begin(self, name: str, total: int | None, unit: str) -> None:
        if name not in self.stages:
            self.stages.append(name)
        self.stage_name, self.total, self.unit = name, total, unit
        self.done, self.item_label, self.step_label = 0, None, None
        self.stage_t0 = time.monotonic()
        if self.bar is not None:
            self.bar.reset(self.stage_task, total=total)
        size = f" ({_count(total, unit)})" if total else ""
        log.info("[%s] %s%s", self._position(), name, size)
        self._refresh()

    def finish(self) -> None:
        if self.item_label is not None:
            self.done += 1
        self.begun = False
        self.end()

    def abandon(self) -> None:
        self.stage_name, self.begun = None, False
        self._refresh()

    def end(self) -> None:
        took = _clock(time.monotonic() - self.stage_t0)
        log.info("[%s] %s done in %s", self._position(), self.stage_name, took)
        if self.bar is not None:
            from rich.text import Text

            size = f"  {_count(self.done, self.unit)}" if self.unit else ""
            self.bar.console.print(Text.assemble(("✓", "green"), f" {self.stage_name}{size}  ",
                                                 (took, "dim")))
        self.stage_name = None
        self._refresh()

    def item(self, label: str) -> None:
        if self.item_label is not None:
            self.done += 1
        self.item_label, self.step_label = label, None
        log.info("%s · %s", self.stage_name, label)
        self._refresh()

    def step(self, label: str) -> None:
        self.step_label = label
        log.info("%s", " · ".join(x for x in (self.stage_name, self.item_label, label) if x))
        self._refresh()

    def _position(self) -> str:
        n = len(self.stages)
        i = self.stages.index(self.stage_name) + 1
        return f"{i}/{n}"


def _Remaining():
    """rich column: the stage's estimated remaining time (blank on the command's row)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Remaining(ProgressColumn):
        def render(self, task):
            if not task.fields.get("eta"):
                return Text("")
            left = task.time_remaining
            return Text("" if left is None else f"{_clock(left)} left", style="progress.remaining")

    return Remaining()


@contextlib.contextmanager
def command(name: str, *, mode: str = "lines", console=None,
            stages: tuple[str, ...] = ()) -> Iterator[None]:
    """The display of one command (``mode``: one of :data:`MODES`; ``console``: the
    rich console of the live display; ``stages``: as :func:`plan`). A command opened
    inside another adds to it."""
    global _active
    if mode not in MODES:
        raise ValueError(f"progress mode {mode!r}: one of {MODES}")
    if _active is not None:
        yield
        return
    display = _Display(name, mode, console)
    display.stages.extend(dict.fromkeys(stages))
    _active = display
    display.open()
    try:
        yield
        if display.begun:
            display.finish()
    finally:
        display.close()
        _active = None


def active() -> bool:
    """True while a :func:`command` is open."""
    return _active is not None


def live() -> bool:
    """True while the live (terminal) display is drawn: log lines are then left to it."""
    return _active is not None and _active.mode == "live"


def plan(*stages: str) -> None:
    """Announce the stages of the command, in order (for "stage i of n")."""
    if _active is not None:
        for s in stages:
            if s not in _active.stages:
                _active.stages.append(s)


@contextlib.contextmanager
def stage(name: str, *, total: int | None = None, unit: str = "") -> Iterator[None]:
    """One stage of the command (``total`` items of ``unit``, e.g. 16 years). A stage
    opened inside another runs as the outer stage's item."""
    d = _active
    if d is None:
        yield
        return
    if d.begun:
        d.finish()
    if d.stage_name is not None:   # nested: an item of the stage in flight
        d.item(name)
        yield
        return
    d.begin(name, total, unit)
    try:
        yield
    except BaseException:   # a failed stage is not "done": the error says what happened
        d.abandon()
        raise
    d.finish()


def begin(name: str, *, total: int | None = None, unit: str = "") -> None:
    """Start a stage that lasts until the next stage or the end of the command: the
    one-line form of :func:`stage` for a call site in the middle of a function."""
    d = _active
    if d is None:
        return
    if d.begun:
        d.finish()
    if d.stage_name is not None:
        d.item(name)
        return
    d.begin(name, total, unit)
    d.begun = True


def iterate(values, name: str, *, unit: str = "", label=str):
    """Yield ``values`` as the items of the stage ``name`` (labelled ``label(value)``):
    the one-line form of :func:`stage` for a loop."""
    values = list(values)
    with stage(name, total=len(values), unit=unit):
        for v in values:
            item(label(v))
            yield v


def item(label) -> None:
    """The next item of the current stage (a year, a figure): the one before is done."""
    if _active is not None and _active.stage_name is not None:
        _active.item(str(label))


def step(label: str) -> None:
    """Name the pass in flight within the current item (e.g. "NDVI histograms")."""
    if _active is not None and _active.stage_name is not None:
        _active.step(label)


def items(label_prefix: str = ""):
    """A callback ``f(message)`` that starts a new item per call (for APIs that report
    progress by callback, e.g. :func:`carbon_balance.analysis.uncertainty.write_uncertainty`)."""
    return lambda message: item(f"{label_prefix}{message}")


def run_stages(*, report: bool, uncertainty: bool, netcdf: bool,
               trends: bool = False, attribution: bool = True) -> list[str]:
    """The progress stages of ``run``, in order (:func:`carbon_balance.pipeline.run_study`);
    ``trends``: the study has enough years for them (analysis.trend_outputs);
    ``attribution``: the study has two years or more (first -> last is attributed)."""
    stages = ["grids", *(["CF cube"] if netcdf else []), "zonal sums", "emissions fitting",
              "indicators and zones", *(["trends"] if trends else []),
              *(["attribution"] if attribution else [])]
    if uncertainty:
        stages.append("uncertainty")
    if report:
        stages += ["figures", "report"]
    return stages
