"""Records name a user's layers the same way in every run, serial or in a worker process."""

from __future__ import annotations

import keras
import numpy as np

from tfbench.harness.train import train_run
from tfbench.spec.setup import Setup

SEED = 0


def unnamed_user_model(setup):
    """A user's model whose layers Keras names itself (dense, dense_1, ... from a process counter)."""
    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(setup.width, activation=setup.activation)(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


def test_a_users_unnamed_layers_get_the_same_names_in_every_run():
    setup = Setup(model=unnamed_user_model, depth=1, width=16, steps=2, eval_every=2)
    keras.layers.Dense(3)  # another model built in between must not shift the names
    first = train_run(setup, SEED, mode="none").layers_table
    keras.layers.Dense(3)
    second = train_run(setup, SEED, mode="none").layers_table
    assert list(first["layer"]) == list(second["layer"])
    np.testing.assert_array_equal(first["kernel_grad_norm"], second["kernel_grad_norm"])
