"""tfbench.monitored in a user's loop of `fit` calls: what it records, and that it traces once.

Users call `fit` an epoch or a few updates at a time, with their own logic in between. The records
of such a loop are checked against a plain tape (harness_reference.py) that replays the same batches
with SGD written out in numpy; the traces of the train step are counted by the calls of its Python
body, against plain Keras' on the same loop.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from harness_reference import brute_force, layer_names, norm

import tfbench
from tfbench.harness.model import MonitoredModel
from tfbench.spec.setup import Setup
from tfbench.user import ring
from tfbench.user.monitored import every_rule

SETUP = Setup(depth=2, width=8, activation="tanh", learning_rate=0.1, batch_size=16)
EVERY = 2
FIT_UPDATES = [3, 7, 5, 4, 6]  # a loop of fit calls of uneven length
VALIDATED = {1, 3}  # the fit calls given validation_data
VALIDATION = slice(-48, None)  # held-out examples of digits' training split, never trained on


def user_model() -> keras.Model:
    keras.utils.set_random_seed(4)
    hidden = [keras.layers.Dense(SETUP.width, activation="tanh", name=n) for n in layer_names(SETUP)[:-1]]
    return keras.Sequential([keras.Input((64,)), *hidden, keras.layers.Dense(10, activation="softmax", name="output")])


def initial_weights(model) -> dict:
    return {n: tuple(w.numpy().copy() for w in model.get_layer(n).weights) for n in layer_names(SETUP)}


def compile_for(model, per_execution: int) -> None:
    model.compile(
        optimizer=keras.optimizers.SGD(SETUP.learning_rate),
        loss="sparse_categorical_crossentropy",
        steps_per_execution=per_execution,
    )


def fit_loop(model, digits, per_execution: int, updates=FIT_UPDATES):
    """The loop of `fit` calls on consecutive batches; returns the batches in the order trained."""
    compile_for(model, per_execution)
    x_val, y_val = digits.x_train[VALIDATION], digits.y_train[VALIDATION]
    start, batches = 0, []
    for call, count in enumerate(updates):
        stop = start + count * SETUP.batch_size
        x, y = digits.x_train[start:stop], digits.y_train[start:stop]
        extra = {"validation_data": (x_val, y_val)} if call in VALIDATED else {}
        model.fit(x, y, batch_size=SETUP.batch_size, shuffle=False, verbose=0, **extra)
        batches += [
            (x[i : i + SETUP.batch_size], y[i : i + SETUP.batch_size]) for i in range(0, len(x), SETUP.batch_size)
        ]
        start = stop
    return batches


def reference_loop(weights, batches):
    """The tape's results on every batch, with plain SGD applied in numpy after each."""
    current, results = dict(weights), []
    for x, y in batches:
        result = brute_force(SETUP, current, x, y)
        results.append((dict(current), result))
        lr = SETUP.learning_rate
        current = {
            n: (k - lr * result["kernel_grads"][n], b - lr * result["bias_grads"][n]) for n, (k, b) in current.items()
        }
    return results, current


def expected_recorded(updates, every: int, per_execution: int) -> list[int]:
    """The first step of every execution (each fit call starts its own) that holds a multiple of every."""
    recorded, start = [], 0
    for count in updates:
        for first in range(start, start + count, per_execution):
            if any(step % every == 0 for step in range(first, min(first + per_execution, start + count))):
                recorded.append(first)
        start += count
    return recorded


def test_the_record_rule_picks_execution_starts_holding_a_multiple_of_every():
    for every in range(1, 6):
        for per_execution in range(1, 5):
            rule = every_rule(every, per_execution)
            starts = tf.range(40, dtype=tf.int64)
            expected = [any((s + i) % every == 0 for i in range(per_execution)) for s in range(40)]
            assert [bool(rule(s)) for s in range(40)] == expected
            assert rule(starts).numpy().tolist() == expected


@pytest.fixture
def small_rings(monkeypatch):
    """Rings far smaller than a fit call's steps: the records survive draining in mid-epoch."""
    monkeypatch.setattr(ring, "STEP_ROWS", 4)
    monkeypatch.setattr(ring, "LAYER_ROWS", 1)


