"""The measured quantities of DESIGN §5, each a small pure TensorFlow function.

They run inside `MonitoredModel.train_step` (graph mode) and are tested one by one against closed
forms and brute-force tape computations. Every result is a float32 scalar.
"""

from __future__ import annotations

import tensorflow as tf

# Columns of one layer's row, in buffer order. `update_ratio` needs the post-update kernel.
LAYER_COLUMNS = (
    "kernel_grad_norm",
    "bias_grad_norm",
    "act_grad_norm",
    "kernel_norm",
    "update_ratio",
    "grad_max_abs",
    "nonfinite",
    "dead_fraction",
    "saturated_fraction",
)
STEP_COLUMNS = ("loss", "reg_loss", "metric", "global_grad_norm", "learning_rate")

# An activated output within this fraction of the activation's range from a bound counts as saturated.
SATURATION_MARGIN = 0.01

NAN = float("nan")


def l2_norm(tensor) -> tf.Tensor:
    """Euclidean norm of all entries; 0 for an empty tensor."""
    tensor = tf.cast(tensor, tf.float32)
    return tf.sqrt(tf.reduce_sum(tf.square(tensor)))


def global_norm(tensors) -> tf.Tensor:
    """L2 norm of all entries of all tensors together (what global_clipnorm clips)."""
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(t, tf.float32))) for t in tensors]))


def max_abs(tensor) -> tf.Tensor:
    return tf.reduce_max(tf.abs(tf.cast(tensor, tf.float32)))


def count_nonfinite(tensor) -> tf.Tensor:
    """Number of NaN or ±Inf entries."""
    return tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_finite(tensor)), tf.float32))


def update_ratio(new, old) -> tf.Tensor:
    """‖new − old‖ / ‖old‖: the relative size of the update actually applied."""
    return l2_norm(tf.cast(new, tf.float32) - tf.cast(old, tf.float32)) / l2_norm(old)


def dead_fraction(activated) -> tf.Tensor:
    """Fraction of units (last axis) whose output is exactly 0 for every example and position."""
    activated = tf.reshape(activated, [-1, tf.shape(activated)[-1]])
    dead = tf.reduce_all(tf.equal(activated, 0.0), axis=0)
    return tf.reduce_mean(tf.cast(dead, tf.float32))


def saturated_fraction(activated, low: float, high: float) -> tf.Tensor:
    """Fraction of activated outputs within SATURATION_MARGIN of the range [low, high] from a bound."""
    margin = SATURATION_MARGIN * (high - low)
    activated = tf.cast(activated, tf.float32)
    near = tf.logical_or(activated <= low + margin, activated >= high - margin)
    return tf.reduce_mean(tf.cast(near, tf.float32))


def batch_metric(y_true, y_pred, task: str) -> tf.Tensor:
    """Accuracy of the batch for classification (sparse labels), mean absolute error for regression."""
    if task == "classification":
        labels = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
        hits = tf.equal(tf.argmax(y_pred, axis=-1), labels)
        return tf.reduce_mean(tf.cast(hits, tf.float32))
    return tf.reduce_mean(tf.abs(tf.cast(y_true, tf.float32) - tf.cast(y_pred, tf.float32)))


# -- the same quantities for many layers at once ------------------------------------------------
# Tracing cost grows with the number of ops, so the harness computes each column for all layers in
# a handful of segment ops over the concatenated, flattened tensors instead of a few ops per layer.


def flatten_all(tensors) -> tf.Tensor:
    """All entries of all tensors as one float32 vector (in order)."""
    return tf.concat([tf.reshape(tf.cast(t, tf.float32), [-1]) for t in tensors], axis=0)


def segment_norms(flat, segment_ids, n: int) -> tf.Tensor:
    """L2 norm of each segment of `flat`: shape [n]."""
    return tf.sqrt(tf.math.unsorted_segment_sum(tf.square(flat), segment_ids, n))


def segment_max_abs(flat, segment_ids, n: int) -> tf.Tensor:
    return tf.math.unsorted_segment_max(tf.abs(flat), segment_ids, n)


def segment_nonfinite(flat, segment_ids, n: int) -> tf.Tensor:
    bad = tf.cast(tf.logical_not(tf.math.is_finite(flat)), tf.float32)
    return tf.math.unsorted_segment_sum(bad, segment_ids, n)


def unit_peaks(activated) -> tf.Tensor:
    """Largest |output| of each unit (last axis) over the batch and any spatial or time axes;
    a unit is dead exactly when its peak is 0."""
    return tf.reduce_max(tf.abs(tf.cast(activated, tf.float32)), axis=list(range(activated.shape.rank - 1)))
