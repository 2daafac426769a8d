"""Known physics of gradients as regression tests: vanishing through sigmoids, He initialization,
what gradient clipping bounds, and what L2 regularization adds (closed forms, docs/design.md §5).
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfbench.data.batches import train_batches
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.harness.train import train_run
from tfbench.spec.setup import Setup

SEED = 0
DEEP = Setup(depth=10, width=64, data="digits", learning_rate=0.05, batch_size=64, steps=2, eval_every=2)


def step0_by_depth(setup, seed=SEED):
    layers = train_run(setup, seed, mode="none").layers_table
    return layers[layers["step"] == 0].set_index("depth")


def log10_ratio(rows, column, first=1, last=10) -> float:
    return math.log10(rows.loc[first, column] / rows.loc[last, column])


# ---------------------------------------------------------------------------------------------
# Vanishing gradients and their remedies, at initialization


def test_sigmoid_with_glorot_vanishes_through_10_layers():
    # sigmoid' <= 1/4: nine sigmoid layers between depth 10 and depth 1 shrink the signal by decades.
    rows = step0_by_depth(dataclasses.replace(DEEP, activation="sigmoid", initializer="glorot_uniform"))
    assert rows.loc[1, "kernel_grad_norm"] / rows.loc[10, "kernel_grad_norm"] < 1e-3
    assert rows.loc[1, "act_grad_norm"] / rows.loc[10, "act_grad_norm"] < 1e-3
    assert (rows["nonfinite"] == 0).all()


def test_relu_with_he_normal_keeps_gradients_within_one_decade():
    rows = step0_by_depth(dataclasses.replace(DEEP, activation="relu", initializer="he_normal"))
    assert abs(log10_ratio(rows, "kernel_grad_norm")) < 1
    assert abs(log10_ratio(rows, "act_grad_norm")) < 1


def test_relu_with_glorot_loses_a_factor_sqrt2_of_delta_per_layer():
    # Glorot's variance 1/fan_avg is half of what ReLU needs (2/fan_in, He et al. 2015) when fan_in =
    # fan_out: the backpropagated signal shrinks by √2 per ReLU layer, 9 layers from depth 10 to 1.
    rows = step0_by_depth(dataclasses.replace(DEEP, activation="relu", initializer="glorot_uniform"))
    assert log10_ratio(rows, "act_grad_norm") == pytest.approx(-9 * math.log10(math.sqrt(2)), abs=0.3)


# ---------------------------------------------------------------------------------------------
# Gradient clipping bounds the update (SGD: ΔW = -lr · clip(g))


def one_sgd_step(setup, data, seed=SEED):
    """(weights before, weights after, tape gradients) for one `fit` step on the seed's first batch.

    The gradients come from a plain tape on the network's own forward pass, outside the harness.
    """
    model = build_model(setup, data, seed, RecordPlan.for_mode(1, "full"))
    batch = train_batches(data, setup.batch_size, 1, seed)
    x, y = next(iter(batch))
    variables = model.trainable_variables
    n = len(model.layer_slots)
    with tf.GradientTape() as tape:
        logits = model.net(x, training=True)[n]  # the output layer's linear output
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        if model.losses:
            loss += tf.add_n(model.losses)
    grads = [g.numpy().astype(np.float64) for g in tape.gradient(loss, variables)]
    before = [v.numpy().astype(np.float64) for v in variables]
    model.fit(batch, epochs=1, steps_per_epoch=1, shuffle=False, verbose=0)
    after = [v.numpy().astype(np.float64) for v in variables]
    return before, after, grads


def norm(array) -> float:
    return float(np.linalg.norm(np.ravel(array)))


def float32_atol(weights) -> float:
    """Rounding error of ΔW = (W - lr·g) - W for float32 weights: a few ulps of the largest |W|."""
    return 4 * float(np.finfo(np.float32).eps) * float(np.abs(weights).max())


CLIP_BASE = Setup(depth=3, width=32, activation="relu", learning_rate=10.0, batch_size=32, steps=1, eval_every=1)


def test_clipnorm_bounds_each_variables_update_by_lr_times_c(digits):
    c = 0.01
    setup = dataclasses.replace(CLIP_BASE, clipnorm=c)
    before, after, grads = one_sgd_step(setup, digits)
    clipped = 0
    for w0, w1, g in zip(before, after, grads, strict=True):
        step = norm(w1 - w0)
        assert step <= setup.learning_rate * c * (1 + 1e-5)
        # closed form: ΔW = -lr · g · min(1, c / ‖g‖)
        expected = -setup.learning_rate * g * min(1.0, c / norm(g))
        np.testing.assert_allclose(w1 - w0, expected, rtol=1e-3, atol=float32_atol(w0))
        clipped += norm(g) > c
    assert clipped >= len(grads) // 2  # the clip was active, so the bound is what limited the step


def test_global_clipnorm_bounds_the_global_update_by_lr_times_c(digits):
    c = 0.01
    setup = dataclasses.replace(CLIP_BASE, global_clipnorm=c)
    before, after, grads = one_sgd_step(setup, digits)
    global_grad = math.sqrt(sum(norm(g) ** 2 for g in grads))
    assert global_grad > c  # active
    steps = [w1 - w0 for w0, w1 in zip(before, after, strict=True)]
    global_step = math.sqrt(sum(norm(s) ** 2 for s in steps))
    assert global_step <= setup.learning_rate * c * (1 + 1e-5)
    assert global_step == pytest.approx(setup.learning_rate * c, rel=1e-4)
    # every variable is scaled by the same factor c / ‖g‖_global: directions are kept
    for w0, s, g in zip(before, steps, grads, strict=True):
        np.testing.assert_allclose(s, -setup.learning_rate * g * c / global_grad, rtol=1e-3, atol=float32_atol(w0))


def test_clipvalue_bounds_each_entry_of_the_update_by_lr_times_c(digits):
    c = 1e-3
    setup = dataclasses.replace(CLIP_BASE, clipvalue=c)
    before, after, grads = one_sgd_step(setup, digits)
    for w0, w1, g in zip(before, after, grads, strict=True):
        assert np.abs(w1 - w0).max() <= setup.learning_rate * c * (1 + 1e-5)
        np.testing.assert_allclose(w1 - w0, -setup.learning_rate * np.clip(g, -c, c), rtol=1e-3, atol=float32_atol(w0))


def test_without_clipping_the_same_step_is_lr_times_the_raw_gradient(digits):
    setup = dataclasses.replace(CLIP_BASE, learning_rate=0.1)
    before, after, grads = one_sgd_step(setup, digits)
    for w0, w1, g in zip(before, after, grads, strict=True):
        np.testing.assert_allclose(w1 - w0, -setup.learning_rate * g, rtol=1e-3, atol=float32_atol(w0))


# ---------------------------------------------------------------------------------------------
# L2 regularization on a one-hidden-layer net: a closed form in numpy, no tape at all


def closed_form(weights: dict, x: np.ndarray, y: np.ndarray, l2: float) -> dict:
    """Loss, gradients and δ of softmax(relu(x W1 + b1) Wo + bo) with L2 λ on both kernels, by hand."""
    (w1, b1), (wo, bo) = weights["dense_1"], weights["output"]
    x = x.astype(np.float64)
    z1 = x @ w1 + b1
    a1 = np.maximum(z1, 0.0)
    logits = a1 @ wo + bo
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    batch = len(y)
    onehot = np.eye(wo.shape[1])[y]
    delta_out = (p - onehot) / batch  # d mean-CE / d logits
    delta_1 = (delta_out @ wo.T) * (z1 > 0)  # through the ReLU
    return {
        "data_loss": float(-np.log(p[np.arange(batch), y]).mean()),
        "reg_loss": l2 * float((w1**2).sum() + (wo**2).sum()),
        "dense_1": {"kernel": x.T @ delta_1 + 2 * l2 * w1, "bias": delta_1.sum(axis=0), "delta": delta_1},
        "output": {"kernel": a1.T @ delta_out + 2 * l2 * wo, "bias": delta_out.sum(axis=0), "delta": delta_out},
    }


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_l2_adds_2_lambda_w_to_the_gradient_and_lambda_w_squared_to_the_loss(digits, l2):
    regularizer = keras.regularizers.L2(l2) if l2 else None
    setup = Setup(
        depth=1,
        width=16,
        activation="relu",
        regularizer=regularizer,
        learning_rate=0.1,
        batch_size=32,
        steps=2,
        eval_every=2,
    )
    model = build_model(setup, digits, SEED, RecordPlan.for_mode(setup.steps, "none"))
    layers = {name: model.net.get_layer(name) for name in ("dense_1", "output")}
    weights = {
        name: (layer.kernel.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64))
        for name, layer in layers.items()
    }
    x, y = next(iter(train_batches(digits, setup.batch_size, setup.steps, SEED)))
    expected = closed_form(weights, x.numpy(), y.numpy(), l2)

    result = train_run(setup, SEED, mode="none")
    rows = result.layers_table.set_index("layer")
    steps = result.steps_table.set_index("step").loc[0]
    for name in ("dense_1", "output"):
        assert rows.loc[name, "kernel_grad_norm"] == pytest.approx(norm(expected[name]["kernel"]), rel=1e-4)
        assert rows.loc[name, "bias_grad_norm"] == pytest.approx(norm(expected[name]["bias"]), rel=1e-4)
        assert rows.loc[name, "act_grad_norm"] == pytest.approx(norm(expected[name]["delta"]), rel=1e-4)
    assert steps["reg_loss"] == pytest.approx(expected["reg_loss"], rel=1e-5, abs=1e-9)
    assert steps["loss"] == pytest.approx(expected["data_loss"] + expected["reg_loss"], rel=1e-5)
    if l2:
        assert expected["reg_loss"] > 0.01 * expected["data_loss"]  # large enough to be seen at this tolerance


def test_l2_changes_weight_gradients_but_not_the_backpropagated_delta():
    # The penalty depends on the weights only: δ = d loss / d z is the same with and without it.
    base = Setup(depth=2, width=16, learning_rate=0.1, batch_size=32, steps=2, eval_every=2)
    plain = step0_by_depth(base)
    regularized = step0_by_depth(dataclasses.replace(base, regularizer={"class_name": "L2", "config": {"l2": 0.05}}))
    np.testing.assert_allclose(regularized["act_grad_norm"], plain["act_grad_norm"], rtol=1e-6)
    assert (regularized["kernel_grad_norm"] > plain["kernel_grad_norm"] * 1.01).any()
    np.testing.assert_allclose(regularized["bias_grad_norm"], plain["bias_grad_norm"], rtol=1e-6)
