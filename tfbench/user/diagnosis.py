"""`python -m tfbench diagnose MODEL.keras --data FILE.npz`: the gradient flow of a saved model at its
current weights, on the user's data, without training it.

Batch by batch, one forward pass and one tape give the gradients and δ = d loss / d z of every
layer with a kernel (the same LayerStats the harness records, docs/design.md §5); no optimizer step runs,
and BatchNormalization's moving statistics are put back afterwards, so the model is unchanged. The
per-layer columns are averaged over the batches and judged with analysis/layer_verdicts.py: each layer
against the last hidden layer, the headline being the first hidden layer's row, so they cannot disagree.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from tfbench.analysis import layer_verdicts
from tfbench.analysis.causes import Cause, likely_causes
from tfbench.data.dataset import Dataset
from tfbench.data.loading import load_data
from tfbench.data.tasks import DEFAULT_LOSS
from tfbench.errors import TfbenchError
from tfbench.harness import monitor
from tfbench.harness.layer_stats import LayerStats
from tfbench.harness.model import locate_layers, present
from tfbench.models.probed import ProbedForward, probe_layers
from tfbench.records.schema import LAYER_MEASURES
from tfbench.spec.discovery import suite_folders
from tfbench.spec.limits import MAX_BATCH_SIZE, MAX_BATCHES, check_count

PRINTED_COLUMNS = (
    "depth", "layer", "activation", "kernel_grad_norm", "act_grad_norm", "kernel_decades", "delta_decades",
    "dead_fraction", "saturated_fraction", "verdict",
)  # fmt: skip


@dataclass
class Diagnosis:
    model_name: str
    data_name: str
    batches: int
    batch_size: int
    loss: float
    layers: pd.DataFrame  # one row per layer: depth, layer, activation, the §5 columns, decades, verdict
    verdict: str
    reason: str
    note: str  # layers beyond ±2 decades the headline's ratio does not show; "" when none
    causes: list[Cause]
    skipped: str  # the note naming layers not measured


def load_user_model(path) -> keras.Model:
    """keras.saving.load_model, with every failure (missing, corrupt, other Keras format) one line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise TfbenchError(f"model file {path!r} does not exist: expected a model saved with model.save('x.keras')")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.saving.load_model(path, compile=True)
    except Exception as error:  # Keras raises many types here; each is the user's file at fault
        reason = " ".join(f"{type(error).__name__}: {error}".split())[:240]
        raise TfbenchError(
            f"model file {path!r} cannot be loaded by Keras {keras.__version__} ({reason}): expected a .keras or .h5 "
            "model saved by a compatible Keras version"
        ) from None
    if not isinstance(model, keras.Model):
        raise TfbenchError(f"model file {path!r} holds a {type(model).__name__}: expected a keras.Model")
    return model


def loss_function(model, task: str):
    spec = loss_spec(model, task)
    if isinstance(spec, (list, tuple, dict)):
        raise TfbenchError(f"model {model.name!r} has several losses ({spec!r}): expected a single-output model")
    try:
        return keras.losses.get(spec) if isinstance(spec, str) else spec
    except (ValueError, TypeError) as error:
        raise TfbenchError(f"model {model.name!r} has loss {spec!r} that Keras cannot resolve ({error})") from None


def loss_spec(model, task: str):
    return getattr(model, "loss", None) or DEFAULT_LOSS[task]


def loss_name(spec) -> str:
    """A loss's name: the string, a Loss object's name, or a function's name."""
    return str(spec if isinstance(spec, str) else getattr(spec, "name", None) or getattr(spec, "__name__", spec))


def loss_labels(model, probing, dataset: Dataset, rows: int) -> np.ndarray:
    """The first `rows` training labels as the model's loss takes them. Class indices stay indices for
    a loss named sparse_*, become [n, 1] for a single output unit (binary cross-entropy), and one-hot
    rows for any other loss (categorical_crossentropy, mse, ...), as build.compiled_loss gives them."""
    labels = dataset.y_train[:rows]
    shape = probing.output_shape
    if dataset.task != "classification" or shape is None or len(shape) < 2:
        return labels
    units = shape[-1]
    if units == 1:
        return labels[:, None].astype(np.float32)
    if labels.max() >= units:
        raise TfbenchError(
            f"the data has class label {int(labels.max())} but model {model.name!r} outputs {units} classes: "
            f"expected labels 0..{units - 1}"
        )
    sparse = loss_name(loss_spec(model, dataset.task)).startswith("sparse_")
    return labels if sparse else keras.utils.to_categorical(labels, units)


