"""Residual MLP: the plain MLP with an identity skip around every hidden layer after the first.

Layer 1 projects the input to `width` units (no skip: the shapes differ); layers 2..depth compute
x + block(x). With the same seed a resnet and an mlp of equal depth start from identical kernels,
so the residual suite compares the skip connection alone.
"""

import keras

from tfbench.models.layers import dense, hidden_block, output_head
from tfbench.models.network import Network, Probe


def build(setup, data, seed: int) -> Network:
    inputs = keras.Input(shape=data.input_shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(data.input_shape) > 1 else inputs
    probes: list[Probe] = []
    for depth in range(1, setup.depth + 1):
        layer = dense(setup, setup.width, seed, depth, name=f"dense_{depth}")
        h = hidden_block(x, layer, setup, seed, depth, probes, Probe)
        x = h if depth == 1 else keras.layers.Add(name=f"residual_{depth}")([x, h])
    outputs = output_head(x, setup, data, seed, setup.depth + 1, probes, Probe)
    return Network(inputs=inputs, outputs=outputs, probes=probes)
