"""Greedy layer-wise pretraining (tfbench/models/pretrain.py) against an autoencoder trained
independently with numpy: hand-derived gradients of the documented reconstruction loss, plain SGD,
the documented decoder initialization and batch order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tfbench.data.loading import load_data
from tfbench.errors import TfbenchError
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.harness.train import train_run
from tfbench.models.pretrain import decoder_initial_weights, pretrain_layers, pretraining_batches
from tfbench.spec.discovery import load_file
from tfbench.spec.setup import Setup

SEED = 5
BASE = Setup(depth=2, width=8, activation="sigmoid", learning_rate=0.5, batch_size=32, steps=2, eval_every=2)
PRETRAINED = dataclasses.replace(BASE, pretrain_steps=12)


def initial_weights(setup):
    model = build_model(setup, load_data(setup.data), SEED, RecordPlan.for_mode(setup.steps, "none"))
    return model, {layer.name: [layer.kernel.numpy(), layer.bias.numpy()] for layer in model.net.layers
                   if getattr(layer, "kernel", None) is not None}  # fmt: skip


def hidden_layers(model, setup):
    return [model.net.get_layer(f"dense_{d}") for d in range(1, setup.depth + 1)]


def numpy_autoencoder(x, kernel, bias, decoder_kernel, decoder_bias, batches, learning_rate):
    """SGD on mean((σ(xW + b)V + c − x)²), gradients derived by hand, in float64."""
    w, b, v, c = (np.array(a, np.float64) for a in (kernel, bias, decoder_kernel, decoder_bias))
    for rows in batches:
        xb = x[rows]
        h = 1 / (1 + np.exp(-(xb @ w + b)))
        r = h @ v + c
        d_r = 2 * (r - xb) / r.size
        d_z = (d_r @ v.T) * h * (1 - h)
        w, b, v, c = (w - learning_rate * xb.T @ d_z, b - learning_rate * d_z.sum(0),
                      v - learning_rate * h.T @ d_r, c - learning_rate * d_r.sum(0))  # fmt: skip
    return w, b


def test_each_pretrained_layer_equals_an_autoencoder_trained_independently_on_the_previous_codes():
    data = load_data(PRETRAINED.data)
    model, start = initial_weights(PRETRAINED)
    pretrain_layers(hidden_layers(model, PRETRAINED), PRETRAINED, data.x_train, SEED)
    codes = data.x_train.astype(np.float64)
    for depth in (1, 2):
        kernel, bias = start[f"dense_{depth}"]
        decoder = decoder_initial_weights(SEED, depth, PRETRAINED.width, codes.shape[1])
        batches = pretraining_batches(len(codes), PRETRAINED, SEED, depth)
        assert batches.shape == (PRETRAINED.pretrain_steps, PRETRAINED.batch_size)
        w, b = numpy_autoencoder(codes, kernel, bias, *decoder, batches, PRETRAINED.learning_rate)
        layer = model.net.get_layer(f"dense_{depth}")
        np.testing.assert_allclose(layer.kernel.numpy(), w, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(layer.bias.numpy(), b, rtol=1e-4, atol=1e-6)
        assert not np.allclose(layer.kernel.numpy(), kernel)  # it did train
        codes = 1 / (1 + np.exp(-(codes @ layer.kernel.numpy() + layer.bias.numpy())))
    # the output layer keeps its random initialization
    np.testing.assert_array_equal(model.net.get_layer("output").kernel.numpy(), start["output"][0])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def best_reconstruction_error(x, kernel, bias):
    """Mean squared error of the least-squares linear decoder of σ(xW + b): independent of the decoder
    tfbench trained."""
    h = np.hstack([sigmoid(x @ kernel + bias), np.ones((len(x), 1))])
    decoder, *_ = np.linalg.lstsq(h, x, rcond=None)
    return np.mean((h @ decoder - x) ** 2)


def pretraining_suite_setup():
    """The pretraining suite's pretrained variant: its budget and learning rate, not the test's."""
    (suite,) = load_file(Path(__file__).resolve().parent.parent / "suites" / "pretraining.py")
    return {v.label: v.setup for v in suite.variants()}["pretrained"]


@pytest.mark.parametrize("which", ["small", "pretraining suite"])
def test_pretraining_lowers_the_best_linear_reconstruction_error_of_the_first_layer(which):
    # The first layer compresses 64 pixels into `width` units; a square layer after it passes its
    # input on almost losslessly already at random, so only the first shows what pretraining learned.
    setup = dataclasses.replace(BASE, pretrain_steps=200) if which == "small" else pretraining_suite_setup()
    x = load_data(setup.data).x_train.astype(np.float64)
    model, start = initial_weights(setup)
    pretrain_layers(hidden_layers(model, setup), setup, x, SEED)
    layer = model.net.get_layer("dense_1")
    before = best_reconstruction_error(x, *start["dense_1"])
    assert best_reconstruction_error(x, layer.kernel.numpy(), layer.bias.numpy()) < 0.95 * before


def test_zero_pretrain_steps_is_exactly_the_random_init_net():
    model, start = initial_weights(BASE)
    pretrain_layers(hidden_layers(model, BASE), BASE, load_data(BASE.data).x_train, SEED)
    for name, (kernel, bias) in start.items():
        np.testing.assert_array_equal(model.net.get_layer(name).kernel.numpy(), kernel)
        np.testing.assert_array_equal(model.net.get_layer(name).bias.numpy(), bias)


def test_step_0_gradients_are_those_of_the_pretrained_weights():
    model, _ = initial_weights(PRETRAINED)
    pretrain_layers(hidden_layers(model, PRETRAINED), PRETRAINED, load_data(PRETRAINED.data).x_train, SEED)
    layers = train_run(PRETRAINED, SEED, mode="none").layers_table
    step0 = layers[layers.step == 0].set_index("layer")
    for name in ("dense_1", "dense_2", "output"):
        expected = np.linalg.norm(model.net.get_layer(name).kernel.numpy())
        assert step0.loc[name, "kernel_norm"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"pretrain_steps": -1}, "Setup.pretrain_steps=-1"),
        ({"pretrain_steps": 1.5}, "Setup.pretrain_steps=1.5"),
        ({"pretrain_steps": 10, "model": "rnn"}, "model='rnn'"),
        ({"pretrain_steps": 10, "batch_norm": True}, "batch_norm=True"),
        ({"pretrain_steps": 10, "activation": "prelu"}, "activation='prelu'"),
    ],
)
def test_bad_pretraining_setups_are_one_line_errors(changes, fragment):
    with pytest.raises(TfbenchError) as info:
        dataclasses.replace(BASE, **changes)
    assert fragment in str(info.value) and "\n" not in str(info.value)
