"""`Network`: a functional Keras graph plus the tensors the monitor reads (one `Probe` per layer that
owns trainable weights)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from tfbench.models.probed import own_weights


@dataclass
class Probe:
    """One layer that owns trainable weights. For a layer with a kernel, `z` is its linear output
    (before BatchNormalization and activation) and `a` its activated output; both are None for a
    layer without a pre-activation (BatchNormalization, PReLU). `activation` names the activation when
    saturation is meaningful."""

    layer: keras.layers.Layer
    depth: int
    z: Any
    a: Any
    activation: str | None

    @property
    def measured(self) -> bool:
        return self.z is not None


def with_every_weight(network: Network) -> Network:
    """`network` with a probe for every layer that owns trainable weights, not only the kernel layers
    the model builders probe, all numbered in forward order (docs/design.md §5)."""
    probed = {id(p.layer): p for p in network.probes}
    probes = []
    for layer in keras.Model(network.inputs, network.outputs).layers:  # functional: in forward order
        probe = probed.get(id(layer))
        if probe is None and own_weights(layer):
            probe = Probe(layer=layer, depth=0, z=None, a=None, activation=None)
        if probe is not None:
            probe.depth = len(probes) + 1
            probes.append(probe)
    return Network(inputs=network.inputs, outputs=network.outputs, probes=probes)


@dataclass
class Network:
    inputs: Any
    outputs: Any
    probes: list[Probe]
