"""Monitor modes: which steps get per-layer rows under none, standard and full (docs/design.md §5)."""

from __future__ import annotations

import dataclasses

import numpy as np
from harness_reference import (
    BASE,
    SEED,
    layer_names,
)

from tfbench.harness.plan import STANDARD_RECORDED_STEPS, RecordPlan
from tfbench.harness.train import train_run

# ---------------------------------------------------------------------------------------------
# Monitor modes


def test_mode_none_records_layer_rows_at_step_0_only_and_every_step_scalar():
    result = train_run(dataclasses.replace(BASE, steps=4, eval_every=2), SEED, mode="none")
    assert sorted(result.layers_table["step"].unique()) == [0]
    assert len(result.layers_table) == BASE.depth + 1
    training = result.steps_table.dropna(subset=["loss"])
    assert list(training["step"]) == [0, 1, 2, 3]


def test_mode_full_records_every_step_for_every_layer():
    result = train_run(dataclasses.replace(BASE, steps=4, eval_every=2), SEED, mode="full")
    table = result.layers_table
    assert len(table) == 4 * (BASE.depth + 1)
    for name in layer_names(BASE):
        assert list(table.loc[table["layer"] == name, "step"]) == [0, 1, 2, 3]
    assert table[list(table.columns[3:8])].notna().all().all()


def test_mode_standard_records_at_most_200_evenly_spread_steps_including_first_and_last():
    plan = RecordPlan.for_mode(600, "standard")
    recorded = plan.recorded
    assert len(recorded) <= STANDARD_RECORDED_STEPS == 200
    assert len(recorded) >= 190  # "about 200"
    assert recorded[0] == 0 and recorded[-1] == 599
    assert np.all(np.diff(recorded) > 0)
    assert np.diff(recorded).max() <= 4  # evenly spaced: 599 / 199 ≈ 3
    assert plan.mask.sum() == len(recorded) and plan.mask[0] and plan.mask[599]
    assert list(plan.slots[recorded]) == list(range(len(recorded)))
    assert np.all(plan.slots[~plan.mask] == -1)


def test_mode_standard_on_a_short_run_records_every_step_and_full_is_every_step():
    np.testing.assert_array_equal(RecordPlan.for_mode(50, "standard").recorded, np.arange(50))
    np.testing.assert_array_equal(RecordPlan.for_mode(600, "full").recorded, np.arange(600))
    np.testing.assert_array_equal(RecordPlan.for_mode(600, "none").recorded, [0])
