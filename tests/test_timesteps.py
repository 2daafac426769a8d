"""The input gradient per time step of recurrent models (tfbench/harness/timesteps.py), its records
(timesteps.parquet) and its figure, against a brute-force computation: one tape per example."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfbench.data.batches import batch_indices
from tfbench.data.loading import load_data
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.harness.timesteps import InputGradients
from tfbench.harness.train import train_run
from tfbench.records import store as records
from tfbench.report import plots
from tfbench.spec.setup import Setup

SEED = 2
TINY = Setup(model="rnn", depth=1, width=4, data="adding:6", batch_size=8, steps=4, eval_every=2,
             optimizer="adam", learning_rate=0.01)  # fmt: skip


def brute_force_norms(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """‖∂L/∂x[:, t, :]‖ with L the batch mean of per-example losses: each example's gradient from
    its own tape on a batch of one, divided by the batch size."""
    loss_fn = tf.keras.losses.MeanSquaredError()
    rows = []
    for i in range(len(x)):
        xi = tf.constant(x[i : i + 1])
        with tf.GradientTape() as tape:
            tape.watch(xi)
            loss = loss_fn(y[i : i + 1], model(xi, training=False))
        rows.append(tape.gradient(loss, xi).numpy()[0] / len(x))  # [time, features]
    gradients = np.stack(rows).astype(np.float64)
    return np.sqrt((gradients**2).sum(axis=(0, 2)))


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_input_gradient_per_time_step_matches_one_tape_per_example(cell):
    setup = dataclasses.replace(TINY, cell=cell)
    data = load_data(setup.data)
    model = build_model(setup, data, SEED, RecordPlan.for_mode(setup.steps, "none"))
    table = InputGradients(model, data, setup.batch_size, SEED).table(3)
    rows = batch_indices(len(data.x_train), setup.batch_size, 4, SEED)[3]  # batch 3 of the seed's stream
    expected = brute_force_norms(model, data.x_train[rows], data.y_train[rows])
    assert list(table.columns) == ["step", "timestep", "input_grad_norm"]
    assert (table["step"] == 3).all() and table["timestep"].tolist() == list(range(6))
    np.testing.assert_allclose(table["input_grad_norm"], expected, rtol=1e-4)
    assert expected.max() > 2 * expected.min()  # the norms differ across time: a check that can fail


def test_an_rnn_run_records_time_steps_at_step_0_and_after_the_last_update():
    result = train_run(TINY, SEED, mode="none")
    table = result.timesteps_table
    assert sorted(table["step"].unique()) == [0, TINY.steps]
    assert len(table) == 2 * 6 and np.isfinite(table["input_grad_norm"]).all()
    # step 0 is measured with the initial weights on batch 0
    data = load_data(TINY.data)
    model = build_model(TINY, data, SEED, RecordPlan.for_mode(TINY.steps, "none"))
    rows = batch_indices(len(data.x_train), TINY.batch_size, 1, SEED)[0]
    expected = brute_force_norms(model, data.x_train[rows], data.y_train[rows])
    np.testing.assert_allclose(table[table.step == 0]["input_grad_norm"], expected, rtol=1e-4)
    # the steps the optimizer took changed the gradient
    first, last = (table[table.step == s]["input_grad_norm"].to_numpy() for s in (0, TINY.steps))
    assert not np.allclose(first, last)


def test_the_time_step_computation_draws_no_random_numbers_and_changes_no_state():
    # Dropout's seed generators are variables: a draw would shift the masks the training run sees.
    setup = dataclasses.replace(TINY, dropout=0.3)
    model = build_model(setup, load_data(setup.data), SEED, RecordPlan.for_mode(setup.steps, "none"))
    state = [v for v in model.net.non_trainable_variables if "seed" in v.path]
    assert state  # the recurrent layer's dropout seed generator
    before = [v.numpy().copy() for v in model.net.variables]
    InputGradients(model, load_data(setup.data), setup.batch_size, SEED).table(0)
    for variable, value in zip(model.net.variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)


def test_mlp_runs_have_no_time_step_records():
    assert train_run(Setup(depth=1, width=4, steps=2, eval_every=2), SEED, mode="none").timesteps_table is None


def test_time_step_records_round_trip_and_only_they_get_the_figure(tmp_path):
    result = train_run(TINY, SEED, mode="none")
    keys = {"suite": "rnn", "variant": "simple_rnn", "seed": SEED}
    state = records.SuiteRecords(
        runs=pd.DataFrame([{**keys, "status": "ok", "metric_name": "mae"}]),
        steps=result.steps_table.assign(**keys),
        layers=result.layers_table.assign(**keys),
        timesteps=result.timesteps_table.assign(**keys),
    )
    records.write_suite(tmp_path, state)
    loaded = records.read_suite(tmp_path)
    assert list(loaded.timesteps.columns) == list(records.TIMESTEP_COLUMNS)
    assert loaded.timesteps["timestep"].dtype == np.int64
    np.testing.assert_allclose(loaded.timesteps["input_grad_norm"], result.timesteps_table["input_grad_norm"])
    assert "input_gradient_vs_timestep" in plots.suite_figures(loaded, "mae")
    # without time steps: no file, no figure
    other = tmp_path / "mlp"
    records.write_suite(other, dataclasses.replace(state, timesteps=records.SuiteRecords.empty().timesteps))
    assert not (other / records.TIMESTEPS_FILE).exists()
    assert list(plots.suite_figures(records.read_suite(other), "mae")) == list(plots.FIGURE_NAMES)
    # rewritten without time steps (say every run now failed): the earlier file goes with its runs
    records.write_suite(tmp_path, dataclasses.replace(state, timesteps=records.SuiteRecords.empty().timesteps))
    assert not (tmp_path / records.TIMESTEPS_FILE).exists()


def test_the_figure_leaves_out_time_steps_where_a_seed_underflowed():
    from tfbench.report.timestep_plots import input_gradient_vs_timestep

    rows = pd.DataFrame({
        "variant": "a", "seed": [0, 0, 0, 1, 1, 1], "step": 0, "timestep": [0, 1, 2, 0, 1, 2],
        "input_grad_norm": [0.0, 1e-4, 1e-2, 1e-6, 1e-2, 1.0],
    })  # fmt: skip
    figure = input_gradient_vs_timestep(rows, {"a": (0, 0, 1)})
    (line,) = figure.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])  # timestep 0: seed 0 is 0, left out
    np.testing.assert_allclose(line.get_ydata(), [1e-3, 1e-1])  # geometric means
