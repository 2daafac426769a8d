"""Which traced function runs each call of `fit`'s train function (one execution: `steps_per_execution`
updates), and how each execution's time is accounted (docs/design.md §5).

Every plan traces as few steps as it can, because tracing is most of a short run's cost:

- every step recorded (full mode, runs under 100 updates): the recording step alone;
- recorded steps that each start an execution (what `RecordPlan.for_setup` makes of `standard`):
  one step whose per-layer statistics sit behind a cond (kept a functional If, harness/branches.py,
  so the branch not taken costs nothing) on a rule the graph computes from the optimizer's
  iteration count and the plan's steps; the execution's later steps pass it False;
- any other plan, and `none` (step 0 recorded, every other step exactly the plain step: the
  baseline of the monitor's cost): the plain and the recording step, and the host picks one per
  execution.

The host knows from the plan which executions record, and times them apart: the run's own
unrecorded executions are what the monitor's cost is measured against (`monitor_s`).

A user's loop of `fit` calls (user/monitored.py) has no plan up front, and each new plan would mean new
traces. There `conditional_train_function` takes its rule from `every` instead: the first `fit` traces
one step, and later ones none.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from tfbench.harness.plan import RecordPlan


class ExecutionSchedule:
    """For each step an execution may start at, whether that execution records anything."""

    def __init__(self, plan: RecordPlan, per_execution: int):
        counts = np.concatenate([[0], np.cumsum(plan.mask)])
        starts = np.arange(plan.steps)
        ends = np.minimum(starts + per_execution, plan.steps)
        self.records_from = counts[ends] - counts[starts] > 0
        self.first_only = per_execution > 1 and bool(np.all(plan.recorded % per_execution == 0))
        self.every_step = plan.every_step

    def records(self, step: int) -> bool:
        return step < len(self.records_from) and bool(self.records_from[step])

    def kind(self, step: int) -> str:
        return "recording" if self.records(step) else "plain"


def dispatching_train_function(model, plain_step, recording_step):
    """fit's train function for `model`: (iterator) -> logs. `model.next_step` is the step the next
    execution starts at (set by the model at every epoch's start, advanced here); each execution's
    time goes to `model.execution_times`, as a recording or a plain one.

    A plan whose recorded steps each start an execution (as `RecordPlan.for_setup` makes them) traces
    one step: `recording_step(data, record)` with the plan's rule computed in-graph, as
    `conditional_train_function` does for a user's model. Tracing a second, plain step would cost
    about as much again, for a run whose unrecorded steps then skip one untaken cond. Any other plan
    traces the plain and the recording step, and the host picks one per execution; so does a plan
    that records one step (`--monitor none`: step 0): that mode is the baseline the monitor's cost
    is measured against, and none of its later steps carries the cond."""
    per_execution = model.steps_per_execution
    schedule = ExecutionSchedule(model.plan, per_execution)
    if schedule.every_step:
        recording_one = one_step_function(model, recording_step)
        execution = execution_function(model, recording_one, recording_one)
        return timed(model, lambda step: "recording", lambda iterator, kind: execution(iterator))
    if schedule.first_only and model.plan.n_recorded > 1:
        mask = tf.constant(model.plan.mask)
        last = model.plan.steps - 1
        records = lambda iterations: tf.gather(mask, tf.minimum(tf.cast(iterations, tf.int32), last))  # noqa: E731
        execution = conditional_train_function(model, recording_step, records)
        return timed(model, schedule.kind, lambda iterator, kind: execution(iterator), one_function=True)
    recording_one = one_step_function(model, recording_step)
    plain_one = one_step_function(model, plain_step)
    plain = execution_function(model, plain_one, plain_one)
    recording = execution_function(model, recording_one, recording_one)
    return timed(model, schedule.kind, lambda iterator, kind: (recording if kind == "recording" else plain)(iterator))


def conditional_train_function(model, step, records):
    """fit's train function for `model` from one step, `step(data, record)`, that takes the per-layer
    statistics only where the boolean tensor `record` holds: on an execution's first step where
    `records(the optimizer's iteration count)` holds, never on later ones. Traced once, whatever the
    steps to record: the rule is computed in-graph, no plan of them is baked into it."""
    one = one_step_function(model, step)
    first = tf.function(lambda data: one(data, records(model.optimizer.iterations)), autograph=False)
    later = tf.function(lambda data: one(data, tf.constant(False)), autograph=False)
    return execution_function(model, first, later)


def one_step_function(model, step):
    run = model.distribute_strategy.run
    # autograph=False: the step has no tensor-dependent Python control flow, and converting it (and every
    # Keras call inside) is most of the cost of tracing it.
    return tf.function(lambda data, *flags: run(step, args=(data, *flags)), reduce_retracing=True, autograph=False)


def timed(model, kind_at, execution, one_function: bool = False):
    """`execution(iterator, kind)` timed into `model.execution_times` under `kind_at(step)`, the kind of
    the execution that starts at the model's next step, which it advances. `one_function`: both kinds
    run one traced function, so only the very first call traces."""

    def train_function(iterator):
        step = model.next_step
        model.next_step = step + model.steps_per_execution
        kind = kind_at(step)
        started = time.perf_counter()
        logs = execution(iterator, kind)
        model.execution_times.add(kind, time.perf_counter() - started, "any" if one_function else kind)
        return logs

    return train_function


class ExecutionTimes:
    """Seconds each kind of execution took, in the order they ran (a call returns when its steps are
    done: TensorFlow runs functions synchronously on the host). The first call of each kind is left out:
    it traces (which `setup_s` counts), and later runs of a reused model never see it."""

    def __init__(self):
        self.seconds: dict[str, list[float]] = {"plain": [], "recording": []}
        self.traced: set[str] = set()

    def add(self, kind: str, seconds: float, function: str | None = None) -> None:
        """`function`: which traced function ran (default: one per kind); its first call is left out."""
        function = function or kind
        if function in self.traced:
            self.seconds[kind].append(seconds)
        self.traced.add(function)

    def clear(self) -> None:
        """Start a new run's account; what was traced stays traced."""
        self.seconds = {"plain": [], "recording": []}

    def step_seconds(self) -> float:
        return float(sum(map(sum, self.seconds.values())))

    def monitor_seconds(self) -> float:
        """What the per-layer statistics added to this run's steps: each timed recording execution's
        excess over the median plain one of the same run; NaN without both kinds to compare."""
        plain, recording = self.seconds["plain"], self.seconds["recording"]
        if not plain or not recording:
            return float("nan")
        return float(np.sum(np.asarray(recording) - np.median(plain)))


def execution_function(model, first_one, later_one):
    """(iterator) -> logs: `first_one` (a traced step) on the next batch, then `later_one` on up to
    steps_per_execution - 1 more, stopping early where the data ends. The same loop for every kind of
    execution, so a plain step costs the same in every mode (Keras' own loop, which wraps each step
    in two conditionals, is slower than this one for small models)."""
    count = model.steps_per_execution

    @tf.function(reduce_retracing=True)
    @tf.autograph.experimental.do_not_convert
    def on_dataset(iterator):
        if count == 1:  # the step traced straight into this function: no nested function to trace and inline
            return first_one.python_function(iterator.get_next())
        outputs = first_one(iterator.get_next())

        def more(i, outputs, upcoming):
            return tf.logical_and(i < count, upcoming.has_value())

        def step(i, outputs, upcoming):
            outputs = later_one(upcoming.get_value())
            # Fetch the next batch only if this execution will use it: the iterator is shared.
            upcoming = tf.cond(i + 1 < count, iterator.get_next_as_optional, lambda: upcoming)
            return i + 1, outputs, upcoming

        _, outputs, _ = tf.while_loop(more, step, [tf.constant(1), outputs, iterator.get_next_as_optional()])
        return outputs

    def execution(iterator):
        if isinstance(iterator, (tf.data.Iterator, tf.distribute.DistributedIterator)):
            return on_dataset(iterator)
        for index, data in zip(range(count), iterator, strict=False):  # a Python iterator (PyDataset)
            outputs = (first_one if index == 0 else later_one)(data)
        return outputs

    return execution
