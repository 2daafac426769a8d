"""Per-layer statistics of one training step, all layers at once (the columns of DESIGN §5).

The layout (which variable belongs to which layer, how many entries and units each has) is static,
so every column is a few segment reductions over concatenated tensors: about a third of the ops of
a per-layer loop, which matters because tracing time grows with the op count.
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


def _segment_ids(slots, variables, attribute: str) -> np.ndarray:
    ids = [np.full(int(np.prod(variables[i].shape)), layer, np.int32)
           for layer, slot in enumerate(slots) for i in getattr(slot, attribute)]  # fmt: skip
    return np.concatenate(ids) if ids else np.zeros(0, np.int32)


class LayerStats:
    """Computes the [layers, columns] table of one step; keeps a flat copy of the kernels so the
    update actually applied (after clipping, momentum, adaptivity) can be measured."""

    def __init__(self, slots: list[LayerSlots], variables: list):
        self.slots = slots
        self.n = len(slots)
        self.kernel_indices = [i for s in slots for i in s.kernel_indices]
        self.bias_indices = [i for s in slots for i in s.bias_indices]
        self.kernel_ids = tf.constant(_segment_ids(slots, variables, "kernel_indices"))
        self.bias_ids = tf.constant(_segment_ids(slots, variables, "bias_indices"))
        self.has_bias = tf.constant([bool(s.bias_indices) for s in slots])
        self.previous = tf.Variable(tf.zeros([int(self.kernel_ids.shape[0])]), trainable=False)

    def keep_kernels(self, variables) -> tf.Tensor:
        self.previous.assign(monitor.flatten_all([variables[i] for i in self.kernel_indices]))
        return tf.constant(True)

    def compute(self, variables, grads, deltas, activations) -> tf.Tensor:
        n, nan = self.n, tf.constant(monitor.NAN)
        kernel_grads = monitor.flatten_all([grads[i] for i in self.kernel_indices])
        old = tf.convert_to_tensor(self.previous)
        new = monitor.flatten_all([variables[i] for i in self.kernel_indices])
        kernel_norm = monitor.segment_norms(old, self.kernel_ids, n)
        columns = {
            "kernel_grad_norm": monitor.segment_norms(kernel_grads, self.kernel_ids, n),
            "bias_grad_norm": self._bias_norms(grads),
            "act_grad_norm": tf.stack([monitor.l2_norm(d) if d is not None else nan for d in deltas]),
            "kernel_norm": kernel_norm,
            "update_ratio": monitor.segment_norms(new - old, self.kernel_ids, n) / kernel_norm,
            "grad_max_abs": monitor.segment_max_abs(kernel_grads, self.kernel_ids, n),
            "nonfinite": monitor.segment_nonfinite(kernel_grads, self.kernel_ids, n),
            "dead_fraction": self._dead_fractions(activations),
            "saturated_fraction": self._saturated_fractions(activations),
        }
        return tf.stack([columns[name] for name in monitor.LAYER_COLUMNS], axis=1)

    def _bias_norms(self, grads) -> tf.Tensor:
        if not self.bias_indices:
            return tf.fill([self.n], monitor.NAN)
        norms = monitor.segment_norms(monitor.flatten_all([grads[i] for i in self.bias_indices]), self.bias_ids, self.n)
        return tf.where(self.has_bias, norms, monitor.NAN)

    def _saturated_fractions(self, activations) -> tf.Tensor:
        nan = tf.constant(monitor.NAN)
        pairs = zip(self.slots, activations, strict=True)
        return tf.stack([monitor.saturated_fraction(a, *s.bounds) if s.bounds else nan for s, a in pairs])

    def _dead_fractions(self, activations) -> tf.Tensor:
        peaks = [monitor.unit_peaks(a) for a in activations]
        unit_ids = np.concatenate([np.full(int(p.shape[0]), i, np.int32) for i, p in enumerate(peaks)])
        dead = tf.cast(tf.equal(tf.concat(peaks, axis=0), 0.0), tf.float32)
        return tf.math.unsorted_segment_mean(dead, tf.constant(unit_ids), self.n)
