"""Setup.output_activation and the loss on class labels: a sigmoid output trained with MSE or binary
cross-entropy sees one-hot targets; softmax with sparse categorical cross-entropy the integer labels.
The step-0 loss is checked against a numpy forward pass and the closed-form losses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tfbench.data.batches import batch_indices
from tfbench.data.loading import load_data
from tfbench.errors import TfbenchError
from tfbench.harness.build import build_model, resolve_fields
from tfbench.harness.plan import RecordPlan
from tfbench.harness.train import train_run
from tfbench.spec.discovery import load_file
from tfbench.spec.setup import Setup

SEED = 3
BASE = Setup(depth=2, width=8, activation="sigmoid", batch_size=32, steps=2, eval_every=2)
LOSS_SUITE = Path(__file__).resolve().parent.parent / "suites" / "loss.py"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_forward(setup, x):
    """The output of the initial net, recomputed from its kernels with numpy."""
    model = build_model(setup, load_data(setup.data), SEED, RecordPlan.for_mode(setup.steps, "none"))
    weights = {layer.name: (layer.kernel.numpy(), layer.bias.numpy()) for layer in model.net.layers
               if getattr(layer, "kernel", None) is not None}  # fmt: skip
    h = x.astype(np.float64)
    for depth in range(1, setup.depth + 1):
        kernel, bias = weights[f"dense_{depth}"]
        h = sigmoid(h @ kernel + bias)
    kernel, bias = weights["output"]
    return h @ kernel + bias  # the output layer's z


def batch0(setup):
    data = load_data(setup.data)
    rows = batch_indices(len(data.x_train), setup.batch_size, setup.steps, SEED)[0]
    return data.x_train[rows], data.y_train[rows]


def step0_loss(setup) -> float:
    return float(train_run(setup, SEED, mode="none").steps_table.set_index("step").loc[0, "loss"])


def test_sigmoid_output_with_mse_is_the_mean_squared_error_to_one_hot_labels():
    setup = dataclasses.replace(BASE, output_activation="sigmoid", loss="mse")
    x, y = batch0(setup)
    p = sigmoid(numpy_forward(setup, x))
    expected = np.mean((p - np.eye(10)[y]) ** 2)
    assert step0_loss(setup) == pytest.approx(expected, rel=1e-5)


def test_sigmoid_output_with_binary_cross_entropy_uses_one_hot_labels():
    setup = dataclasses.replace(BASE, output_activation="sigmoid", loss="binary_crossentropy")
    x, y = batch0(setup)
    p = sigmoid(numpy_forward(setup, x))
    t = np.eye(10)[y]
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert step0_loss(setup) == pytest.approx(expected, rel=1e-5)


def test_softmax_with_sparse_cross_entropy_is_the_negative_log_likelihood_of_the_label():
    setup = dataclasses.replace(BASE, output_activation="softmax", loss="sparse_categorical_crossentropy")
    x, y = batch0(setup)
    z = numpy_forward(setup, x)
    log_softmax = z - z.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    expected = -np.mean(log_softmax[np.arange(len(y)), y])
    assert step0_loss(setup) == pytest.approx(expected, rel=1e-5)
    # None is the task's default: the same softmax and loss
    assert step0_loss(dataclasses.replace(BASE, loss="sparse_categorical_crossentropy")) == pytest.approx(
        expected, rel=1e-6
    )


def loss_suite_setups() -> dict:
    """The loss suite's variants, cut to 2 updates: their step-0 gradients are the suite's."""
    (suite,) = load_file(LOSS_SUITE)
    return {v.label: dataclasses.replace(v.setup, steps=2, eval_every=2) for v in suite.variants()}


def step0_output_bias_gradient_norm(setup) -> float:
    layers = train_run(setup, SEED, mode="none").layers_table
    return float(layers[(layers.step == 0) & (layers.layer == "output")]["bias_grad_norm"].iloc[0])


def test_the_loss_suites_output_delta_is_a_minus_y_times_sigmoid_prime_for_mse_and_a_minus_y_for_cross_entropy():
    # The output bias gradient is the batch sum of δ; Keras averages both losses over batch and units.
    setups = loss_suite_setups()
    x, y = batch0(setups["sigmoid+mse"])
    z = numpy_forward(setups["sigmoid+mse"], x)
    a, t = sigmoid(z), np.eye(10)[y]
    scale = 1.0 / (len(y) * 10)
    mse_delta = 2 * (a - t) * a * (1 - a) * scale  # d/dz of mean (a − y)²: the σ′(z) = a(1 − a) factor
    cross_entropy_delta = (a - t) * scale
    assert step0_output_bias_gradient_norm(setups["sigmoid+mse"]) == pytest.approx(
        np.linalg.norm(mse_delta.sum(axis=0)), rel=1e-4
    )
    assert step0_output_bias_gradient_norm(setups["sigmoid+cross_entropy"]) == pytest.approx(
        np.linalg.norm(cross_entropy_delta.sum(axis=0)), rel=1e-4
    )


def test_a_sigmoid_output_gives_independent_unit_outputs_not_a_distribution():
    setup = dataclasses.replace(BASE, output_activation="sigmoid", loss="mse")
    x, _ = batch0(setup)
    model = build_model(setup, load_data(setup.data), SEED, RecordPlan.for_mode(setup.steps, "none"))
    p = model(x).numpy()
    np.testing.assert_allclose(p, sigmoid(numpy_forward(setup, x)), rtol=1e-5)
    assert not np.allclose(p.sum(axis=1), 1.0)


def test_output_activation_that_is_not_a_name_is_one_line_error():
    with pytest.raises(TfbenchError) as info:
        Setup(output_activation=3)
    assert "Setup.output_activation=3" in str(info.value) and "\n" not in str(info.value)


def test_unknown_output_activation_is_rejected_by_keras_naming_the_field():
    with pytest.raises(TfbenchError) as info:
        resolve_fields(Setup(output_activation="sigmoidal"))
    message = str(info.value)
    assert "Setup.output_activation='sigmoidal'" in message and "sigmoid" in message and "\n" not in message


def test_output_activation_with_a_users_model_is_one_line_error():
    with pytest.raises(TfbenchError) as info:
        Setup(model=lambda setup: None, output_activation="sigmoid")
    assert "Setup.output_activation='sigmoid'" in str(info.value) and "\n" not in str(info.value)
