"""`tfbench.monitored(model)`: the harness's monitor on a user's own model, in the user's own `fit`.

The returned model is a `MonitoredModel` (the same train_step and per-layer statistics as the
suites use) that calls the user's model through probes (models/probed.py), so Sequential,
functional and subclassed models all work. Per-layer statistics are computed in-graph on every
`every`-th step only, into fixed-size buffers (user/ring.py) that the host copies out once per epoch:
no per-step sync, and a loop of `fit` calls traces the train step once, whatever each call's length.

    monitor = tfbench.monitored(model, every=10)      # model: compiled or not
    monitor.fit(x, y, epochs=5, batch_size=64)        # the usual fit, callbacks and all
    monitor.save_records("reports", suite="mymodel")  # then: python -m tfbench report reports
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfbench.errors import TfbenchError
from tfbench.harness import monitor
from tfbench.harness.executions import conditional_train_function
from tfbench.harness.model import MonitoredModel
from tfbench.harness.tensorboard import TensorBoardWriter
from tfbench.models.probed import ProbedForward, probe_layers
from tfbench.spec.limits import MAX_STEPS, check_count
from tfbench.user.ring import RingBuffers
from tfbench.user.run_records import check_record_names, run_tables, save_run


def monitored(model, layers=None, every: int = 10, tensorboard=None, task: str | None = None):
    """Wrap `model` so that its `fit` records the quantities of docs/design.md §5.

    layers: names of the layers to watch (default every layer with a kernel; others are named in
    `skipped`). every: per-layer statistics on steps 0, every, 2·every, … (loss and global gradient
    norm on every step). tensorboard: a run directory for TensorBoard events of the recorded steps.
    task: "classification" (metric accuracy; labels are class indices or one-hot rows) or "regression"
    (metric MAE); by default classification exactly when the loss is (sparse) categorical cross-entropy.
    """
    return MonitoredUserModel(model, layers=layers, every=every, tensorboard=tensorboard, task=task)


def infer_task(loss) -> str:
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    return "classification" if "categorical_crossentropy" in str(name) else "regression"


def first_inputs(x):
    """A batch of at most two inputs from what `fit` received, without consuming a generator."""
    if isinstance(x, tf.data.Dataset):
        element = next(iter(x.take(1)))
        return element[0] if isinstance(element, tuple) else element
    if isinstance(x, keras.utils.PyDataset):
        return x[0][0]
    arrays = tf.nest.flatten(x)
    if not arrays or not all(hasattr(array, "shape") for array in arrays):
        raise TfbenchError(
            f"fit got x of type {type(x).__name__}: expected arrays, a tf.data.Dataset or a keras.utils.PyDataset"
        )
    return tf.nest.map_structure(lambda array: array[:2], x)


class FitRecorder(keras.callbacks.Callback):
    """Once per epoch: its duration, the step count, and any validation Keras computed."""

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        model.buffers.drain()
        step = int(model.optimizer.iterations.numpy())
        model.epoch_times.append((step, time.perf_counter() - self._started))
        logs = logs or {}
        if "val_loss" in logs:
            metric = float(logs.get(f"val_{model.metric_name}", "nan"))
            model.validations.append((step, float(logs["val_loss"]), metric))

    def on_train_end(self, logs=None):
        if self.model.tensorboard is not None:
            self.model.tensorboard.writer.flush()


class MonitoredUserModel(MonitoredModel):
    """A user's model under the monitor; `fit`, `evaluate` and `predict` behave as the user's own."""

    def __init__(self, model, layers=None, every: int = 10, tensorboard=None, task=None):
        keras.Model.__init__(self, name=f"monitored_{model.name}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise TfbenchError(f"every={every!r} is invalid: expected a positive integer (record every N steps)")
        check_count("every=", every, MAX_STEPS)
        if task not in (None, "classification", "regression"):
            raise TfbenchError(f"task={task!r} is unknown: expected None, 'classification' or 'regression'")
        if not isinstance(model, keras.Model):
            raise TfbenchError(f"model is a {type(model).__name__}: expected a keras.Model")
        self.user_model = model
        self.watch, self.every, self.events_dir, self.task_override = layers, every, tensorboard, task
        self.net = self.probing = self.tensorboard = None
        self.first_step = 0
        self.validations: list[tuple[int, float, float]] = []
        self.epoch_times: list[tuple[int, float]] = []
        self.built = True
        if getattr(model, "compiled", False) and model.optimizer is not None:
            self.compile(optimizer=model.optimizer, loss=model.loss, steps_per_execution=model.steps_per_execution)

    @property
    def skipped(self) -> dict[str, str]:
        """Layers not monitored, with the reason (no kernel, not trainable, not in layers=)."""
        return dict(self.probing.skipped) if self.probing else {}

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        self.track(self.task_override or infer_task(self.loss))  # evaluate works before the first fit

    @property
    def metrics(self):
        return super().metrics if self.compiled else []

    def call(self, inputs, training=False):
        return self.user_model(inputs, training=training)

    def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
        if not self.compiled:
            raise TfbenchError("the monitored model is not compiled: compile the model (or the monitored one) first")
        if self.net is None:
            self._attach(x)
        # keras.Model's fit, not MonitoredModel's: its StepCounter serves the suites' host-side dispatch,
        # and here the record rule is computed in-graph.
        return keras.Model.fit(self, x, y, *args, callbacks=[*(callbacks or []), FitRecorder()], **kwargs)

    def _attach(self, x) -> None:
        """Probe the model on the first fit and attach the monitor to it."""
        self.probing = probe_layers(self.user_model, first_inputs(x), self.watch)
        if self.probing.note():
            warnings.warn(f"tfbench.monitored: {self.probing.note()}", stacklevel=3)
        probes = self.probing.probes
        shapes = [p.shape for p in probes if p.measured]
        layer_table = (len(probes), len(monitor.LAYER_MEASURES))
        buffers = RingBuffers(len(monitor.STEP_MEASURES), layer_table, self.steps_per_execution)
        self.attach_monitor(ProbedForward(self.user_model, probes), probes, shapes, buffers)
        if self.events_dir is not None:
            self.tensorboard = TensorBoardWriter(self.events_dir, self.layer_slots)
        self.first_step = int(self.optimizer.iterations.numpy())
        if not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def make_train_function(self, force=False):
        if self.train_function is None or force:
            records = every_rule(self.every, self.steps_per_execution)
            execution = conditional_train_function(self, self.recording_step, records)

            def train_function(iterator):
                self.buffers.make_room(self.steps_per_execution, 1)  # an execution records one step at most
                return execution(iterator)

            self.train_function = train_function
        return self.train_function

    def fetch_steps(self, start: int, stop: int) -> np.ndarray:
        self.buffers.drain()
        return self.buffers.host.steps(stop)[start:]

    def fetch_layers(self) -> np.ndarray:
        self.buffers.drain()
        return self.buffers.host.layers()

    def recorded_steps(self) -> np.ndarray:
        self.buffers.drain()
        return self.buffers.host.recorded()

    def records(self, suite: str = "model", variant: str | None = None, seed: int = 0):
        """(runs.csv row, steps table, layers table) of the steps trained so far, in the records schema."""
        if self.net is None:
            raise TfbenchError("nothing recorded yet: call fit on the monitored model first")
        return run_tables(self, suite, variant or self.user_model.name, seed)

    def save_records(self, out="reports", suite: str = "model", variant: str | None = None, seed: int = 0) -> Path:
        """Write OUT/<suite>/{runs.csv, steps.parquet, layers.parquet} and OUT/manifest.json, replacing an
        earlier run of the same (variant, seed) and keeping the others, so `python -m tfbench report OUT`
        shows several models side by side. Returns the suite folder."""
        check_record_names(suite, variant, seed)
        row, steps, layers = self.records(suite, variant, seed)
        return save_run(out, suite, row, steps, layers, monitor=f"every {self.every} steps")


def every_rule(every: int, per_execution: int):
    """Steps 0, every, 2·every, … without end or, with several steps per execution, the first step of
    each execution that holds one of them, as a rule the graph computes: (an execution's first step,
    an integer tensor) -> whether that step records (a boolean tensor)."""
    return lambda step: -step % every < per_execution  # the next multiple of every is in this execution
