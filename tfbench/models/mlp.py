"""Plain multilayer perceptron: `depth` hidden Dense layers of `width` units, then the output layer."""

import keras

from tfbench.models.layers import dense, hidden_block, output_head
from tfbench.models.network import Network, Probe


def build(setup, data, seed: int) -> Network:
    inputs = keras.Input(shape=data.input_shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(data.input_shape) > 1 else inputs
    probes: list[Probe] = []
    for depth in range(1, setup.depth + 1):
        layer = dense(setup, setup.width, seed, depth, name=f"dense_{depth}")
        x = hidden_block(x, layer, setup, seed, depth, probes, Probe)
    outputs = output_head(x, setup, data, seed, setup.depth + 1, probes, Probe)
    return Network(inputs=inputs, outputs=outputs, probes=probes)
