"""The monitored train_step (docs/design.md §5) against brute force on real models.

The expected numbers come from a forward pass written out by hand here (matmuls, the activation,
batch normalization's formula, softmax cross-entropy) on copies of the initial weights, and one plain
`tf.GradientTape`: no Keras layer, loss or optimizer takes part in the reference computation. The
harness's numbers come from `train_run` (records as the report reads them) with the same Setup and
seed; that both start from the same weights is itself asserted (weights are deterministic per seed).
"""

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
    layer_names,
    norm,
    step_rows,
)

from tfbench.data.batches import train_batches
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.harness.train import train_run
from tfbench.records.schema import LAYER_MEASURES

# ---------------------------------------------------------------------------------------------
# Plain ReLU MLP: every per-layer column at step 0 (and step 1) against the tape


@pytest.fixture(scope="module")
def relu_case(digits):
    setup = BASE
    weights = initial_weights(setup, digits, SEED)
    data_batches = batches(setup, digits, SEED)
    reference = brute_force(setup, weights, *data_batches[0])
    result = train_run(setup, SEED, mode="full")
    return setup, weights, data_batches, reference, result


def test_initial_weights_are_identical_for_the_same_seed(digits):
    first = initial_weights(BASE, digits, SEED)
    second = initial_weights(BASE, digits, SEED)
    for name in layer_names(BASE):
        np.testing.assert_array_equal(first[name][0], second[name][0])
        np.testing.assert_array_equal(first[name][1], second[name][1])


def test_first_batch_is_the_seeds_first_permutation(digits):
    # The documented stream: one numpy permutation of the training set per epoch, seeded by the run seed.
    order = np.random.default_rng(SEED).permutation(len(digits.x_train))[: BASE.batch_size]
    x, y = batches(BASE, digits, SEED)[0]
    np.testing.assert_array_equal(x, digits.x_train[order])
    np.testing.assert_array_equal(y, digits.y_train[order])


def test_step_0_kernel_and_bias_gradient_norms_match_the_tape(relu_case):
    setup, _, _, ref, result = relu_case
    rows, _ = step_rows(result, 0)
    assert list(rows.index) == ref["names"]
    assert list(rows["depth"]) == list(range(1, setup.depth + 2))
    for name in ref["names"]:
        assert rows.loc[name, "kernel_grad_norm"] == pytest.approx(norm(ref["kernel_grads"][name]), rel=RTOL)
        assert rows.loc[name, "bias_grad_norm"] == pytest.approx(norm(ref["bias_grads"][name]), rel=RTOL)
        assert rows.loc[name, "grad_max_abs"] == pytest.approx(np.abs(ref["kernel_grads"][name]).max(), rel=RTOL)
        assert rows.loc[name, "nonfinite"] == 0


def test_step_0_delta_norms_are_the_gradient_wrt_each_linear_output(relu_case):
    _, _, _, ref, result = relu_case
    rows, _ = step_rows(result, 0)
    for name in ref["names"]:
        assert rows.loc[name, "act_grad_norm"] == pytest.approx(norm(ref["deltas"][name]), rel=RTOL)
    # Closed form at the output: δ = (softmax(logits) - onehot(y)) / batch.
    x, y = relu_case[2][0]
    logits = ref["logits"].astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1.0
    assert rows.loc["output", "act_grad_norm"] == pytest.approx(norm(probs / len(y)), rel=RTOL)


def test_step_0_kernel_norms_are_the_initial_kernels_norms(relu_case):
    _, weights, _, ref, result = relu_case
    rows, _ = step_rows(result, 0)
    for name in ref["names"]:
        assert rows.loc[name, "kernel_norm"] == pytest.approx(norm(weights[name][0]), rel=1e-5)


def test_step_0_update_ratio_under_plain_sgd_is_lr_times_grad_norm_over_kernel_norm(relu_case):
    setup, weights, _, ref, result = relu_case
    rows, _ = step_rows(result, 0)
    for name in ref["names"]:
        expected = setup.learning_rate * norm(ref["kernel_grads"][name]) / norm(weights[name][0])
        # ΔW is (W - lr g) - W in float32: a little cancellation error on top of the gradient's.
        assert rows.loc[name, "update_ratio"] == pytest.approx(expected, rel=1e-3)


