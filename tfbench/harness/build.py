"""Turn a Setup into Keras objects, translating every Keras rejection into a one-line TfbenchError.

`check` calls `build_model` for every variant, so a bad activation, initializer, regularizer,
optimizer, loss or model family is caught before any training starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf

from tfbench.data.tasks import DEFAULT_LOSS
from tfbench.errors import TfbenchError
from tfbench.harness.model import MonitoredModel
from tfbench.harness.plan import RecordPlan, steps_per_execution
from tfbench.models.build import build_network
from tfbench.models.layers import LAYER_ACTIVATIONS


def _resolve(field: str, value: Any, getter, accepted: str):
    try:
        return getter(value)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise TfbenchError(
            f"Setup.{field}={value!r} is not accepted by Keras ({_first_line(error)}): expected {accepted}"
        ) from None


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0].rstrip(".") if text else type(error).__name__


def resolve_fields(setup) -> keras.optimizers.Optimizer:
    """Resolve each Keras-valued field on its own so the error names the field at fault; returns the
    resolved optimizer, which a build compiles (a second one would cost its variables' creation)."""
    if setup.activation not in LAYER_ACTIVATIONS:
        _resolve(
            "activation",
            setup.activation,
            keras.activations.get,
            "a keras.activations name (relu, tanh, sigmoid, elu, selu, ...), leaky_relu or prelu",
        )
    _resolve(
        "initializer", setup.initializer, keras.initializers.get, "a keras.initializers name, config dict or instance"
    )
    _resolve(
        "bias_initializer",
        setup.bias_initializer,
        keras.initializers.get,
        "a keras.initializers name, config dict or instance",
    )
    _resolve(
        "regularizer",
        setup.regularizer,
        keras.regularizers.get,
        "None, 'l1', 'l2', a keras.regularizers config dict or instance",
    )
    if setup.loss is not None:
        _resolve("loss", setup.loss, keras.losses.get, "a keras.losses name such as 'mse' or a callable")
    if setup.output_activation is not None:
        _resolve(
            "output_activation",
            setup.output_activation,
            keras.activations.get,
            "None or a keras.activations name (softmax, sigmoid, linear, ...)",
        )
    return make_optimizer(setup)


def make_optimizer(setup) -> keras.optimizers.Optimizer:
    """The optimizer with `Setup.learning_rate` and the Setup's clipping; the only learning rate."""
    spec = setup.optimizer
    if isinstance(spec, str):
        class_name, config = spec, {}
    elif (
        isinstance(spec, Mapping)
        and isinstance(spec.get("class_name"), str)
        and isinstance(spec.get("config") or {}, Mapping)
    ):
        class_name, config = spec["class_name"], dict(spec.get("config") or {})
    else:
        raise TfbenchError(
            f"Setup.optimizer={spec!r} is invalid: expected a keras.optimizers name or a dict "
            "{'class_name': ..., 'config': {...}}"
        )
    if "learning_rate" in config:
        raise TfbenchError(
            f"Setup.optimizer={spec!r} carries a learning_rate: set Setup.learning_rate instead "
            "(the only learning rate)"
        )
    config["learning_rate"] = setup.learning_rate
    for name in ("clipnorm", "clipvalue", "global_clipnorm"):
        if getattr(setup, name) is not None:
            config[name] = getattr(setup, name)
    try:
        return keras.optimizers.get({"class_name": class_name, "config": config})
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise TfbenchError(
            f"Setup.optimizer={spec!r} is not accepted by Keras ({_first_line(error)}): expected a keras.optimizers "
            "name (sgd, adam, rmsprop, adagrad, adadelta, ...) or config dict"
        ) from None


def build_model(setup, data, seed: int, plan: RecordPlan | None = None) -> MonitoredModel:
    """Build and compile the Setup's MonitoredModel on `data`; raises TfbenchError on bad values."""
    optimizer = resolve_fields(setup)
    plan = plan or RecordPlan.for_setup(setup, "standard")
    try:
        network = build_network(setup, data, seed)
        model = MonitoredModel(network, plan, data.task, name="monitored")
        model.compile(
            optimizer=optimizer,
            loss=compiled_loss(setup.loss or DEFAULT_LOSS[data.task], data),
            steps_per_execution=steps_per_execution(setup.steps, setup.effective_eval_every),
        )
        # Create the optimizer's slots now: created while fit traces its step, each variable is
        # lifted out of the graph one by one, which costs about a second for Adam on a 10-layer net.
        model.optimizer.build(model.trainable_variables)
    except TfbenchError:
        raise
    except (ValueError, TypeError) as error:
        raise TfbenchError(f"cannot build model={setup.model!r} on data {data.name!r}: {_first_line(error)}") from None
    return model


def compiled_loss(loss, data):
    """The loss to compile. Class labels are integers; a loss named without "sparse_" (mse,
    binary_crossentropy, categorical_crossentropy, ...) expects one target per output unit, so on
    classification data it receives the labels one-hot. Callables receive the labels as they are."""
    if data.task != "classification" or not isinstance(loss, str) or loss.startswith("sparse_"):
        return loss
    base = keras.losses.get(loss)
    classes = data.num_classes

    def on_one_hot_labels(y_true, y_pred):
        labels = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), classes, dtype=y_pred.dtype)
        return base(labels, y_pred)

    on_one_hot_labels.__name__ = f"{loss}_on_one_hot_labels"
    return on_one_hot_labels
