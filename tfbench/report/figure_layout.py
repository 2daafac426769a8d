"""Fit a figure's canvas to its content without drawing it.

savefig(bbox_inches="tight") finds the content's extent by drawing the whole figure once before
drawing it for real, and the tick machinery of that first draw was about 40 % of a report's figure
time. Here the extent is computed from what decides it: the axes' boxes, their titles, texts and
legends (laid out by matplotlib, a few texts each), and the tick labels and axis labels, placed the
way matplotlib's Axis places them but measured from the locators' and formatters' strings, without
creating tick artists. The canvas then becomes that extent plus a border, and the axes move with it.

Covers what the report's figures hold: axes (colorbars included) with titles, axis labels, tick
labels, offset texts, texts and legends; an artist placed in figure coordinates is not measured.
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from matplotlib.transforms import Bbox

BORDER_INCHES = 0.1  # the white border savefig's tight bounding box leaves (savefig.pad_inches)


def fit_canvas(figure: Figure) -> None:
    """Resize the figure to its content plus BORDER_INCHES on every side, keeping every axes' size and
    their relative places."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            pin_ticks(axis)
    extent = content_extent(figure, renderer)
    dpi, (old_width, old_height) = figure.dpi, figure.get_size_inches()
    left, bottom = extent.x0 / dpi - BORDER_INCHES, extent.y0 / dpi - BORDER_INCHES
    width, height = extent.width / dpi + 2 * BORDER_INCHES, extent.height / dpi + 2 * BORDER_INCHES
    for ax in figure.axes:
        box, in_layout = ax.get_position(original=True), ax.get_in_layout()
        ax.set_position([(box.x0 * old_width - left) / width, (box.y0 * old_height - bottom) / height,
                         box.width * old_width / width, box.height * old_height / height])  # fmt: skip
        ax.set_in_layout(in_layout)  # set_position takes an axes out of tight layouts
    figure.set_size_inches(width, height)


def pin_ticks(axis) -> None:
    """Fix the axis' ticks to those its locators give inside its final view, labelled as its formatters
    label them: drawing then makes one tick artist per tick shown, not per tick located (locators
    also return ticks beyond the view, a decade on each side on log axes), and formats nothing again."""
    for which in ("minor", "major"):  # minor first: its ticks are thinned against all major ones
        ticker = axis.major if which == "major" else axis.minor
        if isinstance(ticker.locator, (NullLocator, FixedLocator)):
            continue
        # The ticks and labels drawing would make: minor ticks at a major tick left out, labels formatted
        # among all located ticks (a formatter labels by index, so they must line up).
        locs = np.asarray(axis.get_majorticklocs() if which == "major" else axis.get_minorticklocs(), dtype=float)
        labels = ticker.formatter.format_ticks(locs)
        offset = ticker.formatter.get_offset()
        kept = _in_view(axis, locs)
        fixed = FixedFormatter([label for label, keep in zip(labels, kept, strict=True) if keep])
        fixed.set_offset_string(offset)
        major = which == "major"
        (axis.set_major_locator if major else axis.set_minor_locator)(FixedLocator(locs[kept]))
        (axis.set_major_formatter if major else axis.set_minor_formatter)(fixed)


def content_extent(figure: Figure, renderer) -> Bbox:
    """The display-space box that holds everything figure.get_tightbbox would, estimated without
    creating tick artists."""
    boxes = [legend.get_window_extent(renderer) for legend in figure.legends]
    for ax in figure.axes:
        locator = ax.get_axes_locator()
        ax.apply_aspect(locator(ax, renderer) if locator else None)  # what draw does first: colorbars shrink
        boxes.append(ax.bbox.frozen())
        texts = [ax.title, *ax.texts]
        boxes += [text.get_window_extent(renderer) for text in texts if text.get_visible() and text.get_text()]
        if ax.get_legend() is not None:
            boxes.append(ax.get_legend().get_window_extent(renderer))
        boxes += _axis_boxes(ax.xaxis, renderer) + _axis_boxes(ax.yaxis, renderer)
    return Bbox.union(boxes)


def _axis_boxes(axis, renderer) -> list[Bbox]:
    """Boxes of an axis' visible tick labels, its label and its offset text."""
    low, high = _tick_label_boxes(axis, "major", renderer)
    minor_low, minor_high = _tick_label_boxes(axis, "minor", renderer)
    low, high = low + minor_low, high + minor_high
    boxes = [*low, *high, *_offset_text_box(axis, low, renderer)]
    if axis.label.get_visible() and axis.label.get_text():
        boxes.append(_axis_label_box(axis, low, high, renderer))
    return boxes


def _axis_label_box(axis, low: list[Bbox], high: list[Bbox], renderer) -> Bbox:
    """The axis label's box, placed as Axis._update_label_position places it when drawing: labelpad
    beyond the tick labels (or the axes' edge) on its side."""
    pad = axis.labelpad * axis.get_figure(root=True).dpi / 72
    bounds = axis.axes.bbox
    if axis.axis_name == "x":
        if axis.get_label_position() == "bottom":
            axis.label.set_y(min([box.y0 for box in low] + [bounds.y0]) - pad)
        else:
            axis.label.set_y(max([box.y1 for box in high] + [bounds.y1]) + pad)
    elif axis.get_label_position() == "left":
        axis.label.set_x(min([box.x0 for box in low] + [bounds.x0]) - pad)
    else:
        axis.label.set_x(max([box.x1 for box in high] + [bounds.x1]) + pad)
    return axis.label.get_window_extent(renderer)


