"""The figures of a suite's report (docs/design.md §5-§6 records in, matplotlib Figures out), and their
registry FIGURES (name -> caption and drawing function).

Every function takes the records' DataFrames and returns a new `matplotlib.figure.Figure` that is
not registered with pyplot, so nothing global is kept and nothing needs closing. Norms drawn on a
log scale are averaged over seeds geometrically (mean of log10), which is what a log axis shows;
NaN, ±inf and non-positive values are left out of log-scaled quantities. Never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tfbench.analysis.statistics import CONFIDENCE, t_quantile  # noqa: E402
from tfbench.report import theory_overlay  # noqa: E402
from tfbench.report.figure_style import legend, log_y, new_figure, save, title, variant_palette  # noqa: E402, F401
from tfbench.report.timestep_plots import CAPTION as TIMESTEP_CAPTION  # noqa: E402
from tfbench.report.timestep_plots import FIGURE_NAME as TIMESTEP_FIGURE  # noqa: E402
from tfbench.report.timestep_plots import input_gradient_vs_timestep  # noqa: E402

DEPTH_LABEL = "layer depth (1 = input side)"
STEP_LABEL = "optimizer step"
GRAD_LABEL = "kernel gradient L2 norm"
METRIC_LABELS = {"accuracy": "validation accuracy (fraction)", "mae": "validation MAE (target units)"}
MAX_COLUMNS = 4
FIGURE_NAMES = ("gradient_vs_depth", "gradient_heatmap", "training_curves", "update_ratio", "delta_and_units")


def _grid(count: int, panel_w: float = 3.6, panel_h: float = 2.8, **options):
    """A figure with one panel per item, at most MAX_COLUMNS wide; unused panels are removed."""
    columns = max(1, min(MAX_COLUMNS, count))
    rows = max(1, -(-count // columns))
    figure = new_figure(panel_w * columns + 1.0, panel_h * rows + 0.4)
    spacing = {"wspace": 0.12, "hspace": 0.55}
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False, gridspec_kw=spacing, **options)).ravel()
    for ax in axes[count:]:
        ax.remove()
    return figure, list(axes[:count])


def _log_mean(table: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """Mean over seeds of log10(column) by `keys`; NaN where no seed has a finite positive value."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values)
    logs[~np.isfinite(logs)] = np.nan
    return pd.Series(logs, index=table.index).groupby([table[k] for k in keys]).mean()


def _last_steps(layers: pd.DataFrame) -> pd.DataFrame:
    """The rows of each run's last recorded step (diverged runs end early)."""
    last = layers.groupby(["variant", "seed"])["step"].transform("max")
    return layers[layers["step"] == last]


def _variant_lines(ax, table: pd.DataFrame, column: str, palette: dict, log: bool) -> None:
    """One line per variant of `column` against depth, averaged over seeds."""
    if log:
        means = 10 ** _log_mean(table, ["variant", "depth"], column).dropna()
    else:
        kept = table[np.isfinite(pd.to_numeric(table[column], errors="coerce"))]
        means = kept.groupby(["variant", "depth"])[column].mean()
    for variant, color in palette.items():
        if variant in means.index.get_level_values(0):
            line = means.xs(variant, level=0).sort_index()
            ax.plot(line.index, line.to_numpy(), marker="o", markersize=3, color=color, label=variant)
    if log:
        log_y(ax)
    ax.set_xlabel(DEPTH_LABEL)
    ax.xaxis.get_major_locator().set_params(integer=True)


def gradient_vs_depth(layers: pd.DataFrame, palette: dict, predictions: dict | None = None) -> Figure:
    """(a) Kernel gradient norm against depth, at step 0 and at each run's last recorded step.

    `predictions` (variant -> tfbench.analysis.theory.Prediction, from report.theory_overlay) adds the mean-field
    slope to the step-0 panel as dashed lines.
    """
    figure = new_figure(10, 3.8)
    first, last = figure.subplots(1, 2, sharey=True, gridspec_kw={"wspace": 0.08})
    start = layers[layers["step"] == 0]
    _variant_lines(first, start, "kernel_grad_norm", palette, log=True)
    theory_overlay.draw_predictions(first, start, predictions or {})
    _variant_lines(last, _last_steps(layers), "kernel_grad_norm", palette, log=True)
    title(first, "at initialization (step 0)")
    title(last, "at the last recorded step")
    first.set_ylabel(GRAD_LABEL)
    legend(last, source=first)
    return figure