def sgd_update_ratios_at(setup, weights, data_batches, step: int) -> dict:
    """Brute force: replay plain SGD on the tape up to `step`; lr·‖g‖/‖W‖ of each kernel at that step."""
    current = dict(weights)
    for s in range(step + 1):
        ref = brute_force(setup, current, *data_batches[s])
        if s == step:
            return {n: setup.learning_rate * norm(ref["kernel_grads"][n]) / norm(current[n][0]) for n in ref["names"]}
        current = {
            n: (current[n][0] - setup.learning_rate * ref["kernel_grads"][n],
                current[n][1] - setup.learning_rate * ref["bias_grads"][n])
            for n in ref["names"]
        }  # fmt: skip


def test_update_ratio_of_every_recorded_step_is_measured_against_that_steps_own_kernels(digits):
    # Full mode records consecutive steps (the copy of step s's kernels is what step s-1 left);
    # a plan recording steps 0 and 3 of 4, as standard mode does in long runs, needs a fresh copy
    # before step 3.
    setup = dataclasses.replace(BASE, steps=4, eval_every=2)
    weights = initial_weights(setup, digits, SEED)
    data_batches = batches(setup, digits, SEED)
    full = train_run(setup, SEED, mode="full")
    sparse_plan = RecordPlan(steps=4, recorded=np.array([0, 3]))
    sparse = build_model(setup, digits, SEED, sparse_plan)
    stream = train_batches(digits, setup.batch_size, setup.steps, SEED)
    sparse.fit(stream, epochs=1, steps_per_epoch=4, verbose=0, shuffle=False)
    column = LAYER_MEASURES.index("update_ratio")
    for step in (1, 3):
        expected = sgd_update_ratios_at(setup, weights, data_batches, step)
        rows, _ = step_rows(full, step)
        for depth, (name, ratio) in enumerate(expected.items()):
            assert rows.loc[name, "update_ratio"] == pytest.approx(ratio, rel=2e-3), ("full", step, name)
            if step == 3:
                assert sparse.fetch_layers()[1, depth, column] == pytest.approx(ratio, rel=2e-3), ("sparse", name)


def test_step_0_dead_fraction_of_relu_layers_matches_numpy(relu_case):
    _, _, _, ref, result = relu_case
    rows, _ = step_rows(result, 0)
    for name, a in ref["activated"].items():
        assert rows.loc[name, "dead_fraction"] == pytest.approx(np.mean(np.all(a == 0, axis=0)))
    assert rows.loc["output", "dead_fraction"] == 0  # softmax outputs are never exactly 0
    assert rows["saturated_fraction"].isna().all()  # ReLU is not two-sided bounded; output layer never


def test_step_0_scalars_match_the_tape(relu_case):
    setup, _, data_batches, ref, result = relu_case
    _, steps = step_rows(result, 0)
    x, y = data_batches[0]
    assert steps["loss"] == pytest.approx(ref["loss"], rel=RTOL)
    assert steps["reg_loss"] == 0
    assert steps["global_grad_norm"] == pytest.approx(ref["global_norm"], rel=RTOL)
    assert steps["metric"] == pytest.approx(np.mean(ref["logits"].argmax(axis=1) == y))
    assert steps["learning_rate"] == pytest.approx(setup.learning_rate)


def test_step_1_is_the_gradient_on_batch_1_after_one_sgd_update(relu_case):
    setup, weights, data_batches, ref, result = relu_case
    updated = {
        n: (k - setup.learning_rate * ref["kernel_grads"][n], b - setup.learning_rate * ref["bias_grads"][n])
        for n, (k, b) in weights.items()
    }
    ref1 = brute_force(setup, updated, *data_batches[1])
    rows, steps = step_rows(result, 1)
    assert steps["loss"] == pytest.approx(ref1["loss"], rel=RTOL)
    for name in ref1["names"]:
        assert rows.loc[name, "kernel_grad_norm"] == pytest.approx(norm(ref1["kernel_grads"][name]), rel=1e-3)
        assert rows.loc[name, "kernel_norm"] == pytest.approx(norm(updated[name][0]), rel=1e-5)
