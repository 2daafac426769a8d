"""Trace once, train many: runs that reuse a built and traced model record exactly what a fresh build
per run records (timing columns aside), for every state a run starts from — seeded weights,
BatchNormalization's moving statistics, Dropout's seed, Adam's slots and iteration counter, the
monitor's buffers — and the graph key tells apart what must not share a model."""

from __future__ import annotations

import dataclasses
import textwrap

import pandas as pd
import pytest

import tfbench
from tfbench.harness import train
from tfbench.harness.model_cache import ModelCache
from tfbench.records.schema import TIMING_COLUMNS
from tfbench.spec.canonical import graph_key
from tfbench.spec.setup import Setup

TIMING = list(TIMING_COLUMNS)

SUITES = """
    from tfbench import Setup, Suite

    SUITES = [
        Suite(
            name="reuse_mlp",
            factor="initializer",  # variants that differ only in initial weights share one graph
            question="Does a reused model train as a fresh one?",
            base=Setup(depth=3, width=16, batch_norm=True, dropout=0.1, optimizer="adam", learning_rate=0.01,
                       steps=100, eval_every=50),
            levels=["glorot_uniform", "he_normal"],
        ),
        Suite(
            name="reuse_lr",
            factor="learning_rate",  # the learning rate is an optimizer variable: one graph for all
            question="Does a reused model train at the new run's learning rate?",
            base=Setup(depth=2, width=16, optimizer="adam", steps=60, eval_every=30),
            levels=[0.001, 0.03],
        ),
        Suite(
            name="reuse_lstm",
            factor="cell",
            question="And a recurrent one, with its time-step gradients?",
            base=Setup(model="rnn", depth=1, width=8, data="adding:12", activation="tanh", steps=12, eval_every=6),
            levels=["lstm", "gru"],
        ),
    ]
"""


def read(folder) -> dict[str, pd.DataFrame]:
    tables = {
        "runs": pd.read_csv(folder / "runs.csv", dtype={"setup_hash": str}).drop(columns=TIMING),
        "steps": pd.read_parquet(folder / "steps.parquet"),
        "layers": pd.read_parquet(folder / "layers.parquet"),
    }
    if (folder / "timesteps.parquet").exists():
        tables["timesteps"] = pd.read_parquet(folder / "timesteps.parquet")
    return tables


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reuse")
    path = folder / "reuse_suites.py"
    path.write_text(textwrap.dedent(SUITES))
    saved = train.MODELS
    try:
        train.MODELS = ModelCache(size=0)  # every run builds and traces its own model
        tfbench.run([str(path)], profile="standard", seeds=3, out=folder / "fresh", workers=1, log=lambda line: None)
        train.MODELS = ModelCache()
        tfbench.run([str(path)], profile="standard", seeds=3, out=folder / "reused", workers=1, log=lambda line: None)
    finally:
        train.MODELS = saved
    return folder / "fresh", folder / "reused"


@pytest.mark.parametrize("suite", ["reuse_mlp", "reuse_lr", "reuse_lstm"])
def test_reused_models_record_exactly_what_fresh_builds_record(both_ways, suite):
    fresh, reused = (read(folder / suite) for folder in both_ways)
    assert set(fresh) == set(reused)
    for name, table in fresh.items():
        pd.testing.assert_frame_equal(reused[name], table, check_exact=True, obj=f"{suite}/{name}")
    assert fresh["runs"]["status"].eq("ok").all() and len(fresh["runs"]) == 6


@pytest.mark.parametrize("suite", ["reuse_mlp", "reuse_lr"])
def test_setup_time_is_spent_once_per_graph(both_ways, suite):
    fresh, reused = (pd.read_csv(folder / suite / "runs.csv") for folder in both_ways)
    assert (fresh["setup_s"] > 0).all()  # every fresh run builds and traces
    # The two variants share one graph: only the very first run of the suite builds it.
    assert (reused["setup_s"] > 0).sum() == 1 and reused["setup_s"].iloc[0] > 0


def test_a_reused_model_steps_at_the_new_runs_learning_rate(both_ways):
    """Adam's first update moves every weight by about the learning rate (|m̂/√v̂| = 1 at step 1), so
    the first update relative to the (equal) initial weights scales with it: 30x between the levels."""
    steps = pd.read_parquet(both_ways[1] / "reuse_lr" / "steps.parquet")
    assert sorted(steps["learning_rate"].dropna().round(6).unique()) == [0.001, 0.03]
    layers = pd.read_parquet(both_ways[1] / "reuse_lr" / "layers.parquet")
    first = layers[(layers["step"] == 0) & (layers["depth"] == 1)].set_index(["variant", "seed"])["update_ratio"]
    ratio = first.xs("0.03", level="variant") / first.xs("0.001", level="variant")
    assert ratio.between(25, 35).all(), ratio


def test_a_model_reused_after_another_graph_was_built_trains_as_a_fresh_build(monkeypatch):
    """A worker's cache outlives the Keras session cleared for another graph's build in between."""
    first = Setup(depth=3, width=16, batch_norm=True, dropout=0.1, optimizer="adam", steps=100, eval_every=50)
    other = dataclasses.replace(first, activation="tanh")
    monkeypatch.setattr(train, "MODELS", ModelCache())
    train.train_run(first, 0)
    train.train_run(other, 0)
    reused = train.train_run(first, 1)
    monkeypatch.setattr(train, "MODELS", ModelCache(size=0))
    fresh = train.train_run(first, 1)
    assert reused.setup_s == 0 and fresh.setup_s > 0
    for name in ("steps_table", "layers_table"):
        pd.testing.assert_frame_equal(getattr(reused, name), getattr(fresh, name), check_exact=True, obj=name)


def test_graph_key_ignores_initial_weights_and_the_learning_rate_only():
    base = Setup(depth=3, width=16)
    same = [
        dataclasses.replace(base, initializer="he_normal"),
        dataclasses.replace(base, bias_initializer="ones"),
        dataclasses.replace(base, learning_rate=0.1),
    ]
    assert all(graph_key(s, "standard") == graph_key(base, "standard") for s in same)
    different = [
        dataclasses.replace(base, activation="tanh"),
        dataclasses.replace(base, steps=300),
        dataclasses.replace(base, optimizer="adam"),
    ]
    assert len({graph_key(s, "standard") for s in [base, *different]}) == 1 + len(different)
    assert graph_key(base, "full") != graph_key(base, "standard")
    assert graph_key(dataclasses.replace(base, model=lambda setup: None), "standard") is None
