"""The monitor's dead and saturated fractions and δ under batch normalization, against numpy counts and a
hand-written forward pass on the same weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from harness_reference import (
    BASE,
    RTOL,
    SATURATION_MARGIN,
    SEED,
    batches,
    brute_force,
    initial_weights,
    norm,
    step_rows,
)

from tfbench.harness.train import train_run

# ---------------------------------------------------------------------------------------------
# Dead units and saturation on crafted initializations


def test_dead_fraction_with_negative_biases_matches_numpy(digits):
    # A negative bias kills a good share of ReLU units on the first batch; the count is recomputed by hand.
    setup = dataclasses.replace(BASE, bias_initializer={"class_name": "Constant", "config": {"value": -0.6}})
    weights = initial_weights(setup, digits, SEED)
    ref = brute_force(setup, weights, *batches(setup, digits, SEED)[0])
    rows, _ = step_rows(train_run(setup, SEED, mode="none"), 0)
    expected = {n: np.mean(np.all(a == 0, axis=0)) for n, a in ref["activated"].items()}
    assert max(expected.values()) > 0.1  # the case is not trivial
    for name, fraction in expected.items():
        assert rows.loc[name, "dead_fraction"] == pytest.approx(fraction)


def test_saturated_fraction_of_sigmoid_layers_matches_a_count(digits):
    # Wide normal weights push sigmoid units toward 0 and 1; count outputs within 0.01 of a bound.
    setup = dataclasses.replace(
        BASE, activation="sigmoid", initializer={"class_name": "RandomNormal", "config": {"stddev": 1.0}}
    )
    weights = initial_weights(setup, digits, SEED)
    ref = brute_force(setup, weights, *batches(setup, digits, SEED)[0])
    rows, _ = step_rows(train_run(setup, SEED, mode="none"), 0)
    fuzz = 1e-6  # outputs this close to the margin may round either way in the two computations
    saw_saturation = False
    for name, a in ref["activated"].items():
        surely = np.mean((a <= SATURATION_MARGIN - fuzz) | (a >= 1 - SATURATION_MARGIN + fuzz))
        maybe = np.mean((a <= SATURATION_MARGIN + fuzz) | (a >= 1 - SATURATION_MARGIN - fuzz))
        assert surely - 1e-7 <= rows.loc[name, "saturated_fraction"] <= maybe + 1e-7
        saw_saturation |= surely > 0.05
        assert rows.loc[name, "dead_fraction"] == 0
    assert saw_saturation
    assert np.isnan(rows.loc["output", "saturated_fraction"])


# ---------------------------------------------------------------------------------------------
# Batch normalization: δ is taken before BatchNormalization


def test_with_batch_norm_delta_is_wrt_the_dense_output_before_normalization(digits):
    setup = dataclasses.replace(BASE, batch_norm=True, width=16, depth=3)
    weights = initial_weights(setup, digits, SEED)
    ref = brute_force(setup, weights, *batches(setup, digits, SEED)[0])
    rows, steps = step_rows(train_run(setup, SEED, mode="none"), 0)
    hidden = ref["names"][:-1]
    for name in ref["names"]:
        assert rows.loc[name, "act_grad_norm"] == pytest.approx(norm(ref["deltas"][name]), rel=RTOL)
        assert rows.loc[name, "kernel_grad_norm"] == pytest.approx(norm(ref["kernel_grads"][name]), rel=RTOL)
    # The check discriminates: δ after normalization differs from δ before it.
    after = [norm(d) for d in ref["normalized_deltas"]]
    before = [norm(ref["deltas"][n]) for n in hidden]
    assert max(abs(a / b - 1) for a, b in zip(after, before, strict=True)) > 0.05
    # Closed form: normalization removes the batch mean, so a hidden Dense bias gets no gradient.
    for name in hidden:
        assert rows.loc[name, "bias_grad_norm"] <= 1e-5 * rows.loc[name, "kernel_grad_norm"] + 1e-7
    # The global norm includes BatchNormalization's scale and offset gradients.
    assert steps["global_grad_norm"] == pytest.approx(ref["global_norm"], rel=RTOL)
    assert steps["loss"] == pytest.approx(ref["loss"], rel=RTOL)
