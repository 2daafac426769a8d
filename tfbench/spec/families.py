"""The registry of model families: the one place that says which names `Setup.model` accepts, which
module builds each, and what each supports. Plain data, no TensorFlow: `tfbench list` reads it.

Adding a family is one entry here and a module `tfbench/models/<name>.py` with
`build(setup, data, seed) -> Network` (see CONTRIBUTING.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFamily:
    builder: str  # module holding build(setup, data, seed) -> tfbench.models.network.Network
    pretrainable: bool = False  # plain Dense stack that layer-wise pretraining (models/pretrain.py) can walk
    recurrent: bool = False  # input gradients per time step are recorded (timesteps.parquet)


MODEL_FAMILIES = {
    "mlp": ModelFamily("tfbench.models.mlp", pretrainable=True),
    "cnn": ModelFamily("tfbench.models.cnn"),
    "rnn": ModelFamily("tfbench.models.rnn", recurrent=True),
    "resnet": ModelFamily("tfbench.models.resnet"),
}


def family_of(setup) -> ModelFamily | None:
    """The registry entry of the Setup's model; None for a user's callable model."""
    return None if callable(setup.model) else MODEL_FAMILIES[setup.model]