def _tick_label_boxes(axis, which: str, renderer) -> tuple[list[Bbox], list[Bbox]]:
    """Boxes of the tick labels the axis will draw on its low (left/bottom) and high side. The labels
    are plain text (the report's formatters write no mathtext), measured from the font alone."""
    locator = axis.get_major_locator() if which == "major" else axis.get_minor_locator()
    if isinstance(locator, NullLocator):
        return [], []
    locs = axis.get_majorticklocs() if which == "major" else axis.get_minorticklocs()
    formatter = axis.get_major_formatter() if which == "major" else axis.get_minor_formatter()
    labels = formatter.format_ticks(locs)
    shown = _in_view(axis, np.asarray(locs, dtype=float))
    kept = [(loc, text) for loc, text, show in zip(locs, labels, shown, strict=True) if text and show]
    if not kept:
        return [], []
    tick = axis.majorTicks[0] if which == "major" else axis.minorTicks[0]  # drawing makes these anyway
    dpi = axis.get_figure(root=True).dpi
    offset = (tick.get_pad() + tick.get_tick_padding()) * dpi / 72
    font = tick.label1.get_fontproperties()
    sizes = {text: _text_size(text, font, renderer) for _, text in kept}
    sides = [(tick.label1.get_visible(), -1.0), (tick.label2.get_visible(), 1.0)]
    boxes = [[], []]
    for side, (visible, direction) in enumerate(sides):
        if not visible:
            continue
        for loc, text in kept:
            boxes[side].append(_label_box(axis, loc, sizes[text], direction * offset))
    return boxes[0], boxes[1]


def _label_box(axis, loc: float, size: tuple[float, float, float], offset: float) -> Bbox:
    """A tick label's box: centered on the tick along the axis, `offset` pixels out from the axes edge."""
    width, ascent, height = size
    bounds = axis.axes.bbox
    if axis.axis_name == "x":
        x = axis.axes.get_xaxis_transform().transform((loc, 0.0))[0]
        y = bounds.y0 + offset if offset < 0 else bounds.y1 + offset
        y0 = y - height if offset < 0 else y  # va "top" below the axes, "bottom" above
        return Bbox([[x - width / 2, y0], [x + width / 2, y0 + height]])
    y = axis.axes.get_yaxis_transform().transform((0.0, loc))[1]
    x = bounds.x0 + offset if offset < 0 else bounds.x1 + offset
    x0 = x - width if offset < 0 else x  # ha "right" left of the axes, "left" right of it
    top = y + ascent / 2  # va "center_baseline": half the ascent above the tick
    return Bbox([[x0, top - height], [x0 + width, top]])


def _offset_text_box(axis, low_boxes: list[Bbox], renderer) -> list[Bbox]:
    """The box of the axis' offset text (×10ⁿ, +c), where Axis._update_offset_text_position puts it."""
    if isinstance(axis.get_major_locator(), NullLocator):
        return []
    text = axis.get_major_formatter().get_offset()  # set by format_ticks above
    if not (axis.offsetText.get_visible() and text):
        return []
    width, _, height = _text_size(text, axis.offsetText.get_fontproperties(), renderer)
    pad = axis.OFFSETTEXTPAD * axis.get_figure(root=True).dpi / 72
    bounds = axis.axes.bbox
    if axis.axis_name == "x":
        top = min([b.y0 for b in low_boxes] + [bounds.y0]) - pad
        return [Bbox([[bounds.x1 - width, top - height], [bounds.x1, top]])]
    return [Bbox([[bounds.x0, bounds.y1 + pad], [bounds.x0 + width, bounds.y1 + pad + height]])]


def _in_view(axis, locs: np.ndarray) -> np.ndarray:
    """Which of `locs` Axis._update_ticks keeps: those inside the view interval, up to rounding."""
    low, high = sorted(axis.get_view_interval())
    low, high = axis.get_transform().transform([low, high])
    with np.errstate(invalid="ignore", divide="ignore"):
        transformed = axis.get_transform().transform(locs) if len(locs) else np.array([])
    tolerance = 1e-10 * abs(high - low)
    return np.isfinite(transformed) & (transformed >= low - tolerance) & (transformed <= high + tolerance)


def _text_size(text: str, font, renderer) -> tuple[float, float, float]:
    """Width, ascent and height in pixels of one line of plain text as Text lays it out: every line is
    as high as the font's line spacing, its ascent is its glyphs' plus half the remaining leading."""
    return _text_size_cached(text, font.copy(), renderer.dpi)


@functools.lru_cache(maxsize=4096)  # tick labels repeat across figures; FontProperties hash their properties
def _text_size_cached(text: str, font, dpi: float) -> tuple[float, float, float]:
    renderer = RendererAgg(1, 1, dpi)  # metrics depend on the font and dpi only
    width, glyph_height, glyph_descent = renderer.get_text_width_height_descent(text, font, ismath=False)
    height = _line_height(font, dpi)
    return width, glyph_height - glyph_descent + (height - glyph_height) / 2, height


@functools.lru_cache(maxsize=64)
def _line_height(font, dpi: float) -> float:
    """The height Text gives one line in this font: the font's line spacing, whatever the line holds."""
    probe = Text(0, 0, "0", fontproperties=font)
    probe.set_figure(Figure(dpi=dpi))
    return probe.get_window_extent(RendererAgg(1, 1, dpi)).height
