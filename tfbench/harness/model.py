"""`MonitoredModel`: a `keras.Model` whose `train_step` records the quantities of docs/design.md §5.

It overrides `train_step` the way the Keras guide "customizing what happens in fit()" does, so
`fit`, callbacks, progress bars and `steps_per_execution` keep working. Everything is computed
in-graph and written into preallocated `tf.Variable` buffers; the host reads them once per chunk.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfbench.harness import monitor
from tfbench.harness.branches import only_taken_branch, when
from tfbench.harness.executions import ExecutionTimes, dispatching_train_function
from tfbench.harness.layer_stats import LayerSlots, LayerStats
from tfbench.harness.plan import RecordPlan
from tfbench.models.layers import BOUNDED_ACTIVATIONS
from tfbench.models.network import Network
from tfbench.models.probed import own_weights
from tfbench.records.schema import METRIC_FOR_TASK


class Buffers:
    """Preallocated in-graph storage, a row per step of the plan, deliberately not a Keras layer so it
    is never saved or trained. (A user's loop of `fit` calls, whose steps are not known up front,
    writes rings instead: user/ring.py.)"""

    def __init__(self, plan: RecordPlan, n_layers: int):
        nan = float("nan")
        self.steps = tf.Variable(tf.fill([plan.steps, len(monitor.STEP_MEASURES)], nan), trainable=False)
        # One row per recorded step, and a last one that a recording function's unrecorded steps
        # write (docs/design.md §5): never read.
        self.layers = tf.Variable(
            tf.fill([plan.n_recorded + 1, n_layers, len(monitor.LAYER_MEASURES)], nan), trainable=False
        )
        self.slots = tf.constant(np.where(plan.slots < 0, plan.n_recorded, plan.slots).astype(np.int32))

    def write_step(self, step, row) -> None:
        self.steps.scatter_nd_update([[self._row(step)]], [row])

    def write_layers(self, step, table) -> None:
        self.layers.scatter_nd_update([[tf.gather(self.slots, self._row(step))]], [table])

    def _row(self, step):
        return tf.minimum(step, self.steps.shape[0] - 1)


def present(gradients, variables) -> list:
    """Gradients as dense tensors for the statistics. A variable the loss does not use has no
    gradient: zero here (Keras skips it); an Embedding's sparse gradient is densified, so rows looked
    up twice add up as they do in the update."""
    return [
        tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(gradients, variables, strict=True)
    ]


class StepCounter(keras.callbacks.Callback):
    """Tells the model, at each epoch's start, the step its next execution starts at: an execution cut
    short where a user's data ended leaves the host's count behind (one variable read per epoch)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.next_step = int(self.model.optimizer.iterations.numpy())


def is_bias(variable) -> bool:
    name = variable.path.rsplit("/", 1)[-1]
    return "bias" in name or name == "beta"


def locate_layers(probes, variables) -> list[LayerSlots]:
    """Where each probed layer's weights sit in `variables` — its main weights (kernel, depthwise
    kernel, embeddings, gamma, alpha, ...) and its biases (bias, beta) — and its saturation bounds."""
    index = {id(v): i for i, v in enumerate(variables)}
    slots = []
    for probe in probes:
        weights = [v for v in own_weights(probe.layer) if id(v) in index]
        kernels = tuple(index[id(v)] for v in weights if not is_bias(v))
        biases = tuple(index[id(v)] for v in weights if is_bias(v))
        bounds = BOUNDED_ACTIVATIONS.get(probe.activation) if probe.activation else None
        main = variables[(kernels or biases)[0]].path.rsplit("/", 1)[-1] if kernels or biases else ""
        slots.append(LayerSlots(probe.depth, probe.layer.name, kernels, biases, bounds, probe.measured, main))
    return slots


