"""Matched variants (docs/design.md §4): for one seed, variants start from identical weights wherever the
factor does not change them, see identical batches, and so compute identical step-0 losses and
gradients when the factor acts only after the gradient (optimizer, clipping).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tfbench.data.batches import train_batches
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.harness.train import train_run
from tfbench.spec.setup import Setup

SEED = 7
BASE = Setup(depth=3, width=16, learning_rate=0.05, batch_size=32, steps=2, eval_every=2)

# Columns that depend only on the weights, the batch and the loss, never on what the optimizer does.
GRADIENT_COLUMNS = [
    "kernel_grad_norm",
    "bias_grad_norm",
    "act_grad_norm",
    "kernel_norm",
    "grad_max_abs",
    "dead_fraction",
]
STEP_COLUMNS = ["loss", "reg_loss", "metric", "global_grad_norm"]


def weights_by_layer(setup, data, seed=SEED) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Initial (kernel, bias) of every layer that has a kernel, keyed by layer name."""
    model = build_model(setup, data, seed, RecordPlan.for_mode(setup.steps, "none"))
    return {
        layer.name: (layer.kernel.numpy(), layer.bias.numpy())
        for layer in model.net.layers
        if getattr(layer, "kernel", None) is not None
    }


def assert_same_weights(first: dict, second: dict, names=None):
    names = names or sorted(first)
    assert names and set(names) <= set(first) and set(names) <= set(second)
    for name in names:
        np.testing.assert_array_equal(first[name][0], second[name][0], err_msg=f"kernel of {name}")
        np.testing.assert_array_equal(first[name][1], second[name][1], err_msg=f"bias of {name}")


DENSE = ["dense_1", "dense_2", "dense_3", "output"]


# ---------------------------------------------------------------------------------------------
# Identical initial weights across variants


@pytest.mark.parametrize(
    "field, levels",
    [
        ("activation", ["relu", "sigmoid", "prelu", "leaky_relu", "tanh"]),
        ("regularizer", [None, "l2", {"class_name": "L1", "config": {"l1": 0.001}}]),
        ("batch_norm", [False, True]),
        ("dropout", [0.0, 0.5]),
        ("clipnorm", [None, 1.0]),
        ("clipvalue", [None, 0.1]),
        ("global_clipnorm", [None, 1.0]),
        ("optimizer", ["sgd", "adam", "rmsprop", {"class_name": "SGD", "config": {"momentum": 0.9}}]),
        ("learning_rate", [0.01, 0.5]),
        ("output_activation", [None, "sigmoid", "linear"]),
        ("loss", [None, "mse", "binary_crossentropy"]),
        ("data", ["digits", "digits:raw", "digits:outliers"]),
    ],
)
def test_variants_start_from_identical_kernels(digits, field, levels):
    variants = [weights_by_layer(dataclasses.replace(BASE, **{field: level}), digits) for level in levels]
    for other in variants[1:]:
        assert_same_weights(variants[0], other, DENSE)


def test_initial_weights_do_not_depend_on_the_random_state_left_by_earlier_models(digits):
    # Build a model that draws from Keras' global RNG (PReLU, dropout), then the plain one again.
    first = weights_by_layer(BASE, digits)
    weights_by_layer(dataclasses.replace(BASE, activation="prelu", dropout=0.5), digits)
    assert_same_weights(first, weights_by_layer(BASE, digits))


def test_a_layers_weights_depend_on_its_depth_not_on_how_deep_the_net_is(digits):
    shallow = weights_by_layer(BASE, digits)
    deep = weights_by_layer(dataclasses.replace(BASE, depth=5), digits)
    assert_same_weights(shallow, deep, ["dense_1", "dense_2", "dense_3"])


def test_resnet_and_mlp_of_equal_depth_start_from_identical_kernels(digits):
    resnet = weights_by_layer(dataclasses.replace(BASE, model="resnet"), digits)
    assert_same_weights(weights_by_layer(BASE, digits), resnet)


