"""Small convolutional stack: `depth` 3x3 same-padded Conv2D layers of `width` filters, global
average pooling, then the output layer. Flat square inputs (the 64 digits pixels) become 8x8x1 images.
"""

import math

import keras

from tfbench.errors import TfbenchError
from tfbench.models.layers import BIAS, KERNEL, hidden_block, output_head, seeded_initializer
from tfbench.models.network import Network, Probe


def image_shape(input_shape: tuple) -> tuple:
    if len(input_shape) == 3:
        return input_shape
    if len(input_shape) == 2:
        return (*input_shape, 1)
    side = math.isqrt(input_shape[0])
    if len(input_shape) == 1 and side * side == input_shape[0]:
        return (side, side, 1)
    raise TfbenchError(
        f"model='cnn' cannot use inputs of shape {input_shape}: expected images [h, w, c], [h, w] "
        "or flat inputs of square size (e.g. 64 = 8x8)"
    )


def build(setup, data, seed: int) -> Network:
    inputs = keras.Input(shape=data.input_shape, name="inputs")
    shape = image_shape(tuple(data.input_shape))
    x = inputs if shape == tuple(data.input_shape) else keras.layers.Reshape(shape, name="to_image")(inputs)
    probes: list[Probe] = []
    for depth in range(1, setup.depth + 1):
        layer = keras.layers.Conv2D(
            setup.width,
            3,
            padding="same",
            kernel_initializer=seeded_initializer(setup.initializer, seed, depth, KERNEL),
            bias_initializer=seeded_initializer(setup.bias_initializer, seed, depth, BIAS),
            kernel_regularizer=keras.regularizers.get(setup.regularizer),
            name=f"conv_{depth}",
        )
        x = hidden_block(x, layer, setup, seed, depth, probes, Probe)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = output_head(x, setup, data, seed, setup.depth + 1, probes, Probe)
    return Network(inputs=inputs, outputs=outputs, probes=probes)
