"""Likely causes of an unhealthy gradient flow at initialization, and the suites that test remedies.

`diagnose` measures; this module reads the per-layer statistics and names what most likely produced
them. Every threshold carries its reasoning, like verdict.py's. A cause is a hint to check with the
suites it names, not a proof.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

# Half the units of a layer outputting zero for a whole batch halves the paths δ can take back; past
# that, a ReLU net loses signal faster than any initializer can make up.
DEAD_FRACTION = 0.5

# A fifth of the outputs within 1 % of a bound: their derivative is below 4 % of the maximum, so a
# fifth of the signal is all but cut at that layer.
SATURATED_FRACTION = 0.2

# sigmoid' ≤ 1/4 and hard_sigmoid' ≤ 1/5: δ shrinks by at least 4x per layer, whatever the weights.
SHRINKING_ACTIVATIONS = ("sigmoid", "hard_sigmoid")

REMEDIES = {
    "shrinking_activation": ("activation", "batchnorm", "residual", "initializer"),
    "saturation": ("activation", "initializer", "batchnorm"),
    "dead_units": ("activation", "initializer", "batchnorm"),
    "small_initializer": ("initializer", "batchnorm", "residual"),
    "large_initializer": ("initializer", "clipping", "batchnorm"),
    "nonfinite": ("clipping", "optimizer", "initializer"),
}


@dataclass(frozen=True)
class Cause:
    key: str
    text: str  # one sentence: what, where, how much
    suites: tuple[str, ...] = ()  # the remedy suites to run, of those available


def _names(rows: pd.DataFrame) -> str:
    return ", ".join(rows["layer"].astype(str))


def likely_causes(layers: pd.DataFrame, verdict: str, available_suites=None) -> list[Cause]:
    """Causes for a `verdict` given per-layer rows (layer, depth, activation, kernel_norm,
    dead_fraction, saturated_fraction, nonfinite); none for a healthy net. Each names the REMEDIES
    suites among `available_suites` (None: all of them)."""
    if verdict == "healthy":
        return []
    hidden = layers.sort_values("depth").iloc[:-1]  # the output layer's activation is the loss's business
    causes = []
    if layers["nonfinite"].fillna(0).gt(0).any():
        causes.append(Cause("nonfinite", f"non-finite gradients in {_names(layers[layers.nonfinite.gt(0)])}"))
    dead = hidden[hidden["dead_fraction"] >= DEAD_FRACTION]
    if len(dead):
        worst = dead["dead_fraction"].max()
        causes.append(
            Cause(
                "dead_units",
                f"dead units: up to {worst:.0%} of the units of {_names(dead)} output 0 for every example (dead ReLUs)",
            )
        )
    saturated = hidden[hidden["saturated_fraction"].fillna(0) >= SATURATED_FRACTION]
    if len(saturated):
        worst = saturated["saturated_fraction"].max()
        causes.append(
            Cause(
                "saturation",
                f"saturating activation: up to {worst:.0%} of the outputs of "
                f"{_names(saturated)} lie within 1 % of a bound",
            )
        )
    shrinking = hidden[hidden["activation"].isin(SHRINKING_ACTIVATIONS)]
    if verdict == "vanishing" and len(shrinking):
        causes.append(
            Cause(
                "shrinking_activation",
                f"{shrinking['activation'].iloc[0]} in {len(shrinking)} layers: "
                "its derivative is at most 1/4, so δ shrinks ≥ 4x per layer",
            )
        )
    if verdict == "vanishing" and not causes:
        causes.append(
            Cause(
                "small_initializer",
                "poor initializer scale: the weights shrink the signal layer by "
                "layer (try a variance-preserving initializer, He for ReLU)",
            )
        )
    if verdict == "exploding":
        causes.append(
            Cause(
                "large_initializer",
                "initializer scale too large for the depth: each layer amplifies the backpropagated signal",
            )
        )

    def runnable(key: str) -> tuple[str, ...]:
        return tuple(s for s in REMEDIES[key] if available_suites is None or s in available_suites)

    return [dataclasses.replace(cause, suites=runnable(cause.key)) for cause in causes]
