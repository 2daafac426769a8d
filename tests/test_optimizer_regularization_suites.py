"""The optimizer and regularization suites start where their remedies matter: the optimizer suite's base
gives every kernel a gradient ~1e-3 of a healthy one, the regularization suite's base explodes
toward the input; both measured at step 0 against a closed form or the mean-field theory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tfbench.analysis import theory, verdict
from tfbench.harness.train import train_run
from tfbench.spec.discovery import load_file

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"
DECADES_TOLERANCE = 0.3  # finite width (64) and one batch of 64 against the infinite-width theory


def shipped(name: str):
    (suite,) = load_file(SUITES_DIR / f"{name}.py")
    return suite


def step0_layers(setup):
    """Step-0 layer rows (kernels only, by depth) of a 2-update run with seed 0."""
    result = train_run(dataclasses.replace(setup, steps=2, eval_every=2), seed=0, mode="none")
    layers = result.layers_table
    return layers[(layers.step == 0) & (layers.weight == "kernel")].set_index("depth").sort_index()


def sigma_w2(initializer: dict) -> float:
    """σw² (variance × fan_in) of a fan_in VarianceScaling config: its scale."""
    assert initializer["class_name"] == "VarianceScaling" and initializer["config"].get("mode", "fan_in") == "fan_in"
    return float(initializer["config"]["scale"])


def test_optimizer_base_scales_every_kernel_gradient_by_c_to_the_depth():
    # A ReLU net with zero biases is positively homogeneous: multiplying all K kernels by c multiplies the
    # activation entering layer l by c^(l-1) and the δ leaving it by c^(K-l) (while the softmax output
    # stays near uniform), so every kernel gradient a_{l-1}ᵀ δ_l by c^(K-1), whatever the layer.
    base = shipped("optimizer").base
    healthy = dataclasses.replace(base, initializer="he_normal")  # the same truncated normal at scale 2
    c = np.sqrt(sigma_w2(base.initializer) / 2.0)  # per-kernel std relative to He's
    small, reference = step0_layers(base), step0_layers(healthy)
    kernels = len(small)
    ratio = small["kernel_grad_norm"] / reference["kernel_grad_norm"]
    expected = c ** (kernels - 1)
    assert expected < 2e-3  # every layer ~1e-3 of a healthy gradient: SGD's steps are that much too small
    np.testing.assert_allclose(ratio, expected, rtol=0.5)
    # δ shrinks √χ1 = c per layer toward the input, as the mean-field theory says for ReLU
    judged, _, _, delta_ratio = verdict.judge_step(small.reset_index())
    predicted = theory.predict("relu", sigma_w2(base.initializer)).decades_per_layer * (base.depth - 1)
    assert delta_ratio == pytest.approx(predicted, abs=DECADES_TOLERANCE)
    assert judged == "vanishing"


def test_regularization_base_explodes_as_mean_field_predicts_and_l2_acts_within_the_run():
    suite = shipped("regularization")
    base = suite.base
    judged, _, _, delta_ratio = verdict.judge_step(step0_layers(base).reset_index())
    prediction = theory.predict(base.activation, sigma_w2(base.initializer))
    assert prediction.chi1 > 1  # the chaotic phase: δ grows toward the input
    assert delta_ratio == pytest.approx(prediction.decades_per_layer * (base.depth - 1), abs=DECADES_TOLERANCE)
    assert judged == "exploding" and delta_ratio > verdict.DECADES
    # SGD with L2 shrinks each weight by (1 − 2ηλ) per step: the decay's time constant fits in the run
    l2 = suite.levels["l2"]["config"]["l2"]
    assert 2 * base.learning_rate * l2 * base.steps > 1
