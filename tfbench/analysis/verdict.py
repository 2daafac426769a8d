"""Every threshold that turns records into a verdict, each with the reasoning behind it (docs/design.md §7).

`verdict` judges step 0: the gradient flow that architecture and initializer create.
`verdict_end` judges the last recorded step: what training did to it. A failed run has no verdict.
A recurrent model is judged across depth and back through time (its input gradient per time step).
"""

from __future__ import annotations

import math

import numpy as np

from tfbench.records.kernel_rows import kernel_rows
from tfbench.vocabulary import DIVERGED, EXPLODING, HEALTHY, VANISHING

# Gradients that shrink or grow by more than two orders of magnitude between the last hidden layer
# and the first leave the first layers learning 100x slower or faster than the last under one
# learning rate: beyond that no single step size suits every layer. Back through time the same
# bound applies to the input gradient of the first time step against the last: beyond it the loss
# no longer depends on the early inputs, and no update learns from them.
DECADES = 2.0

# A loss a thousand times its starting value is outside anything a converging run shows; an
# optimizer that has left the basin grows the loss geometrically and passes this within a few steps.
DIVERGENCE_LOSS_FACTOR = 1e3


def first_divergent_step(loss: np.ndarray, grad_norm: np.ndarray, start_loss: float) -> int | None:
    """Index of the first step whose loss or gradient is non-finite or whose loss exceeds
    DIVERGENCE_LOSS_FACTOR times the start loss; None when there is none."""
    loss = np.asarray(loss, dtype=float)
    grad_norm = np.asarray(grad_norm, dtype=float)
    bad = ~np.isfinite(loss) | ~np.isfinite(grad_norm)
    if math.isfinite(start_loss) and start_loss > 0:
        bad |= loss > DIVERGENCE_LOSS_FACTOR * start_loss
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


def log10_ratio(first: float, last: float) -> float:
    """log10(first / last): negative when the signal shrinks toward the input.

    Zero gradient at the first layer with signal at the last is −inf (vanished completely);
    no signal at either end is NaN (nothing to compare).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log10(np.float64(first)) - np.log10(np.float64(last)))


def time_ratio(timesteps_at_step) -> tuple[float, int]:
    """(log10 ‖∂L/∂x_1‖ / ‖∂L/∂x_T‖, T) from one step's time-step rows (columns timestep,
    input_grad_norm: timestep 0 is x_1); (NaN, 0) without rows (not a recurrent model)."""
    if timesteps_at_step is None or len(timesteps_at_step) == 0:
        return math.nan, 0
    by_time = timesteps_at_step.set_index("timestep").sort_index()["input_grad_norm"]
    return log10_ratio(by_time.iloc[0], by_time.iloc[-1]), len(by_time)


def _decades(ratio: float) -> str:
    return f"{ratio:+.1f}" if math.isfinite(ratio) else ("-inf" if ratio < 0 else "+inf")


def time_evidence(ratio: float, length: int) -> str:
    """How the input gradient of the first time step compares with the last, e.g.
    "‖∂L/∂x_1‖ is 10^-9.3 of ‖∂L/∂x_100‖ (time steps 1 vs 100)"."""
    return f"‖∂L/∂x_1‖ is 10^{_decades(ratio)} of ‖∂L/∂x_{length}‖ (time steps 1 vs {length})"


def deciding_ratio(kernel_ratio: float, delta_ratio: float, time_ratio: float) -> tuple[float, str] | None:
    """(ratio, "kernel" | "δ" | "time"): the one of largest magnitude, which decides the verdict; None
    when all are NaN."""
    ratios = ((kernel_ratio, "kernel"), (delta_ratio, "δ"), (time_ratio, "time"))
    candidates = [(abs(r), r, name) for r, name in ratios if not math.isnan(r)]
    return max(candidates)[1:] if candidates else None


def judge(kernel_ratio: float, delta_ratio: float, nonfinite: bool = False,
          time: tuple[float, int] = (math.nan, 0)) -> tuple[str, str]:  # fmt: skip
    """(verdict, reason) from the kernel and δ gradient ratios across depth and `time` = time_ratio(...)
    back through time; the larger magnitude decides."""
    if nonfinite:
        return DIVERGED, "non-finite gradients"
    ratio_in_time, length = time
    deciding = deciding_ratio(kernel_ratio, delta_ratio, ratio_in_time)
    if deciding is None:
        return VANISHING, "no gradient signal at the first or last hidden layer"
    ratio, name = deciding
    if name == "time":
        reason = time_evidence(ratio, length)
    else:
        reason = f"{name} gradient first/last hidden layer {_decades(ratio)} decades"
    if ratio < -DECADES:
        return VANISHING, reason
    if ratio > DECADES:
        return EXPLODING, reason
    return HEALTHY, reason


def gradient_ratios(layers_at_step) -> tuple[float, float]:
    """(log10 kernel, log10 δ) gradient ratio between depth 1 and the last hidden layer at one step.

    `layers_at_step` holds one row per layer with columns depth, kernel_grad_norm, act_grad_norm
    (and `weight`: only the layers with a kernel count, records/kernel_rows.py).
    """
    by_depth = kernel_rows(layers_at_step).set_index("depth").sort_index()
    first = by_depth.index.min()
    last_hidden = max(first, by_depth.index.max() - 1)  # the output layer is depth + 1
    return (
        log10_ratio(by_depth.at[first, "kernel_grad_norm"], by_depth.at[last_hidden, "kernel_grad_norm"]),
        log10_ratio(by_depth.at[first, "act_grad_norm"], by_depth.at[last_hidden, "act_grad_norm"]),
    )


def judge_step(layers_at_step, timesteps_at_step=None) -> tuple[str, str, float, float]:
    """(verdict, reason, kernel ratio, δ ratio) for the layer rows of one recorded step and, for a
    recurrent model, its time-step rows (timesteps.parquet) of the same moment."""
    if layers_at_step.empty:
        return DIVERGED, "no finite step recorded", math.nan, math.nan
    kernel_ratio, delta_ratio = gradient_ratios(layers_at_step)
    nonfinite = bool(layers_at_step["nonfinite"].fillna(0).gt(0).any())
    verdict, reason = judge(kernel_ratio, delta_ratio, nonfinite, time_ratio(timesteps_at_step))
    return verdict, reason, kernel_ratio, delta_ratio
