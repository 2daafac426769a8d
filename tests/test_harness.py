"""The monitored train_step (DESIGN §5) against brute force on real models.

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
import tensorflow as tf

from tfbench.data.datasets import load_data, train_batches
from tfbench.harness.build import build_model
from tfbench.harness.plan import STANDARD_RECORDED_STEPS, RecordPlan
from tfbench.harness.train import train_run
from tfbench.records.schema import LAYER_COLUMNS
from tfbench.spec.suite import Setup

SEED = 3
RTOL = 1e-4
BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default
SATURATION_MARGIN = 0.01  # DESIGN §5: within 1 % of the range from a bound

ACTIVATIONS = {
    "relu": lambda z: tf.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + tf.exp(-z)),
    "tanh": lambda z: (tf.exp(z) - tf.exp(-z)) / (tf.exp(z) + tf.exp(-z)),
}

BASE = Setup(depth=4, width=24, activation="relu", learning_rate=0.1, batch_size=32, steps=2, eval_every=2)


@pytest.fixture(scope="module")
def digits():
    return load_data("digits")


def layer_names(setup) -> list[str]:
    return [f"dense_{d}" for d in range(1, setup.depth + 1)] + ["output"]


def initial_weights(setup, data, seed):
    """(kernel, bias) per layer name, as numpy copies, from a freshly built model."""
    model = build_model(setup, data, seed, RecordPlan.for_mode(setup.steps, "full"))
    return {
        name: (model.net.get_layer(name).kernel.numpy().copy(), model.net.get_layer(name).bias.numpy().copy())
        for name in layer_names(setup)
    }


def batches(setup, data, seed):
    return [(x.numpy(), y.numpy()) for x, y in train_batches(data, setup.batch_size, setup.steps, seed)]


def brute_force(setup, weights, x, y, l2=0.0):
    """Hand-written forward pass and one plain tape: gradients, δ = d loss / d z, activations, losses."""
    names = layer_names(setup)
    kernels = {n: tf.Variable(weights[n][0]) for n in names}
    biases = {n: tf.Variable(weights[n][1]) for n in names}
    # BatchNormalization's initial scale and offset (ones, zeros): trainable, so part of the global norm.
    gammas = [tf.Variable(tf.ones([setup.width])) for _ in range(setup.depth)] if setup.batch_norm else []
    betas = [tf.Variable(tf.zeros([setup.width])) for _ in range(setup.depth)] if setup.batch_norm else []
    activate = ACTIVATIONS[setup.activation]
    with tf.GradientTape(persistent=True) as tape:
        h = tf.constant(x)
        zs, normalized, activated = [], [], []
        for i, name in enumerate(names[:-1]):
            z = tf.matmul(h, kernels[name]) + biases[name]
            zs.append(z)
            if setup.batch_norm:
                mean = tf.reduce_mean(z, axis=0)
                var = tf.reduce_mean(tf.square(z - mean), axis=0)
                z = (z - mean) / tf.sqrt(var + BN_EPSILON) * gammas[i] + betas[i]
                normalized.append(z)
            h = activate(z)
            activated.append(h)
        logits = tf.matmul(h, kernels["output"]) + biases["output"]
        zs.append(logits)
        data_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant(y), logits))
        reg_loss = l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels.values()])
        loss = data_loss + reg_loss
    every_variable = [*kernels.values(), *biases.values(), *gammas, *betas]
    all_grads = tape.gradient(loss, every_variable)

    def by_name(tensors):
        return {n: t.numpy() for n, t in zip(names, tensors, strict=True)}

    return {
        "names": names,
        "kernel_grads": by_name(tape.gradient(loss, list(kernels.values()))),
        "data_kernel_grads": by_name(tape.gradient(data_loss, list(kernels.values()))),
        "bias_grads": by_name(tape.gradient(loss, list(biases.values()))),
        "deltas": by_name(tape.gradient(loss, zs)),
        "normalized_deltas": [d.numpy() for d in tape.gradient(loss, normalized)] if normalized else [],
        "activated": {n: a.numpy() for n, a in zip(names[:-1], activated, strict=True)},
        "global_norm": float(np.sqrt(sum((g.numpy().astype(np.float64) ** 2).sum() for g in all_grads))),
        "loss": float(loss),
        "data_loss": float(data_loss),
        "logits": logits.numpy(),
    }


def norm(array) -> float:
    return float(np.linalg.norm(np.asarray(array, np.float64).ravel()))


def step_rows(result, step: int):
    layers = result.layers_table
    rows = layers[layers["step"] == step].set_index("layer")
    steps = result.steps_table.set_index("step").loc[step]
    return rows, steps


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
    column = LAYER_COLUMNS.index("update_ratio")
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


# ---------------------------------------------------------------------------------------------
# Monitor modes


def test_mode_none_records_layer_rows_at_step_0_only_and_every_step_scalar():
    result = train_run(dataclasses.replace(BASE, steps=4, eval_every=2), SEED, mode="none")
    assert sorted(result.layers_table["step"].unique()) == [0]
    assert len(result.layers_table) == BASE.depth + 1
    training = result.steps_table.dropna(subset=["loss"])
    assert list(training["step"]) == [0, 1, 2, 3]


def test_mode_full_records_every_step_for_every_layer():
    result = train_run(dataclasses.replace(BASE, steps=4, eval_every=2), SEED, mode="full")
    table = result.layers_table
    assert len(table) == 4 * (BASE.depth + 1)
    for name in layer_names(BASE):
        assert list(table.loc[table["layer"] == name, "step"]) == [0, 1, 2, 3]
    assert table[list(table.columns[3:8])].notna().all().all()


def test_mode_standard_records_at_most_200_evenly_spread_steps_including_first_and_last():
    plan = RecordPlan.for_mode(600, "standard")
    recorded = plan.recorded
    assert len(recorded) <= STANDARD_RECORDED_STEPS == 200
    assert len(recorded) >= 190  # "about 200"
    assert recorded[0] == 0 and recorded[-1] == 599
    assert np.all(np.diff(recorded) > 0)
    assert np.diff(recorded).max() <= 4  # evenly spaced: 599 / 199 ≈ 3
    assert plan.mask.sum() == len(recorded) and plan.mask[0] and plan.mask[599]
    assert list(plan.slots[recorded]) == list(range(len(recorded)))
    assert np.all(plan.slots[~plan.mask] == -1)


def test_mode_standard_on_a_short_run_records_every_step_and_full_is_every_step():
    np.testing.assert_array_equal(RecordPlan.for_mode(50, "standard").recorded, np.arange(50))
    np.testing.assert_array_equal(RecordPlan.for_mode(600, "full").recorded, np.arange(600))
    np.testing.assert_array_equal(RecordPlan.for_mode(600, "none").recorded, [0])

