"""The measured quantities of DESIGN §5, each a small pure TensorFlow function.

They run inside `MonitoredModel.train_step` (graph mode) and are tested one by one against closed
forms and brute-force tape computations. Every result is a float32 scalar.
"""

from __future__ import annotations

import tensorflow as tf

from tfbench.schema import LAYER_COLUMNS, STEP_COLUMNS  # noqa: F401  (the harness writes them in this order)

# An activated output within this fraction of the activation's range from a bound counts as saturated.
SATURATION_MARGIN = 0.01

NAN = float("nan")


def l2_norm(tensor) -> tf.Tensor:
    """Euclidean norm of all entries; 0 for an empty tensor."""
    return tf.sqrt(squared_norm(tensor))


def global_norm(tensors) -> tf.Tensor:
    """L2 norm of all entries of all tensors together (what global_clipnorm clips)."""
    return tf.sqrt(tf.add_n([squared_norm(t) for t in tensors]))


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


# -- building blocks the harness combines for all layers at once ---------------------------------
# Tracing and per-step cost grow with the number of ops, so the harness uses one cheap op per tensor
# (L2Loss is a single fused kernel) and groups tensors into layers with one small matrix product.


def squared_norm(tensor) -> tf.Tensor:
    """Σ t² in one op (tf.nn.l2_loss computes Σ t² / 2)."""
    return 2.0 * tf.nn.l2_loss(tf.cast(tensor, tf.float32))


def squared_norms(tensors) -> tf.Tensor:
    """[Σ t² for t in tensors] with one L2Loss op per tensor and one multiply for all."""
    return 2.0 * tf.stack([tf.nn.l2_loss(tf.cast(t, tf.float32)) for t in tensors])


def group_sum(values, membership) -> tf.Tensor:
    """Sum of `values` [n] per group, `membership` a [groups, n] 0/1 matrix: shape [groups]."""
    return tf.linalg.matvec(membership, values)


def unit_peaks(activated) -> tf.Tensor:
    """Euclidean norm of each unit's outputs (last axis) over the batch and any spatial or time
    axes, in one op; a unit is dead exactly when it is 0. (Outputs below 1e-19 in magnitude square
    to 0 in float32 and count as 0: far below anything that carries signal.)"""
    activated = tf.convert_to_tensor(activated, tf.float32)
    return tf.math.reduce_euclidean_norm(activated, axis=list(range(activated.shape.rank - 1)))
