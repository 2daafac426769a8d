"""`build_network`: the Setup's model family built for a data set, or a user's own model probed."""

from __future__ import annotations

import importlib
from typing import Any

import keras

from tfbench.errors import TfbenchError
from tfbench.models.network import Network, Probe, with_every_weight
from tfbench.spec.families import family_of


def build_network(setup, data, seed: int) -> Network:
    """Build the Setup's model family for `data`, every initializer seeded per depth (docs/design.md §4)."""
    family = family_of(setup)
    if family is None:
        return with_every_weight(from_user_model(setup.model(setup)))
    return with_every_weight(importlib.import_module(family.builder).build(setup, data, seed))


def from_user_model(model: Any) -> Network:
    """Probes for a user's functional or Sequential model: every layer that owns a kernel (the
    others that own trainable weights are added by `with_every_weight`).

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
