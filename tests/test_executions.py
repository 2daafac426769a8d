"""Recorded and plain steps dispatched per execution on the host (harness/executions.py): a step that
records nothing trains exactly as a recording one does, and a recorded step's row is the one `full`
mode writes for it — checked against full mode, which records every step in one traced function."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from harness_reference import BASE, SEED

from tfbench.data.batches import train_batches
from tfbench.harness.build import build_model
from tfbench.harness.executions import ExecutionSchedule, ExecutionTimes
from tfbench.harness.plan import RecordPlan, steps_per_execution
from tfbench.harness.record_tables import layers_table
from tfbench.harness.train import train_run

# 120 updates in chunks of 40: 10 steps per execution, so `standard` records execution starts only.
LONG = dataclasses.replace(BASE, steps=120, eval_every=40)
MEASURES = ["kernel_grad_norm", "bias_grad_norm", "act_grad_norm", "kernel_norm", "update_ratio", "dead_fraction"]


def test_standard_records_only_execution_starts_when_an_execution_holds_several_steps():
    per_execution = steps_per_execution(LONG.steps, LONG.effective_eval_every)
    assert per_execution == 10
    plan = RecordPlan.for_setup(LONG, "standard")  # every other one of 12 executions, first and last
    np.testing.assert_array_equal(plan.recorded, [0, 20, 40, 70, 90, 110])
    np.testing.assert_array_equal(RecordPlan.for_mode(30, "standard", per_execution=1).recorded, np.arange(30))
    long = RecordPlan.for_mode(6000, "standard", per_execution=10)
    assert len(long.recorded) == 200 and long.recorded[-1] == 5990 and np.all(long.recorded % 10 == 0)
    assert len(RecordPlan.for_mode(600, "standard", per_execution=15).recorded) == 20


def test_schedule_marks_the_executions_that_hold_a_recorded_step():
    aligned = ExecutionSchedule(RecordPlan(steps=40, recorded=np.array([0, 20])), per_execution=10)
    assert [aligned.records(step) for step in (0, 10, 20, 30, 40)] == [True, False, True, False, False]
    assert aligned.first_only and not aligned.every_step
    unaligned = ExecutionSchedule(RecordPlan(steps=40, recorded=np.array([0, 25])), per_execution=10)
    assert [unaligned.records(step) for step in (0, 10, 20, 30)] == [True, False, True, False]
    assert not unaligned.first_only
    assert not ExecutionSchedule(RecordPlan(steps=40, recorded=np.array([0])), per_execution=1).first_only


@pytest.fixture(scope="module")
def by_mode():
    return {mode: train_run(LONG, SEED, mode=mode) for mode in ("none", "standard", "full")}


def test_every_mode_trains_the_same_weights_step_for_step(by_mode):
    """The plain step and the recording step apply the same update: loss, gradient norm and validation
    of every step agree across modes, whichever function ran the step."""
    full = by_mode["full"].steps_table
    for mode in ("none", "standard"):
        pd.testing.assert_frame_equal(by_mode[mode].steps_table, full, rtol=1e-6)


def test_standard_rows_are_full_rows_at_the_same_steps(by_mode):
    standard, full = by_mode["standard"].layers_table, by_mode["full"].layers_table
    assert sorted(standard["step"].unique()) == [0, 20, 40, 70, 90, 110]
    expected = full[full["step"].isin(standard["step"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(standard[["step", "layer", *MEASURES]], expected[["step", "layer", *MEASURES]],
                                  rtol=1e-5)  # fmt: skip


def test_a_plan_not_aligned_with_executions_still_records_its_steps(digits):
    """Steps 5 and 37 fall inside executions of 10: those executions record every step, and the rows
    of the plan's steps are full mode's."""
    plan = RecordPlan(steps=LONG.steps, recorded=np.array([5, 37]))
    rows = {}
    for name, used in (("unaligned", plan), ("full", RecordPlan.for_mode(LONG.steps, "full"))):
        model = build_model(LONG, digits, SEED, used)
        chunk = LONG.effective_eval_every
        model.fit(train_batches(digits, LONG.batch_size, LONG.steps, SEED), epochs=LONG.steps // chunk,
                  steps_per_epoch=chunk, verbose=0, shuffle=False)  # fmt: skip
        table = layers_table(model, used, LONG.steps - 1)
        rows[name] = table[table["step"].isin([5, 37])].reset_index(drop=True)[["step", "layer", *MEASURES]]
    assert sorted(rows["unaligned"]["step"].unique()) == [5, 37]
    pd.testing.assert_frame_equal(rows["unaligned"], rows["full"], rtol=1e-5)


def test_execution_times_give_the_monitor_cost_against_the_runs_own_plain_executions():
    times = ExecutionTimes()
    for kind, seconds in [("plain", 9.0), ("recording", 9.0), ("plain", 1.0), ("plain", 1.2), ("plain", 1.1),
                          ("recording", 1.5), ("recording", 1.3)]:  # fmt: skip
        times.add(kind, seconds)  # the first call of each kind traces: left out
    assert times.step_seconds() == pytest.approx(1.0 + 1.2 + 1.1 + 1.5 + 1.3)
    assert times.monitor_seconds() == pytest.approx((1.5 - 1.1) + (1.3 - 1.1))
    times.clear()
    times.add("recording", 2.0)  # a reused model: nothing to trace, but no plain execution to compare
    assert times.step_seconds() == 2.0 and np.isnan(times.monitor_seconds())


def test_runs_record_step_and_monitor_seconds(by_mode):
    standard, full = by_mode["standard"], by_mode["full"]
    assert 0 < standard.step_s < standard.wall_s and np.isfinite(standard.monitor_s)
    assert 0 < full.step_s < full.wall_s and np.isnan(full.monitor_s)  # nothing unrecorded to compare with


@pytest.mark.parametrize(("mode", "steps"), [("standard", ["recording"]), ("full", ["recording"]),
                                             ("none", ["recording", "plain"])])  # fmt: skip
def test_standard_traces_one_step_and_none_keeps_the_plain_step(monkeypatch, mode, steps):
    """Tracing costs about as much per step function as the rest of a model's setup: `standard`
    traces the recording step alone (its statistics behind a cond), while `none`, the baseline the
    monitor's cost is measured against, runs every step after the first as the plain step."""
    from tfbench.harness import executions
    from tfbench.harness.model_cache import ModelCache

    built = []
    original = executions.one_step_function

    def spy(model, step):
        built.append(step.__name__.replace("train_step", "plain").replace("recording_step", "recording"))
        return original(model, step)

    monkeypatch.setattr(executions, "one_step_function", spy)
    monkeypatch.setattr("tfbench.harness.train.MODELS", ModelCache())  # a fresh build, whatever ran before
    assert train_run(LONG, SEED, mode=mode).status == "ok"
    assert built == steps
