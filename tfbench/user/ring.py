"""Records of a user's loop of `fit` calls: fixed-size device buffers drained to host arrays.

The suites know their step count up front and give every step its own buffer row (harness/model.py
`Buffers`). A user's `fit` calls come one at a time, an epoch or a few at a time: buffers sized for
the steps planned so far would have to grow, and every new size is a new trace of the train step
(seconds for a large model). Here the device side never changes shape: each buffer is a ring of a
fixed number of rows that the train step appends to through a counter variable, and the host copies
the new rows out at each epoch's end (one read, as StepCounter already makes) or, before an
execution that could overwrite rows not copied yet, in between.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# Rows of each ring: the most steps (per-step scalars) or recorded steps (per-layer tables) written
# between two drains. A drain every this many updates at most costs one host read.
STEP_ROWS = 1024
LAYER_ROWS = 256


class Ring:
    """`capacity` rows of shape `row_shape` on the device, with the step each row belongs to."""

    def __init__(self, capacity: int, row_shape: tuple):
        self.capacity = capacity
        self.rows = tf.Variable(tf.fill([capacity, *row_shape], float("nan")), trainable=False)
        self.steps = tf.Variable(tf.zeros([capacity], tf.int64), trainable=False)
        self.written = tf.Variable(tf.constant(0, tf.int64), trainable=False)  # appends since creation
        self.drained = 0  # host side: appends already copied out

    def append(self, step, row) -> None:
        """In-graph: write `row` of `step` into the next row, the oldest one once the ring is full."""
        slot = (self.written.assign_add(1) - 1) % self.capacity
        self.rows.scatter_nd_update([[slot]], [row])
        self.steps.scatter_nd_update([[slot]], [tf.cast(step, tf.int64)])

    def drain(self) -> tuple[np.ndarray, np.ndarray]:
        """Host: (steps, rows) appended since the last drain, oldest first."""
        written = int(self.written.numpy())
        new = written - self.drained
        if new > self.capacity:  # only a train function called outside `fit` can write that many
            raise RuntimeError(f"{new} rows were written to a ring of {self.capacity} between two drains")
        slots = (self.drained + np.arange(new)) % self.capacity
        self.drained = written
        if new == 0:
            return np.zeros(0, np.int64), np.zeros((0, *self.rows.shape[1:]), np.float32)
        return tf.gather(self.steps, slots).numpy(), tf.gather(self.rows, slots).numpy()


class HostRecords:
    """Everything drained so far, by step: a step recorded again (the optimizer's iteration counter
    set back) replaces its earlier record, as a buffer row indexed by step would be overwritten."""

    def __init__(self, n_step_columns: int, layer_row_shape: tuple):
        self.step_rows = np.full((0, n_step_columns), np.nan, np.float32)
        self.layer_rows: dict[int, np.ndarray] = {}
        self.layer_row_shape = layer_row_shape

    def add_steps(self, steps: np.ndarray, rows: np.ndarray) -> None:
        if len(steps) and steps.max() >= len(self.step_rows):
            size = max(int(steps.max()) + 1, 2 * len(self.step_rows))
            grown = np.full((size, self.step_rows.shape[1]), np.nan, np.float32)
            grown[: len(self.step_rows)] = self.step_rows
            self.step_rows = grown
        self.step_rows[steps] = rows

    def add_layers(self, steps: np.ndarray, rows: np.ndarray) -> None:
        for step, row in zip(steps.tolist(), rows, strict=True):
            self.layer_rows[step] = row

    def steps(self, stop: int) -> np.ndarray:
        """Per-step rows of steps 0..stop-1 (NaN where none was recorded)."""
        rows = np.full((stop, self.step_rows.shape[1]), np.nan, np.float32)
        kept = min(stop, len(self.step_rows))
        rows[:kept] = self.step_rows[:kept]
        return rows

    def recorded(self) -> np.ndarray:
        return np.array(sorted(self.layer_rows), dtype=np.int64)

    def layers(self) -> np.ndarray:
        """[recorded steps, layers, columns], in the order of `recorded()`."""
        rows = [self.layer_rows[step] for step in self.recorded().tolist()]
        return np.stack(rows) if rows else np.zeros((0, *self.layer_row_shape), np.float32)


class RingBuffers:
    """The user path's buffers: what `MonitoredModel`'s steps write, and the host's copy of it."""

    def __init__(self, n_step_columns: int, layer_row_shape: tuple, per_execution: int = 1):
        self.step_ring = Ring(max(STEP_ROWS, per_execution), (n_step_columns,))  # an execution fits
        self.layer_ring = Ring(LAYER_ROWS, layer_row_shape)
        self.host = HostRecords(n_step_columns, layer_row_shape)
        self._bounds = [0, 0]  # host side: most appends to each ring since the last drain

    def write_step(self, step, row) -> None:
        self.step_ring.append(step, row)

    def write_layers(self, step, table) -> None:
        self.layer_ring.append(step, table)

    def make_room(self, steps: int, layer_tables: int) -> None:
        """Host, before an execution that appends at most `steps` step rows and `layer_tables` layer
        tables: drain first if either ring could overwrite a row not copied yet."""
        bounds = [self._bounds[0] + steps, self._bounds[1] + layer_tables]
        if bounds[0] > self.step_ring.capacity or bounds[1] > self.layer_ring.capacity:
            self.drain()
            bounds = [steps, layer_tables]
        self._bounds = bounds

    def drain(self) -> None:
        self.host.add_steps(*self.step_ring.drain())
        self.host.add_layers(*self.layer_ring.drain())
        self._bounds = [0, 0]
