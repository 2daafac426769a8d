"""Building blocks shared by the model families: seeded initializers, activation layers, output head.

Matched runs (docs/design.md §4) need a layer's initial weights to depend only on the run seed, the layer's
depth, its initializer and its shape. So every initializer gets an explicit seed derived from
(seed, depth, role) and never draws from Keras' global RNG, whose order Dropout or PReLU would shift.
"""

from __future__ import annotations

from typing import Any

import keras

# Roles keep kernel, bias, recurrent and dropout streams of one layer independent of each other.
KERNEL, BIAS, RECURRENT, DROPOUT, PRETRAIN = 0, 1, 2, 3, 4

# Activations whose output has two finite bounds; saturation is measured only for these.
BOUNDED_ACTIVATIONS = {
    "sigmoid": (0.0, 1.0),
    "hard_sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "softsign": (-1.0, 1.0),
    "hard_tanh": (-1.0, 1.0),
}

# Activations that carry state or parameters and are therefore built as layers, not functions.
LAYER_ACTIVATIONS = ("leaky_relu", "prelu")


def derived_seed(seed: int, depth: int, role: int) -> int:
    """A seed for one (layer depth, role) pair: distinct per pair, stable across processes."""
    return (int(seed) * 1_000_003 + depth * 1_009 + role * 7) % (2**31 - 1)


def seeded_initializer(spec: Any, seed: int, depth: int, role: int):
    """`keras.initializers.get(spec)` with its seed fixed to the (seed, depth, role) stream."""
    initializer = keras.initializers.get(spec)
    config = initializer.get_config()
    if "seed" not in config:  # deterministic initializers (zeros, constant, identity) have none
        return initializer
    config["seed"] = derived_seed(seed, depth, role)
    return type(initializer).from_config(config)


def activation_name(spec: Any) -> str | None:
    """The activation's Keras name, used to look up its bounds; None when it has no name."""
    if isinstance(spec, str):
        return spec
    return getattr(spec, "__name__", None)


def activation_layer(spec: Any, name: str) -> keras.layers.Layer:
    """The activation as a layer, so the harness can read its output (the activated units)."""
    if spec == "leaky_relu":
        return keras.layers.LeakyReLU(name=name)
    if spec == "prelu":
        return keras.layers.PReLU(name=name)
    return keras.layers.Activation(spec, name=name)


def hidden_block(x, layer: keras.layers.Layer, setup, seed: int, depth: int, probes: list, probe_cls):
    """layer -> [BatchNormalization] -> activation -> [Dropout]; appends this layer's Probe.

    BatchNormalization sits between the linear output and the activation (Ioffe & Szegedy), and the
    layer keeps its bias, so batch_norm variants differ from the plain net in that one layer only.
    """
    z = layer(x)
    h = keras.layers.BatchNormalization(name=f"batch_norm_{depth}")(z) if setup.batch_norm else z
    a = activation_layer(setup.activation, name=f"activation_{depth}")(h)
    probes.append(probe_cls(layer=layer, depth=depth, z=z, a=a, activation=activation_name(setup.activation)))
    if setup.dropout:
        return keras.layers.Dropout(setup.dropout, seed=derived_seed(seed, depth, DROPOUT), name=f"dropout_{depth}")(a)
    return a


def dense(setup, units: int, seed: int, depth: int, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(
        units,
        kernel_initializer=seeded_initializer(setup.initializer, seed, depth, KERNEL),
        bias_initializer=seeded_initializer(setup.bias_initializer, seed, depth, BIAS),
        kernel_regularizer=keras.regularizers.get(setup.regularizer),
        name=name,
    )


def output_head(x, setup, data, seed: int, depth: int, probes: list, probe_cls):
    """The output layer: `Setup.output_activation`, by default softmax over classes for
    classification and linear for regression."""
    layer = dense(setup, data.output_dim, seed, depth, name="output")
    z = layer(x)
    default = "softmax" if data.task == "classification" else "linear"
    activation = setup.output_activation or default
    a = keras.layers.Activation(activation, name="output_activation")(z)
    probes.append(probe_cls(layer=layer, depth=depth, z=z, a=a, activation=None))
    return a