def gradient_heatmaps(layers: pd.DataFrame, variants: list[str]) -> Figure:
    """(b) log10 kernel gradient norm by depth and step, one panel per variant, one shared color scale."""
    figure, axes = _grid(len(variants), sharey=True)
    logs = {}
    for variant in variants:
        means = _log_mean(layers[layers["variant"] == variant], ["depth", "step"], "kernel_grad_norm")
        logs[variant] = means.unstack("step").sort_index() if len(means) else None
    finite = [grid.to_numpy() for grid in logs.values() if grid is not None]
    values = np.concatenate([v[np.isfinite(v)] for v in finite]) if finite else np.array([])
    norm = Normalize(*(values.min(), values.max()) if values.size else (-1.0, 1.0))
    for ax, variant in zip(axes, variants, strict=True):
        title(ax, variant, fontsize="medium")
        grid = logs[variant]
        if grid is None:
            ax.text(0.5, 0.5, "no records", ha="center", va="center", transform=ax.transAxes)
            continue
        steps, depths = grid.columns.to_numpy(float), grid.index.to_numpy(float)
        ax.pcolormesh(_edges(steps), _edges(depths), np.ma.masked_invalid(grid.to_numpy(float)),
                      cmap="viridis", norm=norm, shading="flat")  # fmt: skip
        ax.set_xlabel(STEP_LABEL)
        ax.yaxis.get_major_locator().set_params(integer=True)
    if axes:
        axes[0].set_ylabel(DEPTH_LABEL)
        colorbar = figure.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=axes, shrink=0.9)
        colorbar.set_label(f"log10 {GRAD_LABEL}")
    return figure


