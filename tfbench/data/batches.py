"""Batching in an order fixed by the seed alone: every variant of a suite sees the same batches
(docs/design.md §4)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfbench.data.dataset import Dataset
from tfbench.errors import DataError


def batch_indices(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """[steps, batch_size] example indices: one fresh permutation of range(n) per epoch, order fixed by seed."""
    rng = np.random.default_rng(seed)
    epochs = -(-steps * batch_size // n)  # ceiling division
    stream = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    return stream[: steps * batch_size].reshape(steps, batch_size)


def train_batches(data: Dataset, batch_size: int, steps: int, seed: int) -> tf.data.Dataset:
    """Exactly `steps` full batches of (x, y); every caller with the same seed gets identical batches."""
    n = len(data.x_train)
    for name, value in (("batch_size", batch_size), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{name}={value!r} is invalid: expected a positive integer")
    if batch_size > n:
        raise DataError(
            f"batch_size={batch_size} is larger than the {n} training examples of {data.name!r}: "
            f"expected batch_size <= {n}"
        )
    # Only the index matrix is materialized; examples are gathered per batch from constants made once.
    x = tf.constant(data.x_train)
    y = tf.constant(data.y_train)
    indices = tf.data.Dataset.from_tensor_slices(batch_indices(n, batch_size, steps, seed))
    return indices.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx))).prefetch(tf.data.AUTOTUNE)
