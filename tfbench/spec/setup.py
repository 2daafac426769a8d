"""`Setup`: every knob of one training run, a frozen dataclass.

Construction checks structure only (types, sizes, names), so `tfbench list` never imports TensorFlow.
`tfbench.engine.validation.validate_setup` resolves the values through Keras before any training.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tfbench.errors import TfbenchError
from tfbench.spec import limits
from tfbench.spec.families import MODEL_FAMILIES

CELLS = ("simple_rnn", "lstm", "gru")


@dataclass(frozen=True)
class Setup:
    """Every knob of one training run. Variants of a suite are `dataclasses.replace(base, factor=v)`."""

    model: str | Callable = "mlp"
    depth: int = 10
    width: int = 64
    activation: Any = "relu"
    initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    regularizer: Any = None
    batch_norm: bool = False
    dropout: float = 0.0
    cell: str = "simple_rnn"
    optimizer: Any = "sgd"
    learning_rate: float = 0.01
    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    loss: str | None = None
    output_activation: Any = None
    data: Any = "digits"
    batch_size: int = 64
    steps: int = 600
    eval_every: int | None = None
    pretrain_steps: int = 0

    def __post_init__(self):
        _check_structure(self)

    @property
    def effective_eval_every(self) -> int:
        """Updates between validations: `eval_every`, or steps // 10 rounded to a divisor of steps."""
        wanted = self.eval_every or max(1, self.steps // 10)
        return nearest_divisor(self.steps, wanted)


def nearest_divisor(n: int, wanted: int) -> int:
    """The divisor of n closest to `wanted` (ties go to the smaller), so chunks tile the run exactly."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]  # each pairs with n // d
    return min({*small, *(n // d for d in small)}, key=lambda d: (abs(d - wanted), d))


SETUP_FIELDS = tuple(f.name for f in dataclasses.fields(Setup))


# The largest value of each count a user sets (tfbench/spec/limits.py says why).
MAXIMA = {"depth": limits.MAX_DEPTH, "width": limits.MAX_WIDTH, "batch_size": limits.MAX_BATCH_SIZE,
          "steps": limits.MAX_STEPS, "eval_every": limits.MAX_STEPS}  # fmt: skip


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TfbenchError(f"Setup.{name}={value!r} is invalid: expected a positive integer")
    limits.check_count(f"Setup.{name}=", value, MAXIMA[name])


def _optional_positive(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise TfbenchError(f"Setup.{name}={value!r} is invalid: expected None or a positive number")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise TfbenchError(f"Setup.{name}={value!r} is invalid: expected a finite positive number")


def _check_structure(setup: Setup) -> None:
    """Cheap checks that need no Keras: sizes, names of families, cells and built-in data."""
    if not callable(setup.model) and not (isinstance(setup.model, str) and setup.model in MODEL_FAMILIES):
        raise TfbenchError(
            f"Setup.model={setup.model!r} is unknown: expected one of {', '.join(MODEL_FAMILIES)} "
            "or a callable(setup) -> keras.Model"
        )
    for name in ("depth", "width", "batch_size", "steps"):
        _positive_int(name, getattr(setup, name))
    if setup.eval_every is not None:
        _positive_int("eval_every", setup.eval_every)
    for name in ("learning_rate", "clipnorm", "clipvalue", "global_clipnorm"):
        _optional_positive(name, getattr(setup, name))
    if setup.learning_rate is None:
        raise TfbenchError("Setup.learning_rate=None is invalid: expected a positive number")
    if (
        isinstance(setup.dropout, bool)
        or not isinstance(setup.dropout, (int, float))
        or not (0.0 <= setup.dropout < 1.0)
    ):
        raise TfbenchError(f"Setup.dropout={setup.dropout!r} is invalid: expected a number in [0, 1)")
    if not isinstance(setup.batch_norm, bool):
        raise TfbenchError(f"Setup.batch_norm={setup.batch_norm!r} is invalid: expected True or False")
    if setup.cell not in CELLS:
        raise TfbenchError(f"Setup.cell={setup.cell!r} is unknown: expected one of {', '.join(CELLS)}")
    if setup.loss is not None and not isinstance(setup.loss, str) and not callable(setup.loss):
        raise TfbenchError(f"Setup.loss={setup.loss!r} is invalid: expected None, a Keras loss name or a callable")
    if setup.output_activation is not None and not isinstance(setup.output_activation, str):
        raise TfbenchError(
            f"Setup.output_activation={setup.output_activation!r} is invalid: expected None (the task's default) "
            "or a keras.activations name such as 'sigmoid'"
        )
    if setup.output_activation is not None and callable(setup.model):
        raise TfbenchError(
            f"Setup.output_activation={setup.output_activation!r} cannot change a user's model: expected None "
            "with a callable Setup.model (set the activation in the model itself)"
        )
    _check_pretraining(setup)


def _check_pretraining(setup: Setup) -> None:
    steps = setup.pretrain_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise TfbenchError(f"Setup.pretrain_steps={steps!r} is invalid: expected a non-negative integer (0 = none)")
    limits.check_count("Setup.pretrain_steps=", steps, limits.MAX_STEPS, minimum=0)
    pretrainable = not callable(setup.model) and MODEL_FAMILIES[setup.model].pretrainable
    if steps and (not pretrainable or setup.batch_norm or setup.activation == "prelu"):
        raise TfbenchError(
            f"Setup.pretrain_steps={steps} needs model='mlp' without batch_norm and prelu (got model={setup.model!r}, "
            f"batch_norm={setup.batch_norm}, activation={setup.activation!r}): expected pretrain_steps=0 for these"
        )