@pytest.mark.parametrize("per_execution", [1, 4])
@pytest.mark.parametrize("rings", ["default", "small"])
def test_a_loop_of_fits_records_what_a_plain_tape_computes(digits, request, per_execution, rings):
    if rings == "small":
        request.getfixturevalue("small_rings")
    model = user_model()
    weights = initial_weights(model)
    monitor = tfbench.monitored(model, every=EVERY)
    batches = fit_loop(monitor, digits, per_execution)
    results, _ = reference_loop(weights, batches)
    _, steps, layers = monitor.records()

    trained = steps.dropna(subset=["loss"]).set_index("step")
    assert list(trained.index) == list(range(sum(FIT_UPDATES)))
    np.testing.assert_allclose(trained["loss"], [r["loss"] for _, r in results], rtol=1e-4)
    np.testing.assert_allclose(trained["global_grad_norm"], [r["global_norm"] for _, r in results], rtol=1e-4)

    assert sorted(set(layers["step"])) == expected_recorded(FIT_UPDATES, EVERY, per_execution)
    for row in layers.itertuples():
        before, result = results[row.step]
        assert row.kernel_grad_norm == pytest.approx(norm(result["kernel_grads"][row.layer]), rel=1e-4)
        assert row.act_grad_norm == pytest.approx(norm(result["deltas"][row.layer]), rel=1e-4)
        assert row.kernel_norm == pytest.approx(norm(before[row.layer][0]), rel=1e-5)


def test_validation_after_a_fit_call_is_the_held_out_loss_at_that_step(digits):
    model = user_model()
    weights = initial_weights(model)
    monitor = tfbench.monitored(model, every=EVERY)
    batches = fit_loop(monitor, digits, 1)
    results, _ = reference_loop(weights, batches)
    _, steps, _ = monitor.records()
    ends = np.cumsum(FIT_UPDATES)
    x_val, y_val = digits.x_train[VALIDATION], digits.y_train[VALIDATION]
    validated = steps.dropna(subset=["val_loss"]).set_index("step")
    assert list(validated.index) == [int(ends[call]) for call in sorted(VALIDATED)]
    for step in validated.index:  # the weights after `step` updates are those the next step starts from
        expected = brute_force(SETUP, results[step][0], x_val, y_val)["loss"]
        assert validated.loc[step, "val_loss"] == pytest.approx(expected, rel=1e-4)


def counted(function, counts: list):
    def body(*args, **kwargs):
        counts[-1] += 1
        return function(*args, **kwargs)

    return body


@pytest.mark.parametrize("per_execution", [1, 4])
def test_fit_calls_after_the_first_trace_the_train_step_no_more_than_plain_keras(digits, monkeypatch, per_execution):
    """Ten fit calls of uneven length, later ones longer than all before (which used to grow the
    buffers), with validation on some: one trace of the step in all, as plain Keras."""
    updates = [3, 7, 5, 4, 6, 9, 3, 12, 5, 20]
    monitored_traces = []
    for name in ("train_step", "recording_step"):
        monkeypatch.setattr(MonitoredModel, name, counted(getattr(MonitoredModel, name), monitored_traces))
    plain, plain_traces = user_model(), []
    plain.train_step = counted(plain.train_step, plain_traces)
    monitor = tfbench.monitored(user_model(), every=EVERY)
    for model, traces in ((plain, plain_traces), (monitor, monitored_traces)):
        compile_for(model, per_execution)
        for count in updates:
            traces.append(0)
            fit_more(model, digits, count)
    assert plain_traces == [1] + [0] * 9
    assert monitored_traces == plain_traces
    _, steps, layers = monitor.records()
    assert steps["loss"].notna().sum() == sum(updates)
    assert len(layers) > 0


def fit_more(model, digits, count: int) -> None:
    x, y = digits.x_train[: count * SETUP.batch_size], digits.y_train[: count * SETUP.batch_size]
    val = (digits.x_train[VALIDATION], digits.y_train[VALIDATION]) if count % 2 else None
    model.fit(x, y, batch_size=SETUP.batch_size, shuffle=False, verbose=0, validation_data=val)


def test_a_step_recorded_again_after_the_iteration_count_was_set_back_replaces_its_record(digits):
    """Setting `optimizer.iterations` back (a benchmark's rounds) records the same steps anew."""
    monitor = tfbench.monitored(user_model(), every=EVERY)
    fit_loop(monitor, digits, 1, updates=[4])
    first = monitor.records()[1]
    monitor.optimizer.iterations.assign(0)
    monitor.fit(digits.x_train[:64], digits.y_train[:64], batch_size=16, shuffle=False, verbose=0)
    _, steps, layers = monitor.records()
    assert list(steps["step"]) == [0, 1, 2, 3] and sorted(set(layers["step"])) == [0, 2]
    assert not np.allclose(steps["loss"], first["loss"])  # the weights moved on: new losses replaced the old
