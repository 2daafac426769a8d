"""`Network`: a functional Keras graph plus the tensors the monitor reads, and the family dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from tfbench.errors import TfbenchError


@dataclass
class Probe:
    """One layer with a kernel. `z` is its linear output (before BatchNormalization and activation);
    `a` its activated output. `activation` names the activation when saturation is meaningful."""

    layer: keras.layers.Layer
    depth: int
    z: Any
    a: Any
    activation: str | None


@dataclass
class Network:
    inputs: Any
    outputs: Any
    probes: list[Probe]


def build_network(setup, data, seed: int) -> Network:
    """Build the Setup's model family for `data`, every initializer seeded per depth (DESIGN §4)."""
    from tfbench.models import cnn, mlp, resnet, rnn

    builders = {"mlp": mlp.build, "resnet": resnet.build, "cnn": cnn.build, "rnn": rnn.build}
    if callable(setup.model):
        return from_user_model(setup.model(setup))
    return builders[setup.model](setup, data, seed)


def from_user_model(model: Any) -> Network:
    """Probes for a user's functional or Sequential model: every layer that owns a kernel.

    Without knowledge of the layer internals, z and a are both the layer's output.
    """
    if not isinstance(model, keras.Model):
        raise TfbenchError(f"Setup.model returned {type(model).__name__}: expected a keras.Model")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise TfbenchError(
            f"Setup.model returned {type(model).__name__} without defined inputs: expected a functional "
            "or Sequential model built on keras.Input"
        )
    probes = []
    for layer in model.layers:
        if getattr(layer, "kernel", None) is None:
            continue
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        probes.append(Probe(layer=layer, depth=len(probes) + 1, z=layer.output, a=layer.output, activation=activation))
    if not probes:
        raise TfbenchError("Setup.model returned a model without any layer that has a kernel: nothing to monitor")
    probes[-1].activation = None
    return Network(inputs=inputs, outputs=outputs[0] if len(outputs) == 1 else outputs, probes=probes)