def test_different_seeds_give_different_kernels_in_every_layer(digits):
    first = weights_by_layer(BASE, digits, seed=SEED)
    second = weights_by_layer(BASE, digits, seed=SEED + 1)
    for name in DENSE:
        assert not np.allclose(first[name][0], second[name][0]), name


def test_kernel_and_bias_streams_are_independent(digits):
    # With a random bias initializer, a layer's bias is not a copy of the first entries of its kernel.
    setup = dataclasses.replace(BASE, initializer="random_normal", bias_initializer="random_normal")
    weights = weights_by_layer(setup, digits)
    for name in DENSE:
        kernel, bias = weights[name]
        assert not np.allclose(kernel.ravel()[: bias.size], bias)
    # and layers of equal shape do not repeat each other
    assert not np.allclose(weights["dense_2"][0], weights["dense_3"][0])


def test_batch_order_is_fixed_by_the_seed_alone_whatever_the_batch_size(digits):
    small = [x.numpy() for x, _ in train_batches(digits, 16, 4, SEED)]
    large = [x.numpy() for x, _ in train_batches(digits, 64, 1, SEED)]
    np.testing.assert_array_equal(np.concatenate(small), large[0])


# ---------------------------------------------------------------------------------------------
# Identical step-0 loss and gradients when the factor acts after the gradient


def step0(result):
    layers = result.layers_table
    rows = layers[layers["step"] == 0].set_index("layer")
    return result.steps_table.set_index("step").loc[0], rows


@pytest.fixture(scope="module")
def base_run():
    return train_run(BASE, SEED, mode="none")


@pytest.mark.parametrize(
    "changes, same_first_update",
    [
        ({"optimizer": "adam"}, False),
        ({"optimizer": "rmsprop"}, False),
        # Momentum's velocity starts at 0, so its first update is plain SGD's: -lr·g.
        ({"optimizer": {"class_name": "SGD", "config": {"momentum": 0.9}}}, True),
        ({"clipnorm": 0.01}, False),
        ({"clipvalue": 1e-4}, False),
        ({"global_clipnorm": 0.01}, False),
    ],
    ids=["adam", "rmsprop", "momentum", "clipnorm", "clipvalue", "global_clipnorm"],
)
def test_optimizer_and_clipping_variants_share_step_0_loss_and_gradients(base_run, changes, same_first_update):
    base_steps, base_rows = step0(base_run)
    steps, rows = step0(train_run(dataclasses.replace(BASE, **changes), SEED, mode="none"))
    np.testing.assert_allclose(steps[STEP_COLUMNS].astype(float), base_steps[STEP_COLUMNS].astype(float), rtol=1e-6)
    np.testing.assert_allclose(rows[GRADIENT_COLUMNS], base_rows[GRADIENT_COLUMNS], rtol=1e-6)
    # ... while the update they apply differs (the factor acts after the gradient), save momentum's first.
    same = np.allclose(rows["update_ratio"], base_rows["update_ratio"], rtol=1e-4)
    assert same == same_first_update


# ---------------------------------------------------------------------------------------------
# Determinism


def test_the_same_setup_and_seed_twice_gives_identical_records():
    setup = dataclasses.replace(BASE, steps=6, eval_every=3, dropout=0.2)
    first = train_run(setup, SEED, mode="full")
    second = train_run(setup, SEED, mode="full")
    pd.testing.assert_frame_equal(first.steps_table, second.steps_table, check_exact=True)
    pd.testing.assert_frame_equal(first.layers_table, second.layers_table, check_exact=True)
    assert first.final_loss == second.final_loss


def test_another_seed_gives_other_records():
    first = train_run(BASE, SEED, mode="none").steps_table
    second = train_run(BASE, SEED + 1, mode="none").steps_table
    assert first.loc[0, "loss"] != second.loc[0, "loss"]
