"""The gradient ratio back through time (runs.csv `log10_time_ratio`, docs/design.md §6–§7): the column
against a plain-Keras GradientTape recomputation, the verdict and its evidence on constructed cases,
NaN outside recurrent models, and older runs.csv without the column in `compare`."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tfbench_cli import BASELINE

from tfbench.analysis.verdict import DECADES, judge_step
from tfbench.compare.comparison import compare
from tfbench.compare.output import terminal_text
from tfbench.data.batches import batch_indices
from tfbench.data.loading import load_data
from tfbench.engine.runner import run_variant
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.records import store as records
from tfbench.report import tables
from tfbench.spec.setup import Setup
from tfbench.spec.suite import Suite

SEED = 3
LENGTH = 12
TINY = Setup(model="rnn", depth=1, width=4, data=f"adding:{LENGTH}", batch_size=16, steps=4, eval_every=2,
             optimizer="adam", learning_rate=0.01)  # fmt: skip
CELLS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def run_of(setup: Setup, level: str, factor: str = "cell") -> dict:
    suite = Suite(name="tiny", factor=factor, question="?", base=setup, levels=[level])
    (variant,) = suite.variants()
    row, *_ = run_variant(suite, variant, variant.setup, SEED, monitor="none")
    assert row["status"] == "ok", row.get("error")
    return row


def plain_keras_time_ratio(setup: Setup) -> float:
    """log10 ‖∂L/∂x_1‖ / ‖∂L/∂x_T‖ on batch 0 with the initial weights: the same cell and output layer
    rebuilt in plain Keras, the harness's initial weights copied in, and one tape on the MSE loss."""
    data = load_data(setup.data)
    harness_net = build_model(setup, data, SEED, RecordPlan.for_mode(setup.steps, "none")).net
    cell = CELLS[setup.cell](setup.width, activation=setup.activation)
    plain = keras.Sequential([keras.Input(data.input_shape), cell, keras.layers.Dense(1)])
    plain.layers[0].set_weights(harness_net.get_layer(f"{setup.cell}_1").get_weights())
    plain.layers[1].set_weights(harness_net.get_layer("output").get_weights())
    rows = batch_indices(len(data.x_train), setup.batch_size, 1, SEED)[0]
    x = tf.constant(data.x_train[rows], dtype=tf.float32)
    y = tf.constant(data.y_train[rows], dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_mean(tf.square(plain(x) - y))
    gradient = tape.gradient(loss, x).numpy().astype(np.float64)  # [batch, time, features]
    first, last = np.linalg.norm(gradient[:, 0, :]), np.linalg.norm(gradient[:, -1, :])
    return math.log10(first / last)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_the_column_is_the_input_gradient_ratio_of_the_first_and_last_time_step_at_step_0(cell):
    row = run_of(TINY, cell)
    expected = plain_keras_time_ratio(dataclasses.replace(TINY, cell=cell))
    assert row["log10_time_ratio"] == pytest.approx(expected, abs=1e-3)
    assert expected < -0.5  # the early inputs matter less: a value the check can miss


def test_an_mlp_run_has_no_time_ratio():
    row = run_of(Setup(depth=2, width=4, steps=2, eval_every=2), "relu", factor="activation")
    assert math.isnan(row["log10_time_ratio"])


def test_the_column_is_written_and_read_back_and_is_claimable(tmp_path):
    from tfbench.spec.claim import CLAIM_COLUMNS, Claim

    assert "log10_time_ratio" in records.RUN_COLUMNS and "log10_time_ratio" in CLAIM_COLUMNS
    Claim(text="GRU keeps the early inputs", better="gru", than="simple_rnn", on="log10_time_ratio", source="x")
    row = {"suite": "s", "variant": "gru", "seed": 0, "status": "ok", "log10_time_ratio": -9.25}
    records.write_suite(tmp_path, records.SuiteRecords.empty().with_run(row))
    assert records.read_runs(tmp_path)["log10_time_ratio"].tolist() == [-9.25]


# --------------------------------------------------------------------------------------------- verdict


def rnn_layers(kernel=(1.0, 1.0, 1.0), delta=(1.0, 1.0, 1.0)) -> pd.DataFrame:
    """Layer rows of one step of a two-layer recurrent model (depth 3 is the output layer)."""
    return pd.DataFrame({"depth": [1, 2, 3], "layer": ["gru_1", "gru_2", "output"], "kernel_grad_norm": kernel,
                         "act_grad_norm": delta, "nonfinite": 0.0, "step": 0})  # fmt: skip


def time_steps(decades_per_step: float, length: int = 100, step: int = 0) -> pd.DataFrame:
    """‖∂L/∂x_t‖ changing by a constant factor per step back in time: log10 ratio of the first to the
    last = −decades_per_step · (length − 1)."""
    t = np.arange(length)
    norms = 10.0 ** (-decades_per_step * (length - 1 - t))
    return pd.DataFrame({"step": step, "timestep": t, "input_grad_norm": norms})


def test_vanishing_through_time_names_the_time_steps():
    # 0.094 decades per step over 99 steps back: 10^-9.3
    verdict, reason, kernel, delta = judge_step(rnn_layers(), time_steps(0.094))
    assert (verdict, kernel, delta) == ("vanishing", 0.0, 0.0)
    assert reason == "‖∂L/∂x_1‖ is 10^-9.3 of ‖∂L/∂x_100‖ (time steps 1 vs 100)"


def test_exploding_through_time_names_the_time_steps():
    verdict, reason, *_ = judge_step(rnn_layers(), time_steps(-0.06, length=50))  # +2.94 decades
    assert verdict == "exploding"
    assert reason == "‖∂L/∂x_1‖ is 10^+2.9 of ‖∂L/∂x_50‖ (time steps 1 vs 50)"


def test_within_two_decades_through_time_is_healthy_and_the_larger_magnitude_decides():
    assert judge_step(rnn_layers(), time_steps(DECADES / 99 * 0.99))[0] == "healthy"  # -1.98 decades
    # across depth −3 decades (kernel) against −2.5 through time: the kernel decides
    verdict, reason, *_ = judge_step(rnn_layers(kernel=(1e-3, 1.0, 1.0)), time_steps(2.5 / 99))
    assert verdict == "vanishing" and reason.startswith("kernel")
    # +2.2 across depth (δ) against −4 through time: time decides
    verdict, reason, *_ = judge_step(rnn_layers(delta=(10**2.2, 1.0, 1.0)), time_steps(4 / 99))
    assert verdict == "vanishing" and "time steps 1 vs 100" in reason
    # without time-step rows (not a recurrent model) the verdict is the one across depth
    assert judge_step(rnn_layers(delta=(10**2.2, 1.0, 1.0)))[0] == "exploding"


def test_the_report_names_the_time_step_that_triggered_each_verdict():
    keys = {"variant": "gru", "seed": 0}
    runs = pd.DataFrame([{**keys, "level": "gru", "status": "ok", "verdict": "vanishing", "verdict_end": "healthy",
                          "final_metric": 0.1, "final_loss": 0.1, "log10_grad_ratio": 0.0,
                          "log10_time_ratio": -9.3, "steps_per_s": 100.0}])  # fmt: skip
    layers = pd.concat([rnn_layers().assign(step=0), rnn_layers().assign(step=29)]).assign(**keys)
    timesteps = pd.concat([time_steps(0.094), time_steps(0.01, step=30)]).assign(**keys)
    table = tables.comparison_table(runs, layers, "gru", higher_is_better=False, timesteps=timesteps)
    row = table.iloc[0]
    assert row["verdict_trigger"] == (
        "‖∂L/∂x_1‖ is 10^-9.3 of ‖∂L/∂x_100‖ (time steps 1 vs 100) at step 0 of seed 0 (beyond ±2 decades)"
    )
    assert row["verdict_end_trigger"].startswith("‖∂L/∂x_1‖ is 10^-1.0 of ‖∂L/∂x_100‖ (time steps 1 vs 100) at step 30")
    assert row["log10_time_ratio_mean"] == pytest.approx(-9.3)
    assert "log10 time ratio" in tables.summary_markdown(table, "t")
    for without in (runs.assign(log10_time_ratio=math.nan), runs.drop(columns="log10_time_ratio")):  # older runs.csv
        table = tables.comparison_table(without, layers, "gru", higher_is_better=False)
        assert "log10 time ratio" not in tables.summary_markdown(table, "t")


# --------------------------------------------------------------------------------------------- compare


def with_time_ratio(folder: Path, suite: str, values: dict) -> None:
    runs = records.read_runs(folder / suite)
    runs["log10_time_ratio"] = runs["variant"].map(values)
    runs.to_csv(folder / suite / records.RUNS_FILE, index=False)


def test_compare_tolerates_a_baseline_without_the_column_and_gates_it_where_both_have_it(tmp_path):
    old = Path(shutil.copytree(BASELINE, tmp_path / "old"))  # a baseline written before the column
    for suite in records.suite_names(old):
        runs = records.read_runs(old / suite).drop(columns="log10_time_ratio")
        runs.to_csv(old / suite / records.RUNS_FILE, index=False)
    assert "log10_time_ratio" not in records.read_runs(old / "recurrent_20")
    current = Path(shutil.copytree(BASELINE, tmp_path / "current"))
    with_time_ratio(current, "recurrent_20", {"simple_rnn": -3.0, "lstm": -9.0, "gru": -18.0})
    comparison = compare(old, current)
    assert comparison.regressions.empty
    assert any(note.startswith("log10_time_ratio: not in BASE's runs.csv") for note in comparison.notes)
    assert "time Δ" not in terminal_text(comparison)  # nothing compared: no column
    # both sides have it: a move 0.5 decades farther from 0 is beyond the grad floor of 0.25
    moved = Path(shutil.copytree(current, tmp_path / "moved"))
    with_time_ratio(moved, "recurrent_20", {"simple_rnn": -3.0, "lstm": -9.5, "gru": -18.1})
    comparison = compare(current, moved)
    assert list(comparison.regressions.variant) == ["lstm"]
    assert comparison.regressions.iloc[0].regressions == ["log10_time_ratio"]
    assert "time Δ" in terminal_text(comparison)
    assert compare(current, moved, "grad:0.6").regressions.empty


def test_an_input_gradient_far_below_float32_squares_is_measured_not_zero():
    # y_pred = Σ_t w_t x_t with w_0 = 1e-25: ∂L/∂x_0 ≈ 1e-25, whose float32 square underflows to zero
    from types import SimpleNamespace

    from tfbench.harness.timesteps import InputGradients

    weights = np.array([1e-25, 1e-3, 1.0], dtype=np.float32)
    inputs = keras.Input((3, 1))
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs)))
    model.layers[-1].set_weights([weights[:, None]])
    model.compile(loss="mse")
    x = np.ones((4, 3, 1), dtype=np.float32)
    y = np.zeros((4, 1), dtype=np.float32)
    table = InputGradients(model, SimpleNamespace(x_train=x, y_train=y), batch_size=4, seed=0).table(0)
    # L = mean_i (Σ_t w_t x_it)², so ∂L/∂x_it = 2 ŷ_i w_t / 4, and the norm over 4 examples is 2 ŷ |w_t| / 2
    prediction = float(weights.astype(np.float64).sum())
    expected = prediction * np.abs(weights.astype(np.float64))
    np.testing.assert_allclose(table["input_grad_norm"], expected, rtol=1e-5)
    assert -25.5 < math.log10(table["input_grad_norm"].iloc[0] / table["input_grad_norm"].iloc[-1]) < -24.5
