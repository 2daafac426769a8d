"""The look every report figure shares: figures made without pyplot, log axes labelled in plain text,
a variant legend, the colorblind palette, and atomic PNG writes. Never imports TensorFlow."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter, LogLocator  # noqa: E402

from tfbench.records.store import atomic_write  # noqa: E402
from tfbench.report.figure_layout import fit_canvas  # noqa: E402

SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def variant_palette(variants: list[str]) -> dict[str, tuple]:
    """Seaborn's colorblind palette, one color per variant in the given order (cycled past ten)."""
    colors = sns.color_palette("colorblind", 10)
    return {variant: tuple(color) for variant, color in zip(variants, itertools.cycle(colors))}


def new_figure(width: float, height: float) -> Figure:
    # No layout engine: constrained layout doubled the time of a report; fixed spacing plus
    # save()'s canvas fitted to the content is enough for these regular grids.
    return Figure(figsize=(width, height))


def title(ax, text: str, **style) -> None:
    """A title at a fixed height above `ax`. With none, matplotlib searches for a free spot above any tick
    labels on top (the report has none) while drawing: a pass over every panel's y ticks."""
    ax.set_title(text, y=1.0, **style)


def log_y(ax) -> None:
    """Log y axis with plain-text labels (10⁻³): mathtext tick labels were a large part of a save's time."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(PowerFormatter())
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))  # falls back to linear ticks in a narrow range
    ax.yaxis.set_minor_formatter(PowerFormatter())


class PowerFormatter(Formatter):
    """10ⁿ at decades; other ticks labelled (2×10⁻³) only when the axis spans about a decade or less."""

    def __call__(self, value, pos=None) -> str:
        if not (np.isfinite(value) and value > 0):
            return ""
        exponent = int(np.floor(np.log10(value) + 1e-9))
        mantissa = value / 10.0**exponent
        power = "10" + str(exponent).translate(SUPERSCRIPTS)
        if abs(mantissa - 1) < 1e-6:
            return power
        low, high = sorted(self.axis.get_view_interval())
        return f"{mantissa:.2g}×{power}" if low > 0 and high / low < 20 else ""


def legend(ax, source=None) -> None:
    """A variant legend right of `ax`, listing the lines of `source` (default `ax`)."""
    handles, labels = (source or ax).get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, title="variant", fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))


def save(figure: Figure, path: str | Path) -> None:
    """Write the figure as a PNG (dpi 100), its canvas fitted to its content, atomically."""
    fit_canvas(figure)  # what bbox_inches="tight" does, without drawing the figure twice
    # zlib level 3, not 6: a third less encoding time for about 5 % larger files
    png = {"compress_level": 3}
    atomic_write(Path(path), lambda temp: figure.savefig(temp, format="png", dpi=100, pil_kwargs=png))
