"""Stacked recurrent network: `depth` SimpleRNN / LSTM / GRU layers of `width` units, the last one
returning its final state, then the output layer.

A recurrent layer's pre-activation is internal to its cell, so for these layers the monitor's z and
a are both the layer's output sequence (δ = d loss / d output).
"""

import keras

from tfbench.errors import TfbenchError
from tfbench.models.layers import (
    BIAS,
    DROPOUT,
    KERNEL,
    LAYER_ACTIVATIONS,
    RECURRENT,
    activation_name,
    derived_seed,
    output_head,
    seeded_initializer,
)
from tfbench.models.network import Network, Probe

CELL_LAYERS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def build(setup, data, seed: int) -> Network:
    if len(data.input_shape) != 2:
        raise TfbenchError(
            f"model='rnn' needs sequence inputs [time, features]; data {data.name!r} has shape {data.input_shape}"
        )
    if setup.activation in LAYER_ACTIVATIONS:
        raise TfbenchError(
            f"Setup.activation={setup.activation!r} cannot be a recurrent cell's activation: expected a "
            "keras.activations name such as tanh"
        )
    inputs = keras.Input(shape=data.input_shape, name="inputs")
    x = inputs
    probes: list[Probe] = []
    for depth in range(1, setup.depth + 1):
        layer = CELL_LAYERS[setup.cell](
            setup.width,
            activation=setup.activation,
            kernel_initializer=seeded_initializer(setup.initializer, seed, depth, KERNEL),
            recurrent_initializer=seeded_initializer("orthogonal", seed, depth, RECURRENT),
            bias_initializer=seeded_initializer(setup.bias_initializer, seed, depth, BIAS),
            kernel_regularizer=keras.regularizers.get(setup.regularizer),
            dropout=setup.dropout,
            seed=derived_seed(seed, depth, DROPOUT),
            return_sequences=depth < setup.depth,
            name=f"{setup.cell}_{depth}",
        )
        x = layer(x)
        probes.append(Probe(layer=layer, depth=depth, z=x, a=x, activation=activation_name(setup.activation)))
    outputs = output_head(x, setup, data, seed, setup.depth + 1, probes, Probe)
    return Network(inputs=inputs, outputs=outputs, probes=probes)
