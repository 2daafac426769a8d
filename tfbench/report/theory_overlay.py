"""The mean-field overlay of a suite's report: predicted vs measured change of the gradient per layer.

Both are in decades per layer *toward the input*, the direction backpropagation runs: positive means
the gradient grows toward the input (exploding), negative that it shrinks (vanishing), the sign
convention of log10_grad_ratio. The prediction comes from tfbench.analysis.theory for the variant's activation
and the σw², σb² its initializers imply: 0.5·log10(χ1) for δ, 0.5·log10(χ1/ρ) for the kernel gradient
(they differ where the forward signal itself dies or blows up, see theory.forward_ratio). The
measurement is the least-squares slope of log10 ‖δ‖ (act_grad_norm) and of log10 ‖∂L/∂W‖ over the
hidden layers at step 0, averaged over seeds. The table shows δ (csv: both); the gradient-vs-depth
figure plots kernel gradients, so its dashed lines use the kernel prediction.

The theory describes plain MLPs at initialization: i.i.d. zero-mean weights, no normalization, no
dropout, no skips, weights as initialized. So the overlay applies to model "mlp" without batch_norm,
with dropout 0 and without layer-wise pretraining, and to nothing else. The output layer (a different
fan-out and activation) is left out of both fits; layer 1 is left out of the kernel fit, because its
kernel gradient is δ_1 times the data, not times activations at the fixed point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tfbench.analysis import init_variance, theory

PREDICTED, MEASURED = "predicted_decades_per_layer", "measured_decades_per_layer"  # of ‖δ‖
PREDICTED_KERNEL, MEASURED_KERNEL = "predicted_kernel_decades_per_layer", "measured_kernel_decades_per_layer"
OVERLAY_COLUMNS = (PREDICTED, MEASURED, PREDICTED_KERNEL, MEASURED_KERNEL)
LINE_LABEL = "mean-field prediction"


def prediction(setup: Mapping) -> theory.Prediction | None:
    """The mean-field prediction for a variant's Setup, given as the dict tfbench.spec.suite.canonical makes;
    None where the theory does not apply or the activation or an initializer is unknown."""
    if not isinstance(setup, Mapping) or setup.get("model") != "mlp":
        return None
    if setup.get("batch_norm") or setup.get("dropout") or setup.get("pretrain_steps"):
        return None  # the theory's assumptions: no normalization, no dropout, weights as initialized
    width = setup.get("width")
    if not isinstance(width, int) or width < 1:
        return None
    sigma_w2 = init_variance.weight_variance(setup.get("initializer", "glorot_uniform"), width)
    bias = init_variance.entry_moments(setup.get("bias_initializer", "zeros"), width, width)
    if sigma_w2 is None or bias is None:
        return None
    # A constant bias (mean μ, no variance) shifts every pre-activation by μ: it enters as the mean of z,
    # not as σb².
    return theory.predict(setup.get("activation", "relu"), sigma_w2, bias.variance, bias.mean)


def predictions(setups: Mapping) -> dict[str, theory.Prediction]:
    """variant label -> Prediction, for the variants (label -> canonical Setup) the theory covers."""
    found = {label: prediction(setup) for label, setup in (setups or {}).items()}
    return {label: p for label, p in found.items() if p is not None}


def slope_toward_input(depths: np.ndarray, norms: np.ndarray) -> float:
    """−d log10(norm) / d depth by least squares over the finite positive norms; NaN below two points."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(norms)
    kept = np.isfinite(logs)
    if kept.sum() < 2 or np.unique(depths[kept]).size < 2:
        return math.nan
    return -float(np.polyfit(depths[kept], logs[kept], 1)[0])


def measured_decades(layers: pd.DataFrame) -> pd.DataFrame:
    """Per variant, the measured decades per layer toward the input at step 0, averaged over seeds:
    column MEASURED from δ over hidden layers 1..L, MEASURED_KERNEL from the kernel gradient over 2..L."""
    columns = [MEASURED, MEASURED_KERNEL]
    if layers.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="variant"))
    start = layers[layers["step"] == 0]
    per_seed = []
    for (variant, seed), run in start.groupby(["variant", "seed"], sort=False):
        depths = pd.to_numeric(run["depth"], errors="coerce").to_numpy(float)
        hidden = depths < np.nanmax(depths)  # the output layer is the deepest
        delta = pd.to_numeric(run["act_grad_norm"], errors="coerce").to_numpy(float)
        kernel = pd.to_numeric(run["kernel_grad_norm"], errors="coerce").to_numpy(float)
        past_first = hidden & (depths > 1)
        per_seed.append({"variant": str(variant), "seed": seed,
                         MEASURED: slope_toward_input(depths[hidden], delta[hidden]),
                         MEASURED_KERNEL: slope_toward_input(depths[past_first], kernel[past_first])})  # fmt: skip
    if not per_seed:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="variant"))
    return pd.DataFrame(per_seed).groupby("variant", sort=False)[columns].mean()


def with_overlay_columns(table: pd.DataFrame, layers: pd.DataFrame, found: Mapping) -> pd.DataFrame:
    """The comparison table plus the OVERLAY_COLUMNS for the variants with a Prediction in `found` (NaN
    elsewhere); the table unchanged when no variant has one."""
    if not found:
        return table
    measured = measured_decades(layers)
    table = table.copy()
    labels = table["variant"].astype(str)
    covered = labels.isin(list(found))
    table[PREDICTED] = labels.map({k: p.decades_per_layer for k, p in found.items()}).astype(float)
    table[PREDICTED_KERNEL] = labels.map({k: p.kernel_decades_per_layer for k, p in found.items()}).astype(float)
    for column in (MEASURED, MEASURED_KERNEL):
        table[column] = labels.map(measured[column]).astype(float).where(covered)
    return table


def draw_predictions(ax, layers_at_start: pd.DataFrame, found: Mapping, column: str = "kernel_grad_norm") -> None:
    """On a gradient-vs-depth panel of `column` (kernel gradients; "act_grad_norm" for δ), each variant's
    predicted slope as a dashed line in the colour of the variant's own line, anchored at its
    seed-averaged (geometric mean) value at the last hidden layer and drawn back to layer 1."""
    colors = {line.get_label(): line.get_color() for line in ax.get_lines()}
    drawn = False
    for variant, predicted in found.items():
        decades = predicted.kernel_decades_per_layer if column == "kernel_grad_norm" else predicted.decades_per_layer
        rows = layers_at_start[layers_at_start["variant"].astype(str) == variant]
        if variant not in colors or rows.empty or not math.isfinite(decades):
            continue
        depths = pd.to_numeric(rows["depth"], errors="coerce")
        last_hidden = depths.max() - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            anchors = np.log10(pd.to_numeric(rows.loc[depths == last_hidden, column], errors="coerce").to_numpy(float))
        anchors = anchors[np.isfinite(anchors)]
        if last_hidden < 1 or not anchors.size:
            continue
        x = np.arange(1, last_hidden + 1, dtype=float)
        ax.plot(x, 10 ** (anchors.mean() + decades * (last_hidden - x)), linestyle="--", linewidth=1.2,
                color=colors[variant], label="_prediction")  # fmt: skip
        drawn = True
    if drawn:  # one legend entry for all dashed lines
        ax.plot([], [], linestyle="--", color="0.35", label=LINE_LABEL)