def diagnose(model, data, batches: int = 8, batch_size: int = 64) -> Diagnosis:
    """Step-0 statistics of `model` (a keras.Model or a path) on `data` (a path to .npz, or any data spec):
    the first `batches` batches of the training split, in order (the split every tfbench command uses:
    the file's x_train, less a fixed 20 % held out when the file has no x_test)."""
    check_count("batches=", batches, MAX_BATCHES)
    check_count("batch_size=", batch_size, MAX_BATCH_SIZE)
    name = model.name if isinstance(model, keras.Model) else os.path.basename(os.fspath(model))
    model = model if isinstance(model, keras.Model) else load_user_model(model)
    dataset = data if isinstance(data, Dataset) else load_data(data)
    count = min(batches, math.ceil(len(dataset.x_train) / batch_size))
    probing = probe_layers(model, dataset.x_train[:2], None)
    labels = loss_labels(model, probing, dataset, count * batch_size)
    tables, losses = _measure(model, probing, dataset.x_train, labels, dataset.task, count, batch_size)
    slots = locate_layers(probing.probes, model.trainable_variables)
    layers = _layer_table(probing.probes, slots, np.mean(tables, axis=0))
    start_verdict, reason = layer_verdicts.headline(layers)
    return Diagnosis(
        model_name=name, data_name=dataset.name, batches=count, batch_size=batch_size,
        loss=float(np.mean(losses)), layers=layers, verdict=start_verdict, reason=reason,
        note=layer_verdicts.note(layers, start_verdict),
        causes=likely_causes(layers, start_verdict, available_suites()), skipped=probing.note(),
    )  # fmt: skip


def _measure(model, probing, x_train, labels, task: str, count: int, batch_size: int):
    """[count, layers, columns] statistics, one table per batch; the model's variables are restored."""
    probes = probing.probes
    variables = model.trainable_variables
    stats = LayerStats(locate_layers(probes, variables), variables, [p.shape for p in probes if p.measured])
    forward = ProbedForward(model, probes)
    loss_fn = loss_function(model, task)
    n = sum(p.measured for p in probes)

    @tf.function(reduce_retracing=True, autograph=False)
    def one_batch(x, y):
        with tf.GradientTape() as tape:
            outputs = forward(x, training=True)
            y_pred, zs, activations = outputs[0], outputs[1 : n + 1], outputs[n + 1 :]
            losses = model.losses
            loss = tf.reduce_mean(loss_fn(y, y_pred)) + (tf.add_n(losses) if losses else 0.0)
        gradients = tape.gradient(loss, [*variables, *zs])
        grads = present(gradients[: len(variables)], variables)
        before = stats.kernel_stacks()  # no update: the applied-update column is meaningless here
        deltas = gradients[len(variables) :]
        return stats.compute(before, grads, monitor.squared_norms(grads), deltas, activations), loss

    saved = [v.numpy() for v in model.non_trainable_variables]  # BatchNormalization's moving statistics
    tables, losses = [], []
    try:
        for start in range(0, count * batch_size, batch_size):
            x = tf.constant(x_train[start : start + batch_size])
            y = tf.constant(labels[start : start + batch_size])
            try:
                table, loss = one_batch(x, y)
            except Exception as error:  # labels or shapes the loss rejects: the user's model or data
                raise TfbenchError(
                    f"model {model.name!r} cannot compute its loss {loss_name(loss_spec(model, task))!r} on the data "
                    f"({last_line(error)}): expected data the model was trained on"
                ) from None
            tables.append(table.numpy())
            losses.append(float(loss))
    finally:
        for variable, value in zip(model.non_trainable_variables, saved, strict=True):
            variable.assign(value)
    return np.stack(tables), losses


def last_line(error: Exception) -> str:
    """The last line of an error: TensorFlow puts the cause after the traced call stack."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:240]


def _layer_table(probes, slots, values: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame(values, columns=list(LAYER_MEASURES)).drop(columns=["update_ratio"])
    table.insert(0, "activation", [p.activation or "" for p in probes])
    table.insert(0, "layer", [p.layer.name for p in probes])
    table.insert(0, "depth", [p.depth for p in probes])
    table["weight"] = [slot.weight for slot in slots]
    return layer_verdicts.judge_layers(table)


def format_table(diagnosis: Diagnosis) -> str:
    """The per-layer table as printed on the terminal."""
    shown = diagnosis.layers[list(PRINTED_COLUMNS)].rename(columns={"verdict": "vs_last_hidden"})
    shown = shown.assign(vs_last_hidden=shown["vs_last_hidden"].replace("", "–"))  # "": a layer without a kernel
    return shown.to_string(index=False, float_format=lambda v: f"{v:.3g}", na_rep="–")


def summary_lines(diagnosis: Diagnosis) -> list[str]:
    loss = "–" if math.isnan(diagnosis.loss) else f"{diagnosis.loss:.4g}"  # no "nan" on the terminal
    lines = [
        f"{diagnosis.model_name} on {diagnosis.data_name}: {diagnosis.batches} batches of {diagnosis.batch_size}, "
        f"mean loss {loss}",
        f"verdict: {diagnosis.verdict} ({diagnosis.reason})",
    ]
    if diagnosis.note:
        lines.append(diagnosis.note)
    elif len(beyond := layer_verdicts.beyond(diagnosis.layers)):
        lines.append("beyond ±2 decades of the last hidden layer: " + ", ".join(
            layer_verdicts.layer_evidence(row) for row in beyond.itertuples()))  # fmt: skip
    for cause in diagnosis.causes:
        lines.append(f"likely cause: {cause.text}; suites: {', '.join(cause.suites) or '-'}")
    if diagnosis.skipped:
        lines.append(diagnosis.skipped)
    return lines


def available_suites() -> set[str]:
    """Names of the suite files a user can run from here (suites/<name>.py)."""
    return {path.stem for folder in suite_folders() for path in folder.glob("*.py")}
