"""TensorBoard events of the monitored quantities, written in-graph on recorded steps only.

`MonitoredModel` calls `write` inside the branch that runs on recorded steps, so the histograms cost
nothing on other steps, and without a writer no summary op is traced at all. Tags are grouped by
quantity ("gradients/dense_1", "delta/dense_1", "kernel_grad_norm/dense_1"), so TensorBoard puts the
layers of one quantity side by side; `tensorboard --logdir DIR` shows them next to a user's own runs.

The events are written with TensorFlow's own `tf.summary.write` in the format of TensorBoard's
histogram and scalar plugins (`tf.summary.histogram` and `tf.summary.scalar` live in the tensorboard
package, which training then does not need).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from tfbench.records.names import MAX_NAME, plain_name
from tfbench.records.schema import LAYER_MEASURES

# TensorBoard's own default: 30 equal-width buckets between the smallest and largest value.
HISTOGRAM_BUCKETS = 30


def plugin_metadata(plugin: str, data_class: int) -> bytes:
    """SummaryMetadata naming the TensorBoard plugin that displays a tag (content: version 0, empty)
    and the kind of data it holds, as TensorBoard's own summary ops write it."""
    data = summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin)
    return summary_pb2.SummaryMetadata(plugin_data=data, data_class=data_class).SerializeToString()


HISTOGRAM_METADATA = plugin_metadata("histograms", summary_pb2.DATA_CLASS_TENSOR)
SCALAR_METADATA = plugin_metadata("scalars", summary_pb2.DATA_CLASS_SCALAR)


def histogram(tag: str, values, buckets: int = HISTOGRAM_BUCKETS) -> None:
    """A histogram event as TensorBoard's histogram plugin stores it: [buckets, 3] float64 rows of
    (left edge, right edge, count) over the finite values."""
    values = tf.reshape(tf.cast(values, tf.float64), [-1])
    values = tf.boolean_mask(values, tf.math.is_finite(values))
    some = tf.size(values) > 0
    low = tf.where(some, tf.reduce_min(values), 0.0)
    high = tf.where(some, tf.reduce_max(values), 0.0)
    high = tf.where(high > low, high, low + 1.0)  # constant values: one unit-wide range
    counts = tf.cast(tf.histogram_fixed_width(values, tf.stack([low, high]), nbins=buckets), tf.float64)
    edges = tf.linspace(low, high, buckets + 1)
    tf.summary.write(tag, tf.stack([edges[:-1], edges[1:], counts], axis=1), metadata=HISTOGRAM_METADATA)


def scalar(tag: str, value) -> None:
    tf.summary.write(tag, tf.cast(value, tf.float32), metadata=SCALAR_METADATA)


class TensorBoardWriter:
    """One TensorBoard run directory; `write` is called while tracing the train step."""

    def __init__(self, logdir: str | Path, layer_slots):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(self.logdir))
        self.layer_slots = list(layer_slots)

    def write(self, step, grads, deltas, variables, table, scalars: dict) -> None:
        """Summary ops for one recorded step: histograms of the gradient the optimizer receives, of
        δ = d loss / d z and of the weights after the update; every per-layer column; step scalars."""
        deltas = iter(deltas)  # one per layer with a pre-activation, in order
        with self.writer.as_default(step=tf.cast(step, tf.int64)):
            for row, slot in enumerate(self.layer_slots):
                delta = next(deltas) if slot.measured else None
                for number, index in enumerate(slot.kernel_indices):
                    suffix = f"_{number}" if number else ""  # recurrent and separable layers have two
                    histogram(f"gradients/{slot.name}{suffix}", grads[index])
                    histogram(f"weights/{slot.name}{suffix}", variables[index])
                if delta is not None:
                    histogram(f"delta/{slot.name}", delta)
                for column, name in enumerate(LAYER_MEASURES):
                    scalar(f"{name}/{slot.name}", table[row, column])
            for name, value in scalars.items():
                scalar(name, value)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def run_directory(root: str | Path, suite: str, variant: str, seed: int) -> Path:
    """ROOT/<suite>/<variant>/seed_<n>: one TensorBoard run per (suite, variant, seed). The variant's
    label becomes a plain name: other characters become '_', a leading dot too (no '.', '..' or hidden
    folder), and a long label is cut and made unique by a hash of the whole."""
    safe = "".join(c if c.isalnum() or c in "-_.=+" else "_" for c in str(variant))
    safe = "_" + safe[1:] if safe.startswith(".") or not safe else safe
    if len(safe) > MAX_NAME:
        safe = f"{safe[: MAX_NAME - 17]}-{hashlib.sha256(str(variant).encode()).hexdigest()[:16]}"
    return Path(root) / plain_name(suite, "suite name") / plain_name(safe, "TensorBoard run name") / f"seed_{seed}"
