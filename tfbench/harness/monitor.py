"""The measured quantities of docs/design.md §5, each a small pure TensorFlow function.

They run inside `MonitoredModel.train_step` (graph mode) and are tested one by one against closed
forms and brute-force tape computations. Every result is a float32 scalar.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfbench.records.schema import LAYER_MEASURES, STEP_MEASURES  # noqa: F401  (the harness writes them in this order)

# An activated output within this fraction of the activation's range from a bound counts as saturated.
SATURATION_MARGIN = 0.01

NAN = float("nan")


def l2_norm(tensor) -> tf.Tensor:
    """Euclidean norm of all entries; 0 for an empty tensor."""
    return tf.sqrt(squared_norm(tensor))


def global_norm(tensors) -> tf.Tensor:
    """L2 norm of all entries of all tensors together (what global_clipnorm clips)."""
    return tf.sqrt(tf.add_n([squared_norm(t) for t in tensors]))


# `leading` is the number of leading axes kept: 0 reduces one tensor to a scalar; 1 reduces a stack
# [k, ...] of k equal-shaped tensors (one per layer) to k values, which is how the harness calls them.


def _axes(tensor, leading: int) -> list[int]:
    return list(range(leading, tensor.shape.rank))


def max_abs(tensor, leading: int = 0) -> tf.Tensor:
    tensor = tf.convert_to_tensor(tensor, tf.float32)
    return tf.reduce_max(tf.abs(tensor), axis=_axes(tensor, leading))


def count_nonfinite(tensor, leading: int = 0) -> tf.Tensor:
    """Number of NaN or ±Inf entries."""
    tensor = tf.convert_to_tensor(tensor, tf.float32)
    return tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_finite(tensor)), tf.float32), axis=_axes(tensor, leading))


def sum_of_squares(tensor, leading: int = 0) -> tf.Tensor:
    tensor = tf.convert_to_tensor(tensor, tf.float32)
    return tf.reduce_sum(tf.square(tensor), axis=_axes(tensor, leading))


def update_ratio(new, old) -> tf.Tensor:
    """‖new − old‖ / ‖old‖: the relative size of the update actually applied."""
    return l2_norm(tf.cast(new, tf.float32) - tf.cast(old, tf.float32)) / l2_norm(old)


def unit_peaks(activated, leading: int = 0) -> tf.Tensor:
    """Euclidean norm of each unit's outputs (last axis) over the batch and any spatial or time
    axes, in one op; a unit is dead exactly when it is 0. (Outputs below 1e-19 in magnitude square
    to 0 in float32 and count as 0: far below anything that carries signal.)"""
    activated = tf.convert_to_tensor(activated, tf.float32)
    return tf.math.reduce_euclidean_norm(activated, axis=list(range(leading, activated.shape.rank - 1)))


def dead_fraction(activated, leading: int = 0) -> tf.Tensor:
    """Fraction of units (last axis) whose output is 0 for every example and position."""
    return tf.reduce_mean(tf.cast(tf.equal(unit_peaks(activated, leading), 0.0), tf.float32), axis=-1)


def saturated_fraction(activated, low, high, leading: int = 0) -> tf.Tensor:
    """Fraction of activated outputs within SATURATION_MARGIN of the range [low, high] from a bound.
    With leading=1, `low` and `high` hold one bound per stacked tensor."""
    activated = tf.convert_to_tensor(activated, tf.float32)
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    margin = SATURATION_MARGIN * (high - low)
    shape = list(low.shape) + [1] * (activated.shape.rank - leading)
    near = tf.logical_or(activated <= np.reshape(low + margin, shape), activated >= np.reshape(high - margin, shape))
    return tf.reduce_mean(tf.cast(near, tf.float32), axis=_axes(activated, leading))


def batch_metric(y_true, y_pred, task: str) -> tf.Tensor:
    """Accuracy of the batch for classification, mean absolute error for regression. Class labels are
    indices ([n] or [n, 1]) or one-hot / probability rows like y_pred's, whose argmax is the class."""
    if task == "classification":
        y_true, y_pred = tf.convert_to_tensor(y_true), tf.convert_to_tensor(y_pred)
        one_hot = y_true.shape.rank == y_pred.shape.rank and (y_true.shape[-1] or 0) > 1
        labels = tf.argmax(y_true, axis=-1) if one_hot else tf.cast(y_true, tf.int64)
        hits = tf.equal(tf.reshape(tf.argmax(y_pred, axis=-1), [-1]), tf.reshape(labels, [-1]))
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
