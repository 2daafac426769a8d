"""The monitor under an L2 penalty: gradients, the recorded loss and reg_loss against the closed form
2λW and λ‖W‖² on a hand-written forward pass."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from harness_reference import (
    BASE,
    RTOL,
    SEED,
    batches,
    brute_force,
    initial_weights,
    norm,
    step_rows,
)

from tfbench.harness.train import train_run

# ---------------------------------------------------------------------------------------------
# L2 regularization: gradient, reg_loss and loss


def test_l2_regularizer_adds_2_lambda_w_to_the_gradient_and_lambda_w_squared_to_the_loss(digits):
    l2 = 0.01
    setup = dataclasses.replace(BASE, regularizer={"class_name": "L2", "config": {"l2": l2}})
    weights = initial_weights(setup, digits, SEED)
    ref = brute_force(setup, weights, *batches(setup, digits, SEED)[0], l2=l2)
    rows, steps = step_rows(train_run(setup, SEED, mode="none"), 0)
    for name in ref["names"]:
        kernel = weights[name][0]
        # data-loss gradient from the tape + the closed-form gradient of λ‖W‖²
        expected = ref["data_kernel_grads"][name] + 2 * l2 * kernel
        assert rows.loc[name, "kernel_grad_norm"] == pytest.approx(norm(expected), rel=RTOL)
        assert norm(expected) != pytest.approx(norm(ref["data_kernel_grads"][name]), rel=1e-2)  # it matters
        # biases are not regularized
        assert rows.loc[name, "bias_grad_norm"] == pytest.approx(norm(ref["bias_grads"][name]), rel=RTOL)
    reg = l2 * sum((weights[n][0].astype(np.float64) ** 2).sum() for n in ref["names"])
    assert steps["reg_loss"] == pytest.approx(reg, rel=1e-5)
    assert steps["loss"] == pytest.approx(ref["data_loss"] + reg, rel=RTOL)
    assert steps["loss"] == pytest.approx(ref["data_loss"] + steps["reg_loss"], rel=RTOL)


def test_reg_loss_is_recorded_before_the_update_at_every_step(digits):
    # reg_loss at step s must be λ‖W_s‖² of the weights the loss of step s used, not of W_{s+1}.
    l2 = 0.05
    setup = dataclasses.replace(BASE, regularizer={"class_name": "L2", "config": {"l2": l2}}, learning_rate=0.5)
    weights = initial_weights(setup, digits, SEED)
    data_batches = batches(setup, digits, SEED)
    ref0 = brute_force(setup, weights, *data_batches[0], l2=l2)
    updated = {
        n: (k - setup.learning_rate * ref0["kernel_grads"][n], b - setup.learning_rate * ref0["bias_grads"][n])
        for n, (k, b) in weights.items()
    }
    ref1 = brute_force(setup, updated, *data_batches[1], l2=l2)
    steps = train_run(setup, SEED, mode="none").steps_table.set_index("step")
    for step, state, ref in ((0, weights, ref0), (1, updated, ref1)):
        reg = l2 * sum((k.astype(np.float64) ** 2).sum() for k, _ in state.values())
        assert steps.loc[step, "reg_loss"] == pytest.approx(reg, rel=1e-4)
        assert steps.loc[step, "loss"] == pytest.approx(ref["loss"], rel=RTOL)