class MonitoredModel(keras.Model):
    """Wraps a `Network`; trains like any Keras model and records gradients as it goes."""

    def __init__(self, network: Network, plan: RecordPlan, task: str, **kwargs):
        super().__init__(**kwargs)
        probes = network.probes
        measured = [p for p in probes if p.measured]
        net = keras.Model(
            network.inputs, [network.outputs, *[p.z for p in measured], *[p.a for p in measured]], name="network"
        )
        self.track(task)
        self.plan = plan
        self.attach_monitor(net, probes, [tuple(p.a.shape) for p in measured], Buffers(plan, len(probes)))
        self.built = True

    def track(self, task: str) -> None:
        """The task's metric, and the running means of the progress bar and `evaluate`; reset by Keras
        each epoch and evaluate. `evaluate` works from then on, before any monitor is attached."""
        self.task = task
        self.metric_name = METRIC_FOR_TASK[task]
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.metric_tracker = keras.metrics.Mean(name=self.metric_name)

    def attach_monitor(self, net, probes, activation_shapes: list[tuple], buffers) -> None:
        """Monitor `net`, a callable (inputs, training) -> [outputs, *z, *a] over the `probes` that have a
        pre-activation, in forward order; `activation_shapes` are theirs. `buffers` stores what the steps
        record (`write_step`, `write_layers`)."""
        self.net = net
        self.layer_slots = locate_layers(probes, self.trainable_variables)
        self.buffers = buffers
        self.layer_stats = LayerStats(self.layer_slots, self.trainable_variables, activation_shapes)
        self.tensorboard = None  # a harness.tensorboard.TensorBoardWriter when events are asked for
        self._validate_batch = None
        self.execution_times = ExecutionTimes()

    @property
    def metrics(self):
        return [self.loss_tracker, self.metric_tracker]

    def call(self, inputs, training=False):
        return self.net(inputs, training=training)[0]

    def reset_monitor(self) -> None:
        """Empty buffers and trackers, as a freshly built model has them (a reused model's next run)."""
        self.buffers.steps.assign(tf.fill(self.buffers.steps.shape, float("nan")))
        self.buffers.layers.assign(tf.fill(self.buffers.layers.shape, float("nan")))
        for tracker in self.metrics:
            tracker.reset_state()
        self.execution_times.clear()
        self.stop_training = False

    def fit(self, *args, callbacks=None, **kwargs):
        return super().fit(*args, callbacks=[*(callbacks or []), StepCounter()], **kwargs)

    def make_train_function(self, force=False):
        if self.train_function is None or force:
            self.next_step = int(self.optimizer.iterations.numpy())
            self.execution_times = ExecutionTimes()
            self.train_function = dispatching_train_function(self, self.train_step, self.recording_step)
        return self.train_function

    def train_step(self, data):
        """A step without per-layer statistics: what every unrecorded step runs, in every monitor mode."""
        x, y = data[0], data[1]
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        reg_loss = self._regularization_loss()
        applied = tape.gradient(loss, variables)
        grad_squares = monitor.squared_norms(present(applied, variables))
        step = self._step()
        self.optimizer.apply(applied, variables)
        metric = monitor.batch_metric(y, y_pred, self.task)
        self._record_scalars(step, loss, reg_loss, metric, tf.sqrt(tf.reduce_sum(grad_squares)))
        return self._update_trackers(loss, metric, tf.shape(x)[0])

    def recording_step(self, data, record=None):
        """The plain step plus every layer's statistics (docs/design.md §5) in the step's buffer row.
        With `record`, a boolean tensor, the statistics are taken only where it is true: then one
        traced step serves recorded and unrecorded steps alike (a user's loop of `fit` calls)."""
        x, y = data[0], data[1]
        n = sum(slot.measured for slot in self.layer_slots)
        variables = self.trainable_variables

        # Forward pass under the tape, keeping each layer's linear (z) and activated (a) outputs.
        with tf.GradientTape() as tape:
            outputs = self.net(x, training=True)
            y_pred, zs, activations = outputs[0], outputs[1 : n + 1], outputs[n + 1 :]
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        # Keras recomputes regularization losses from the variables' current values on every read
        # of `self.losses`: read them before the update, so reg_loss is the part included in `loss`.
        reg_loss = self._regularization_loss()

        # One backward pass gives the weight gradients and every layer's δ = d loss / d z.
        gradients = tape.gradient(loss, [*variables, *zs])
        applied, deltas = gradients[: len(variables)], gradients[len(variables) :]
        grads = present(applied, variables)
        grad_squares = monitor.squared_norms(grads)
        step = self._step()
        # The kernels read before the update, to measure the update applied.
        before = when(record, self.layer_stats.kernel_stacks, self.layer_stats.no_kernels)

        # The optimizer applies (and clips) the gradients, exactly as in Model.fit.
        self.optimizer.apply(applied, variables)

        metric = monitor.batch_metric(y, y_pred, self.task)
        self._record_scalars(step, loss, reg_loss, metric, tf.sqrt(tf.reduce_sum(grad_squares)))

        def record_layers():
            with only_taken_branch():  # the statistics' rare branches cost nothing when not taken
                table = self.layer_stats.compute(before, grads, grad_squares, deltas, activations)
            self.buffers.write_layers(step, table)
            if self.tensorboard is not None:  # decided when tracing: no op at all without TensorBoard
                scalars = {"loss": loss, "global_grad_norm": tf.sqrt(tf.reduce_sum(grad_squares))}
                self.tensorboard.write(step, grads, deltas, variables, table, scalars)

        when(record, record_layers, lambda: None)
        return self._update_trackers(loss, metric, tf.shape(x)[0])

    def _step(self):
        return tf.cast(self.optimizer.iterations, tf.int32)

    def test_step(self, data):
        x, y = data[0], data[1]
        loss, metric = self._evaluate_batch(x, y)
        return self._update_trackers(loss, metric, tf.shape(x)[0])

    def _evaluate_batch(self, x, y):
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        return loss, monitor.batch_metric(y, y_pred, self.task)

    def validate(self, x, y, batch_size: int) -> tuple[float, float]:
        """Loss and metric on held-out data, example-weighted over batches.

        One traced function called directly: Keras' `evaluate` would set up an epoch iterator and
        callbacks per call, which costs more than the whole validation of a small split.
        """
        if self._validate_batch is None:
            self._validate_batch = tf.function(self._evaluate_batch, reduce_retracing=True, autograph=False)
        totals, count = np.zeros(2), 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            loss, metric = self._validate_batch(tf.constant(xb), tf.constant(yb))
            totals += len(xb) * np.array([float(loss), float(metric)])
            count += len(xb)
        return tuple(totals / max(count, 1))

    def _update_trackers(self, loss, metric, batch_size):
        """What `Mean.update_state(value, sample_weight=batch_size)` adds for a scalar value, in three
        ops per tracker instead of its generic path's two dozen (each op costs when tracing)."""
        weight = tf.cast(batch_size, tf.float32)
        for tracker, value in ((self.loss_tracker, loss), (self.metric_tracker, metric)):
            tracker.total.assign_add(tf.cast(value, tf.float32) * weight)
            tracker.count.assign_add(weight)
        return {m.name: m.result() for m in self.metrics}

    def _regularization_loss(self):
        losses = self.losses
        return tf.add_n([tf.cast(t, tf.float32) for t in losses]) if losses else tf.constant(0.0)

    def _record_scalars(self, step, loss, reg_loss, metric, global_grad_norm):
        row = tf.stack(
            [
                tf.cast(loss, tf.float32),
                reg_loss,
                tf.cast(metric, tf.float32),
                global_grad_norm,
                tf.cast(self.optimizer.learning_rate, tf.float32),
            ]
        )
        self.buffers.write_step(step, row)

    # -- host side -------------------------------------------------------------------------------

    def fetch_steps(self, start: int, stop: int) -> np.ndarray:
        return self.buffers.steps[start:stop].numpy()

    def fetch_layers(self) -> np.ndarray:
        return self.buffers.layers[: self.plan.n_recorded].numpy()
