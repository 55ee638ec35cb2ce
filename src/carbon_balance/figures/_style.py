"""Shared look of every figure: phone-readable fonts, map furniture, the generated label.

Figures are drawn at 150 dpi and at most ~7 inches wide, with large fonts, so that a PNG
scaled to a phone screen stays legible. Every public figure function draws inside
:func:`style` so that it never changes the caller's matplotlib settings.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

DPI = 150
#: Width of a full-width figure [inch]: 7 in x 150 dpi = 1050 px, legible on a phone.
WIDTH = 7.0

#: Fixed colours of the five zones (METHOD.md section 5) and of unclassified units; the
#: same in every map, chart and year so that figures can be compared at a glance.
ZONE_COLOURS: dict[str, str] = {
    "carbon sink functional zone": "#1b7837",
    "low-carbon economic zone": "#5aae61",
    "low-carbon optimization zone": "#80cdc1",
    "carbon intensity control zone": "#f4a582",
    "high-carbon optimization zone": "#b2182b",
    "unclassified": "#bdbdbd",
}
ZONE_ORDER = tuple(ZONE_COLOURS)
#: Short zone labels for crowded axes (transition matrices).
ZONE_SHORT: dict[str, str] = {
    "carbon sink functional zone": "Sink",
    "low-carbon economic zone": "LC econ.",
    "low-carbon optimization zone": "LC optim.",
    "carbon intensity control zone": "CI control",
    "high-carbon optimization zone": "HC optim.",
    "unclassified": "Unclass.",
}

#: Fixed colours of LISA clusters (Anselin 1995 convention, as in GeoDa).
CLUSTER_COLOURS: dict[str, str] = {
    "HH": "#d7191c",
    "LL": "#2c7bb6",
    "HL": "#fdae61",
    "LH": "#abd9e9",
    "not significant": "#eeeeee",
}
NO_DATA_COLOUR = "#ffffff"
EDGE_COLOUR = "#555555"

#: Default wording of the label put on every figure that depends on generated inputs.
GENERATED_LABEL = "Generated (synthetic) inputs - demonstration only"

_RC = {
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "figure.titlesize": 16,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in SVG: searchable, small
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Draw with the project's rc settings, restoring the caller's afterwards."""
    with mpl.rc_context(_RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot: no GUI backend, no window, freed when no longer used."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def text(label: object) -> str:
    """A label safe for matplotlib: a '$' in a unit name must not start mathtext."""
    return str(label).replace("$", r"\$")


def generated_text(generated: bool | str) -> str | None:
    """The label for ``generated`` (True: the default wording; a string: that wording)."""
    if not generated:
        return None
    return GENERATED_LABEL if generated is True else str(generated)


def mark_generated(fig: Figure, generated: bool | str) -> None:
    """Put the visible "generated inputs" label on ``fig`` when ``generated`` is set.

    Call it last, after ``fig.suptitle``.
    """
    label = generated_text(generated)
    if label:
        # A blank first line in the title keeps room for the label at the very top, where
        # no outside legend or colour bar can cover it (constrained layout sizes titles).
        fig.suptitle("\n" + fig.get_suptitle())
        fig.text(0.5, 0.997, label, ha="center", va="top", fontsize=11, color="#a50026",
                 fontstyle="italic", fontweight="bold",
                 bbox={"facecolor": "#fff5f0", "edgecolor": "#a50026", "pad": 2})


def grid_shape(n: int, max_cols: int = 2) -> tuple[int, int]:
    """Rows and columns of a small-multiple grid (2 columns keep panels phone-sized)."""
    cols = min(max(n, 1), max_cols)
    return math.ceil(max(n, 1) / cols), cols


def small_multiples(n: int, panel_height: float, extra_height: float, *, max_cols: int = 2):
    """A full-width figure of ``n`` panels [inch heights]: (fig, flat axes), spare axes hidden."""
    rows, cols = grid_shape(n, max_cols)
    fig = new_figure(WIDTH, rows * panel_height + extra_height)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def display_scale(values: Sequence[float] | np.ndarray, unit: str) -> tuple[float, str]:
    """Factor and unit label that keep tick labels short: t -> kt or Mt when large."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    big = float(np.max(np.abs(v))) if v.size else 0.0
    if unit.startswith("t ") or unit == "t":
        rest = unit[1:]
        if big >= 1e6:
            return 1e-6, "Mt" + rest
        if big >= 1e4:
            return 1e-3, "kt" + rest
    return 1.0, unit


def fmt_number(v: float) -> str:
    """Compact number for legends: 3 significant digits, no scientific notation below 1e9."""
    if not np.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.3g}" if a < 10 else f"{v:.1f}"
    return f"{v:.2g}"
