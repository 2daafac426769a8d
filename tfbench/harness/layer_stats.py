"""Per-layer statistics of one training step, all layers at once (the columns of DESIGN §5).

The layout (which variable belongs to which layer, how many units each has) is static, so the
per-tensor results are grouped into layers by constant 0/1 matrices: one op per tensor plus a
handful for the whole table. Every op counts twice, once when tracing and once per recorded step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from tfbench.harness import monitor


@dataclass(frozen=True)
class LayerSlots:
    """Where one monitored layer's variables sit in `trainable_variables`, and its saturation bounds."""

    depth: int
    name: str
    kernel_indices: tuple[int, ...]
    bias_indices: tuple[int, ...]
    bounds: tuple[float, float] | None


def membership(groups: list[list[int]], size: int) -> tf.Tensor:
    """[len(groups), size] float32 matrix with 1 where column j belongs to group i."""
    matrix = np.zeros((len(groups), size), np.float32)
    for row, members in enumerate(groups):
        matrix[row, members] = 1.0
    return tf.constant(matrix)


class LayerStats:
    """Computes the [layers, columns] table of one step; keeps copies of the kernels so the update
    actually applied (after clipping, momentum, adaptivity) can be measured."""

    def __init__(self, slots: list[LayerSlots], variables: list):
        self.slots = slots
        self.variables = variables
        self.kernel_indices = [i for s in slots for i in s.kernel_indices]
        self.kernels_of_layer = membership([list(s.kernel_indices) for s in slots], len(variables))
        self.biases_of_layer = membership([list(s.bias_indices) for s in slots], len(variables))
        # Kernel copies are grouped by position in kernel_indices, not in trainable_variables.
        positions, start = [], 0
        for s in slots:
            positions.append(list(range(start, start + len(s.kernel_indices))))
            start += len(s.kernel_indices)
        self.copies_of_layer = membership(positions, len(self.kernel_indices))
        self.has_bias = tf.constant([bool(s.bias_indices) for s in slots])
        self.previous = [tf.Variable(tf.zeros(variables[i].shape), trainable=False) for i in self.kernel_indices]

    def keep_kernels(self) -> tf.Tensor:
        for copy, index in zip(self.previous, self.kernel_indices, strict=True):
            copy.assign(tf.cast(self.variables[index], tf.float32))
        return tf.constant(True)

    def compute(self, grads, grad_squares, deltas, activations) -> tf.Tensor:
        """`grad_squares` [variables]: Σ g² of every gradient, already computed for the global norm."""
        nan = tf.constant(monitor.NAN)
        old = [tf.convert_to_tensor(copy) for copy in self.previous]
        new = [tf.cast(self.variables[i], tf.float32) for i in self.kernel_indices]
        kernel_norm = tf.sqrt(monitor.group_sum(monitor.squared_norms(old), self.copies_of_layer))
        change = tf.sqrt(
            monitor.group_sum(
                monitor.squared_norms([n - o for n, o in zip(new, old, strict=True)]), self.copies_of_layer
            )
        )
        kernel_grads = [grads[i] for i in self.kernel_indices]
        present = [d if d is not None else tf.fill([1], monitor.NAN) for d in deltas]
        columns = {
            "kernel_grad_norm": tf.sqrt(monitor.group_sum(grad_squares, self.kernels_of_layer)),
            "bias_grad_norm": tf.where(
                self.has_bias, tf.sqrt(monitor.group_sum(grad_squares, self.biases_of_layer)), nan
            ),
            "act_grad_norm": tf.sqrt(monitor.squared_norms(present)),
            "kernel_norm": kernel_norm,
            "update_ratio": change / kernel_norm,
            "grad_max_abs": self._per_layer_max(kernel_grads),
            "nonfinite": self._nonfinite(kernel_grads, grad_squares),
            "dead_fraction": self._dead_fractions(activations),
            "saturated_fraction": self._saturated_fractions(activations),
        }
        return tf.stack([columns[name] for name in monitor.LAYER_COLUMNS], axis=1)

    def _per_layer_max(self, kernel_grads) -> tf.Tensor:
        maxima, grouped, position = [monitor.max_abs(g) for g in kernel_grads], [], 0
        for slot in self.slots:
            part = maxima[position : position + len(slot.kernel_indices)]
            grouped.append(part[0] if len(part) == 1 else tf.reduce_max(tf.stack(part)))
            position += len(part)
        return tf.stack(grouped)

    def _nonfinite(self, kernel_grads, grad_squares) -> tf.Tensor:
        """Counts of NaN/Inf kernel-gradient entries. A finite Σ g² over all gradients proves there
        are none, so the entry-wise count runs only on the rare steps where it is not finite."""

        def count():
            counts = tf.stack([monitor.count_nonfinite(g) for g in kernel_grads])
            return monitor.group_sum(counts, self.copies_of_layer)

        all_finite = tf.math.is_finite(tf.reduce_sum(grad_squares))
        return tf.cond(all_finite, lambda: tf.zeros([len(self.slots)]), count)

    def _saturated_fractions(self, activations) -> tf.Tensor:
        nan = tf.constant(monitor.NAN)
        pairs = zip(self.slots, activations, strict=True)
        return tf.stack([monitor.saturated_fraction(a, *s.bounds) if s.bounds else nan for s, a in pairs])

    def _dead_fractions(self, activations) -> tf.Tensor:
        peaks = [monitor.unit_peaks(a) for a in activations]
        units = [int(p.shape[0]) for p in peaks]
        starts = np.cumsum([0, *units])
        unit_share = membership([list(range(starts[i], starts[i + 1])) for i in range(len(units))], int(starts[-1]))
        unit_share = unit_share / np.array(units, np.float32)[:, None]  # rows average their units
        dead = tf.cast(tf.equal(tf.concat(peaks, axis=0), 0.0), tf.float32)
        return tf.linalg.matvec(unit_share, dead)
