"""Multilayer perceptron: `depth` hidden Dense layers of `width` units, then the output layer.

With `residual=True` (the resnet family) every hidden layer after the first is wrapped in an
identity skip, x + block(x); everything else, initial kernels included, is the same.
"""

import keras

from tfbench.models.layers import dense, hidden_block, output_head
from tfbench.models.network import Network, Probe


def build(setup, data, seed: int, residual: bool = False) -> Network:
    inputs = keras.Input(shape=data.input_shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(data.input_shape) > 1 else inputs
    probes: list[Probe] = []
    for depth in range(1, setup.depth + 1):
        layer = dense(setup, setup.width, seed, depth, name=f"dense_{depth}")
        h = hidden_block(x, layer, setup, seed, depth, probes, Probe)
        # Layer 1 projects the input to `width` units: no skip, the shapes differ.
        x = keras.layers.Add(name=f"residual_{depth}")([x, h]) if residual and depth > 1 else h
    outputs = output_head(x, setup, data, seed, setup.depth + 1, probes, Probe)
    return Network(inputs=inputs, outputs=outputs, probes=probes)
