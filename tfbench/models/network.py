"""`Network`: a functional Keras graph plus the tensors the monitor reads (one `Probe` per kernel layer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras


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
