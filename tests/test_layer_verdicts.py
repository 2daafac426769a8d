"""A diagnosis's headline and its per-layer verdicts come from one rule (tfbench/analysis/layer_verdicts.py):
against the run verdict's rule (verdict.judge_step) on random tables, a hand-built table whose middle
layer lies beyond two decades, and a saved model with one planted exploding layer."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pandas as pd
import pytest

import tfbench
from tfbench import cli
from tfbench.analysis import verdict
from tfbench.analysis.layer_verdicts import format_decades, headline, judge_layers, note


def table(kernel, delta, weights=None, nonfinite=None):
    n = len(kernel)
    return pd.DataFrame({
        "depth": range(1, n + 1), "layer": [f"layer_{d}" for d in range(1, n + 1)],
        "kernel_grad_norm": kernel, "act_grad_norm": delta, "nonfinite": nonfinite or [0.0] * n,
        "weight": weights or ["kernel"] * n,
    })  # fmt: skip


def test_headline_is_the_first_layers_row_and_the_run_verdicts_rule():
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(2, 8))
        weights = ["kernel" if rng.random() < 0.8 else "gamma" for _ in range(n)]
        weights[0] = weights[-1] = weights[-2] = "kernel"
        nonfinite = [float(rng.random() < 0.03) for _ in range(n)]
        rows = table(list(10 ** rng.normal(0, 2, n)), list(10 ** rng.normal(0, 2, n)), weights, nonfinite)
        judged = judge_layers(rows)
        first = judged[judged.weight == "kernel"].iloc[0]
        found, _ = headline(judged)
        assert found == verdict.judge_step(rows)[0]
        if not any(nonfinite):
            assert found == first.verdict
        assert (judged.loc[judged.weight != "kernel", "verdict"] == "").all()
        assert judged.loc[judged.weight != "kernel", ["kernel_decades", "delta_decades"]].isna().all().all()


def test_a_middle_layer_beyond_two_decades_is_said_next_to_a_healthy_verdict():
    # δ decades against layer_4 (last hidden): +1.0, +2.5, +0.5, 0; kernels all equal
    judged = judge_layers(table([1.0] * 5, [10**1.0, 10**2.5, 10**0.5, 1.0, 1.0]))
    found, reason = headline(judged)
    assert found == "healthy" and "layer_1 (first hidden layer) is 10^+1.0 of layer_4's" in reason
    assert judged.set_index("layer").at["layer_2", "verdict"] == "exploding"
    sentence = note(judged, found)
    assert "1 layer in between is beyond them: layer_2 (kernel +0.0, δ +2.5 decades, exploding)" in sentence
    assert note(judge_layers(table([1.0] * 4, [10.0, 10.0, 1.0, 1.0])), "healthy") == ""


def test_decades_that_do_not_apply_read_as_a_dash():
    assert format_decades(math.nan) == "–" and format_decades(-math.inf) == "-inf" and format_decades(2.04) == "+2.0"


# --------------------------------------------------------------------------------------------- a planted layer

PLANTED_SCALE = 1e4  # δ below the planted layer is W_pᵀ δ_p: 10^4 larger than above it (linear layers)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A linear MLP whose third hidden Dense has its kernel scaled by 10^4, a BatchNormalization before the
    head (a row without a kernel), saved as .keras, with random classification data as .npz."""
    folder = tmp_path_factory.mktemp("planted")
    rng = np.random.default_rng(0)
    np.savez(folder / "data.npz", x_train=rng.normal(size=(200, 8)).astype("float32"),
             y_train=rng.integers(0, 3, 200))  # fmt: skip
    inputs = keras.Input((8,))
    h = inputs
    for name in ("hidden_1", "hidden_2", "planted", "hidden_4", "hidden_5"):
        h = keras.layers.Dense(16, kernel_initializer=keras.initializers.GlorotUniform(seed=len(name)), name=name)(h)
    h = keras.layers.BatchNormalization(name="norm")(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(h))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    layer = model.get_layer("planted")
    layer.kernel.assign(layer.kernel.numpy() * PLANTED_SCALE)
    model.save(folder / "planted.keras")
    return folder


def test_the_headline_names_the_planted_exploding_layer(planted):
    result = tfbench.diagnose(planted / "planted.keras", str(planted / "data.npz"), batches=2, batch_size=64)
    assert result.verdict == "exploding", result.reason
    assert "hidden_1 (first hidden layer)" in result.reason and "hidden_5's (last hidden layer)" in result.reason
    # the planted kernel multiplies δ by 10^4 in scale; its singular values spread the norm a little
    assert re.search(r"steepest between hidden_2 and planted \(\+(3\.[5-9]|4\.[0-4]) decades\)", result.reason)
    by_layer = result.layers.set_index("layer")
    assert by_layer.at["hidden_1", "verdict"] == result.verdict  # the headline is the first layer's row
    assert by_layer.at["norm", "verdict"] == "" and result.note == ""


def test_no_nan_reaches_the_command_line_or_the_page(planted, tmp_path, capsys):
    code = cli.main(["diagnose", str(planted / "planted.keras"), "--data", str(planted / "data.npz"),
                     "--batches", "2", "--out", str(tmp_path / "page")])  # fmt: skip
    out = capsys.readouterr().out
    page = (tmp_path / "page" / "index.html").read_text()
    assert code == 0 and "verdict: exploding" in out and "beyond ±2 decades of the last hidden layer: " in out
    assert "exploding at:" not in out
    for text in (out, page):
        assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert re.search(r"<td>norm</td>.*?<td class=\"num\">–</td><td class=\"num\">–</td>", page, re.S)
