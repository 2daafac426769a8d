"""`Setup` (every knob of one training run) and `Suite` (matched variants that differ in one factor).

Construction checks structure only (types, sizes, names), so `tfbench list` never imports TensorFlow.
`tfbench.engine.validation.validate_setup` resolves the values through Keras before any training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tfbench.compare.tolerance import parse_mapping
from tfbench.errors import SuiteError, TfbenchError

MODEL_FAMILIES = ("mlp", "cnn", "rnn", "resnet")
CELLS = ("simple_rnn", "lstm", "gru")
BUILTIN_DATA = ("digits", "spirals", "teacher", "adding")


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
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return min(divisors, key=lambda d: (abs(d - wanted), d))


SETUP_FIELDS = tuple(f.name for f in dataclasses.fields(Setup))


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TfbenchError(f"Setup.{name}={value!r} is invalid: expected a positive integer")


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
    if not callable(setup.model) and setup.model not in MODEL_FAMILIES:
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
    if steps and (setup.model != "mlp" or setup.batch_norm or setup.activation == "prelu"):
        raise TfbenchError(
            f"Setup.pretrain_steps={steps} needs model='mlp' without batch_norm and prelu (got model={setup.model!r}, "
            f"batch_norm={setup.batch_norm}, activation={setup.activation!r}): expected pretrain_steps=0 for these"
        )


# ---------------------------------------------------------------------------------------------
# Canonical form and hash: stable across processes, so resume and compare can trust it.


def canonical(value: Any) -> Any:
    """A JSON-able, order-independent description of a Setup value (callables by qualified name)."""
    if isinstance(value, Setup):
        return {f: canonical(getattr(value, f)) for f in SETUP_FIELDS}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if hasattr(value, "get_config"):  # a Keras initializer / regularizer / optimizer instance
        return {"class_name": type(value).__name__, "config": canonical(value.get_config())}
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def setup_hash(setup: Setup, seed: int) -> str:
    """sha256 over the effective Setup and the seed; 16 hex digits are plenty to tell runs apart."""
    text = json.dumps({"setup": canonical(setup), "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def level_label(value: Any) -> str:
    """A short readable label for a level value that is not a string."""
    if isinstance(value, str):
        return value
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        if "class_name" in value and isinstance(value.get("config") or {}, Mapping):
            config = value.get("config") or {}
            args = ",".join(f"{k}={level_label(v)}" for k, v in config.items())
            return f"{value['class_name']}({args})"
        return ",".join(f"{k}={level_label(v)}" for k, v in value.items())
    if hasattr(value, "get_config"):
        return level_label({"class_name": type(value).__name__, "config": value.get_config()})
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return repr(value)


def level_json(value: Any) -> str:
    """The level's value as runs.csv stores it: the string itself, else JSON of its canonical form."""
    return value if isinstance(value, str) else json.dumps(canonical(value), sort_keys=True)


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One level of a suite's factor, applied to the suite's base Setup."""

    label: str
    level: Any
    setup: Setup


@dataclass(frozen=True)
class Suite:
    """Matched variants of `base` that differ only in `factor` (a Setup field or a tuple of fields)."""

    name: str
    factor: str | tuple[str, ...]
    question: str
    base: Setup
    levels: list | dict
    reference: str | None = None
    tolerances: Mapping[str, float | str] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SuiteError(f"Suite name {self.name!r} is invalid: expected an identifier like 'activation'")
        if not isinstance(self.base, Setup):
            raise SuiteError(f"Suite {self.name!r}: base={self.base!r} is invalid: expected a tfbench.Setup")
        factor_ok = isinstance(self.factor, str) or (
            isinstance(self.factor, (tuple, list)) and self.factor and all(isinstance(f, str) for f in self.factor)
        )
        if not factor_ok:
            raise SuiteError(
                f"Suite {self.name!r}: factor={self.factor!r} is invalid: expected a Setup field or a tuple of fields"
            )
        for name in self.factor_fields:
            if name not in SETUP_FIELDS:
                raise SuiteError(
                    f"Suite {self.name!r}: factor {name!r} is not a Setup field: expected one of "
                    f"{', '.join(SETUP_FIELDS)}"
                )
        if not isinstance(self.levels, (list, tuple, dict)) or len(self.levels) == 0:
            raise SuiteError(
                f"Suite {self.name!r}: levels={self.levels!r} is invalid: expected a non-empty list or dict"
            )
        try:
            parse_mapping(self.tolerances, f"Suite {self.name!r} tolerances")  # compare's gates, e.g. {"metric": 0.05}
        except TfbenchError as error:
            raise SuiteError(str(error)) from None
        variants = self.variants()  # builds every Setup: structural errors surface here
        labels = [v.label for v in variants]
        if self.reference is not None and self.reference not in labels:
            raise SuiteError(
                f"Suite {self.name!r}: reference {self.reference!r} is not a level: expected one of {', '.join(labels)}"
            )

    @property
    def factor_fields(self) -> tuple[str, ...]:
        return (self.factor,) if isinstance(self.factor, str) else tuple(self.factor)

    @property
    def factor_name(self) -> str:
        return "+".join(self.factor_fields)

    @property
    def reference_label(self) -> str:
        return self.reference or self.variants()[0].label

    def _changes(self, value: Any) -> dict:
        fields = self.factor_fields
        if len(fields) == 1:
            return {fields[0]: value}
        if not isinstance(value, Mapping) or set(value) != set(fields):
            problems = ["it is not a dict"]
            if isinstance(value, Mapping):
                missing = ", ".join(f for f in fields if f not in value)
                extra = ", ".join(repr(k) for k in value if k not in fields)
                problems = ([f"missing {missing}"] if missing else []) + ([f"extra {extra}"] if extra else [])
            # variants() prefixes the suite and the level's label
            raise SuiteError(
                f"{value!r} is invalid for factor {self.factor_name!r} ({'; '.join(problems)}): "
                f"expected a dict with exactly the keys {', '.join(fields)}"
            )
        return dict(value)

    def variants(self) -> list[Variant]:
        items = self.levels.items() if isinstance(self.levels, dict) else [(v, v) for v in self.levels]
        variants, seen = [], set()
        for label, value in items:
            label = level_label(label)  # labels are text: records and resume match them as strings
            if label in seen:
                raise SuiteError(
                    f"Suite {self.name!r}: duplicate level label {label!r}: expected a distinct label per level "
                    "(levels as a dict label -> value give each its own)"
                )
            seen.add(label)
            try:
                setup = dataclasses.replace(self.base, **self._changes(value))
            except TfbenchError as error:
                raise SuiteError(f"Suite {self.name!r}, level {label!r}: {error}") from None
            variants.append(Variant(label=label, level=value, setup=setup))
        return variants
