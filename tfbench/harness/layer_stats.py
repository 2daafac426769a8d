"""Per-layer statistics of one training step, all layers at once (the columns of docs/design.md §5).

Every op costs twice: once when tracing, and once per recorded step, where TensorFlow's per-op
dispatch, not arithmetic, dominates for layers this small. So tensors of equal shape (all hidden
kernels of an MLP, all its δs) are stacked and reduced together: a few ops per column whatever the
depth, instead of a few per layer.
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
    measured: bool = True  # has a pre-activation: δ, dead and saturated fractions are measured
    weight: str = "kernel"  # the main weight's name (layers.parquet `weight`)


def membership(groups: list[list[int]], size: int) -> tf.Tensor:
    """[len(groups), size] float32 matrix with 1 where column j belongs to group i."""
    matrix = np.zeros((len(groups), size), np.float32)
    for row, members in enumerate(groups):
        matrix[row, members] = 1.0
    return tf.constant(matrix)


class ShapeGroups:
    """Groups a fixed list of tensors by static shape, stacks each group, and returns per-tensor
    reductions in the original order."""

    def __init__(self, shapes: list[tuple]):
        by_shape: dict[tuple, list[int]] = {}
        for index, shape in enumerate(shapes):
            by_shape.setdefault(tuple(shape), []).append(index)
        self.groups = list(by_shape.values())
        self.shapes = list(by_shape.keys())
        order = [i for group in self.groups for i in group]
        self.inverse = None if order == sorted(order) else tf.constant(np.argsort(order), tf.int32)

    def stack(self, tensors) -> list[tf.Tensor]:
        return [tf.stack([tf.cast(tensors[i], tf.float32) for i in group]) for group in self.groups]

    def reduce(self, stacks, reduction) -> tf.Tensor:
        """reduction(stack [k, ...], member indices) -> [k] on each stack, concatenated back into the
        original order."""
        parts = [reduction(stack, members) for stack, members in zip(stacks, self.groups, strict=True)]
        values = parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)
        return values if self.inverse is None else tf.gather(values, self.inverse)


# Reductions of one stack [k, ...] of equal-shaped tensors to k values (see ShapeGroups.reduce).
def sum_of_squares(stack, members):
    return monitor.sum_of_squares(stack, leading=1)


def max_abs(stack, members):
    return monitor.max_abs(stack, leading=1)


def nonfinite_count(stack, members):
    return monitor.count_nonfinite(stack, leading=1)


def dead_fraction(stack, members):
    return monitor.dead_fraction(stack, leading=1)


class LayerStats:
    """Computes the [layers, columns] table of one step, including the update actually applied (after
    clipping, momentum, adaptivity) from the kernels before and after it."""

    def __init__(self, slots: list[LayerSlots], variables: list, activation_shapes: list[tuple]):
        self.slots = slots
        self.variables = variables
        self.kernel_indices = [i for s in slots for i in s.kernel_indices]
        self.kernels = ShapeGroups([tuple(variables[i].shape) for i in self.kernel_indices])
        self.kernels_of_layer = membership([list(s.kernel_indices) for s in slots], len(variables))
        self.biases_of_layer = membership([list(s.bias_indices) for s in slots], len(variables))
        # Per-kernel results (in kernel_indices order) are summed into their layer by this matrix.
        self.positions, start = [], 0
        for s in slots:
            self.positions.append(list(range(start, start + len(s.kernel_indices))))
            start += len(s.kernel_indices)
        self.copies_of_layer = membership(self.positions, len(self.kernel_indices))
        self.has_bias = tf.constant([bool(s.bias_indices) for s in slots])
        # δ and activation columns are computed for the layers with a pre-activation only, then
        # spread over all rows with NaN for the others (BatchNormalization, Embedding, ...).
        measured = [s for s in slots if s.measured]
        self.activations = ShapeGroups(activation_shapes) if measured else None
        spread = np.cumsum([s.measured for s in slots]) - 1
        self.spread = (
            None
            if len(measured) == len(slots)
            else tf.constant(np.where([s.measured for s in slots], spread, len(measured)).astype(np.int32))
        )
        bounded = [s.bounds is not None for s in measured]
        self.bounded = tf.constant(bounded) if any(bounded) else None
        low_high = np.array([s.bounds or (np.nan, np.nan) for s in measured] or [(np.nan, np.nan)], np.float32)
        self.low, self.high = low_high[:, 0], low_high[:, 1]

    def kernel_stacks(self) -> list[tf.Tensor]:
        """The kernels stacked by shape: read before the update, they are `compute`'s `before`."""
        return self.kernels.stack([self.variables[i] for i in self.kernel_indices])

    def no_kernels(self) -> list[tf.Tensor]:
        """What a step that records nothing reads instead of `kernel_stacks()`: empty stacks of the same
        kernel shapes, so an unrecorded step fills no memory the size of the model."""
        return [tf.zeros([0, *shape]) for shape in self.kernels.shapes]

    def compute(self, before, grads, grad_squares, deltas, activations) -> tf.Tensor:
        """`before`: `kernel_stacks()` read before the update (the update applied is what changed since);
        `grad_squares` [variables]: Σ g² of every gradient, already computed for the global norm."""
        nan = tf.constant(monitor.NAN)
        old, new = before, self.kernel_stacks()
        per_layer = lambda per_kernel: monitor.group_sum(per_kernel, self.copies_of_layer)  # noqa: E731
        kernel_norm = tf.sqrt(per_layer(self.kernels.reduce(old, sum_of_squares)))
        change = [n - o for n, o in zip(new, old, strict=True)]
        grad_stacks = self.kernels.stack([grads[i] for i in self.kernel_indices])
        columns = {
            "kernel_grad_norm": tf.sqrt(monitor.group_sum(grad_squares, self.kernels_of_layer)),
            "bias_grad_norm": tf.where(
                self.has_bias, tf.sqrt(monitor.group_sum(grad_squares, self.biases_of_layer)), nan
            ),
            "act_grad_norm": self._delta_norms(deltas),
            "kernel_norm": kernel_norm,
            "update_ratio": tf.sqrt(per_layer(self.kernels.reduce(change, sum_of_squares))) / kernel_norm,
            "grad_max_abs": self._per_layer_max(self.kernels.reduce(grad_stacks, max_abs)),
            "nonfinite": self._nonfinite(grad_stacks, grad_squares),
            **self._activation_columns(activations),
        }
        return tf.stack([columns[name] for name in monitor.LAYER_MEASURES], axis=1)

    def _spread(self, values) -> tf.Tensor:
        """[measured layers] -> [all layers], NaN where a layer has no pre-activation."""
        if self.spread is None:
            return values
        return tf.gather(tf.concat([values, [monitor.NAN]], axis=0), self.spread)

    def _delta_norms(self, deltas) -> tf.Tensor:
        if not deltas:
            return tf.fill([len(self.slots)], monitor.NAN)
        if any(d is None for d in deltas):  # a layer the loss does not depend on: no δ to measure
            values = tf.stack([monitor.l2_norm(d) if d is not None else tf.constant(monitor.NAN) for d in deltas])
            return self._spread(values)
        groups = ShapeGroups([tuple(d.shape) for d in deltas])
        return self._spread(tf.sqrt(groups.reduce(groups.stack(deltas), sum_of_squares)))

    def _per_layer_max(self, per_kernel) -> tf.Tensor:
        if len(self.kernel_indices) == len(self.slots):  # one kernel per layer: already per layer
            return per_kernel
        return tf.stack([tf.reduce_max(tf.gather(per_kernel, positions)) for positions in self.positions])

    def _nonfinite(self, grad_stacks, grad_squares) -> tf.Tensor:
        """Counts of NaN/Inf kernel-gradient entries. A finite Σ g² over all gradients proves there
        are none, so the entry-wise count runs only on the rare steps where it is not finite."""

        def count():
            return monitor.group_sum(self.kernels.reduce(grad_stacks, nonfinite_count), self.copies_of_layer)

        all_finite = tf.math.is_finite(tf.reduce_sum(grad_squares))
        return tf.cond(all_finite, lambda: tf.zeros([len(self.slots)]), count)

    def _activation_columns(self, activations) -> dict:
        nan = tf.fill([len(self.slots)], monitor.NAN)
        if self.activations is None:
            return {"dead_fraction": nan, "saturated_fraction": nan}
        stacks = self.activations.stack(activations)
        columns = {"dead_fraction": self._spread(self.activations.reduce(stacks, dead_fraction))}
        if self.bounded is None:
            columns["saturated_fraction"] = nan
        else:
            values = self.activations.reduce(stacks, self._saturated_fraction)
            columns["saturated_fraction"] = self._spread(tf.where(self.bounded, values, monitor.NAN))
        return columns

    def _saturated_fraction(self, stack, members) -> tf.Tensor:
        """Per stacked layer, the fraction of outputs near its activation's bounds (0 for unbounded
        layers, whose NaN bounds compare false; replaced by NaN afterwards)."""
        return monitor.saturated_fraction(stack, self.low[members], self.high[members], leading=1)