def _edges(centers: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centers (unevenly recorded steps keep their true positions)."""
    if centers.size == 1:
        return np.array([centers[0] - 0.5, centers[0] + 0.5])
    middle = (centers[1:] + centers[:-1]) / 2
    return np.concatenate([[2 * centers[0] - middle[0]], middle, [2 * centers[-1] - middle[-1]]])


def training_curves(steps: pd.DataFrame, palette: dict, metric_name: str) -> Figure:
    """(c) Training loss and validation metric against step: mean over seeds, band the 95 % t-interval."""
    figure = new_figure(10, 3.8)
    loss_ax, metric_ax = figure.subplots(1, 2, gridspec_kw={"wspace": 0.3})
    loss = _seed_lines(loss_ax, steps, "loss", palette)
    values = loss["loss"].to_numpy(float)
    if values.size and (values > 0).all() and values.max() / values.min() > 100:
        log_y(loss_ax)
    title(loss_ax, "training loss")
    loss_ax.set(xlabel=STEP_LABEL, ylabel="training loss (batch mean)")
    _seed_lines(metric_ax, steps, "val_metric", palette, marker="o", markersize=4)
    title(metric_ax, "held-out metric")
    metric_ax.set(xlabel=STEP_LABEL, ylabel=METRIC_LABELS.get(metric_name, f"validation {metric_name}"))
    legend(metric_ax, source=loss_ax if loss_ax.get_lines() else metric_ax)
    return figure


def _seed_lines(ax, steps: pd.DataFrame, column: str, palette: dict, **style) -> pd.DataFrame:
    """Per variant, the mean over seeds at each step and a band, the 95 % t-interval over seeds
    (statistics.t_interval's rule; none where a step has one seed), labelled with the variant and drawn
    as seaborn's lineplot draws them, whose per-step aggregation was most of this figure's time."""
    kept = steps[np.isfinite(pd.to_numeric(steps[column], errors="coerce")) & steps["variant"].isin(list(palette))]
    values = kept.assign(value=pd.to_numeric(kept[column]).astype(float))
    stats = values.groupby(["variant", "step"])["value"].agg(["mean", "sem", "count"])  # sem: NaN for one seed
    quantiles = {n: t_quantile(0.5 + CONFIDENCE / 2, n - 1) for n in stats["count"].unique() if n > 1}
    for variant, color in palette.items():
        if variant not in stats.index.get_level_values(0):
            continue
        line = stats.xs(variant, level=0).sort_index()
        x, mean, half = line.index.to_numpy(float), line["mean"].to_numpy(), line["sem"].to_numpy()
        half = half * line["count"].map(quantiles).to_numpy(float)
        ax.plot(x, mean, color=color, label=variant, markeredgewidth=0.75, markeredgecolor="w", **style)
        ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.2)
    return kept


def update_ratios(layers: pd.DataFrame, variants: list[str]) -> Figure:
    """(d) ‖ΔW‖ / ‖W‖ against step, one panel per variant, one line per depth."""
    figure, axes = _grid(len(variants), sharey=True)
    depths = pd.to_numeric(layers["depth"], errors="coerce").dropna()
    norm = Normalize(float(depths.min()), float(depths.max())) if len(depths) else Normalize(1, 2)
    cmap = plt.get_cmap("viridis")
    for ax, variant in zip(axes, variants, strict=True):
        title(ax, variant, fontsize="medium")
        means = _log_mean(layers[layers["variant"] == variant], ["depth", "step"], "update_ratio").dropna()
        if not len(means):
            ax.text(0.5, 0.5, "no records", ha="center", va="center", transform=ax.transAxes)
            continue
        for depth, line in (10**means).groupby(level=0):
            ax.plot(line.index.get_level_values(1), line.to_numpy(), color=cmap(norm(depth)), linewidth=1)
        log_y(ax)
        ax.set_xlabel(STEP_LABEL)
    if axes:
        axes[0].set_ylabel("‖ΔW‖ / ‖W‖ (update / weight)")
        colorbar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes, shrink=0.9)
        colorbar.set_label(DEPTH_LABEL)
    return figure


def delta_and_units(layers: pd.DataFrame, palette: dict) -> Figure:
    """(e) δ norm, dead fraction and (for bounded activations) saturated fraction against depth at step 0."""
    start = layers[layers["step"] == 0]
    saturation = pd.to_numeric(start["saturated_fraction"], errors="coerce")
    panels = [("act_grad_norm", "δ = dL/dz L2 norm", True, "backpropagated signal δ"),
              ("dead_fraction", "dead units (fraction)", False, "dead units")]  # fmt: skip
    if saturation.notna().any():
        panels.append(("saturated_fraction", "saturated outputs (fraction)", False, "saturated units"))
    figure = new_figure(4.2 * len(panels) + 1.5, 3.8)
    axes = figure.subplots(1, len(panels), gridspec_kw={"wspace": 0.35})
    for ax, (column, label, log, heading) in zip(axes, panels, strict=True):
        _variant_lines(ax, start, column, palette, log=log)
        ax.set_ylabel(label)
        title(ax, f"{heading} at step 0")
        if not log:
            ax.set_ylim(-0.03, 1.03)
    legend(axes[-1], source=axes[0])  # the δ panel has every variant; saturation only bounded ones
    return figure


@dataclass(frozen=True)
class FigureInputs:
    """What a figure may draw from: one suite's records, its variants in order, and their colors."""

    records: Any  # tfbench.records.store.SuiteRecords
    variants: list[str]
    palette: dict
    metric_name: str
    predictions: dict | None  # mean-field predictions for gradient_vs_depth (theory_overlay)


@dataclass(frozen=True)
class SuiteFigure:
    caption: str
    draw: Callable[[FigureInputs], Figure | None]  # None: nothing to draw for these records
    always: bool = True  # drawn for every suite, not only those whose records hold its data


def _timesteps(inputs: FigureInputs) -> Figure | None:
    table = getattr(inputs.records, "timesteps", None)
    return None if table is None or table.empty else input_gradient_vs_timestep(table, inputs.palette)


# Every figure of a suite's page, in page order: adding a figure is one entry here (and its function).
FIGURES = {
    "gradient_vs_depth": SuiteFigure(
        "Kernel gradient norm per layer at initialization and at the end of training (mean over seeds, log "
        "scale). A line falling toward depth 1 is a gradient vanishing toward the input. Dashed: the mean-field "
        "prediction for plain MLPs, anchored at the last hidden layer.",
        lambda i: gradient_vs_depth(i.records.layers, i.palette, i.predictions),
    ),
    "gradient_heatmap": SuiteFigure(
        "log10 kernel gradient norm for every layer (rows) and recorded step (columns), one panel per variant on "
        "one shared color scale.",
        lambda i: gradient_heatmaps(i.records.layers, i.variants),
    ),
    "training_curves": SuiteFigure(
        "Training loss per step and held-out metric per evaluation: mean over seeds with its 95 % t-interval.",
        lambda i: training_curves(i.records.steps, i.palette, i.metric_name),
    ),
    "update_ratio": SuiteFigure(
        "Size of the update actually applied relative to the weights, ‖ΔW‖ / ‖W‖, per layer over training. "
        "Around 1e-3 is the usual healthy range; far below, a layer barely learns.",
        lambda i: update_ratios(i.records.layers, i.variants),
    ),
    "delta_and_units": SuiteFigure(
        "Backpropagated signal δ = ‖d loss / d z‖ per layer at initialization, and the fractions of dead and "
        "(for bounded activations) saturated units.",
        lambda i: delta_and_units(i.records.layers, i.palette),
    ),
    TIMESTEP_FIGURE: SuiteFigure(TIMESTEP_CAPTION, _timesteps, always=False),  # recurrent suites only
}
FIGURE_NAMES = tuple(name for name, figure in FIGURES.items() if figure.always)


def suite_figures(records, metric_name: str, predictions: dict | None = None) -> dict[str, Figure]:
    """The figures of one suite's records (a SuiteRecords) by name, in FIGURES order; `predictions` as
    gradient_vs_depth."""
    variants = _variants(records)
    inputs = FigureInputs(records, variants, variant_palette(variants), metric_name, predictions)
    drawn = {name: figure.draw(inputs) for name, figure in FIGURES.items()}
    return {name: figure for name, figure in drawn.items() if figure is not None}


def _variants(records) -> list[str]:
    """Variants in the order of runs.csv (the suite's level order), then any only the other tables name."""
    names = [*records.runs["variant"], *records.steps["variant"], *records.layers["variant"]]
    return list(dict.fromkeys(str(name) for name in names))
