"""The mean-field overlay of the report (tfbench.report.theory_overlay): where it applies, the measured
slope, the dashed lines of the gradient-vs-depth figure, and the columns of the rendered suite page."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tfbench import Setup, Suite
from tfbench.analysis import theory
from tfbench.engine.runner import run
from tfbench.report import html, plots, theory_overlay
from tfbench.spec.canonical import canonical

HIDDEN = 6  # hidden layers; depth 7 is the output layer


def plain(**changes) -> dict:
    return canonical(Setup(**{"model": "mlp", "depth": HIDDEN, "width": 64, "activation": "tanh", **changes}))


# ------------------------------------------------------------------------------------------ applicability


def test_prediction_for_a_plain_mlp_uses_the_initializers_variances():
    found = theory_overlay.prediction(plain(initializer="he_normal"))
    assert found == theory.predict("tanh", 2.0, 0.0)
    bias = {"class_name": "RandomNormal", "config": {"stddev": 0.1}}
    assert theory_overlay.prediction(plain(bias_initializer=bias)) == theory.predict("tanh", 1.0, 0.1**2)
    constant = {"class_name": "Constant", "config": {"value": 0.2}}
    assert theory_overlay.prediction(plain(bias_initializer=constant)) == theory.predict("tanh", 1.0, 0.0, 0.2)


@pytest.mark.parametrize(
    "setup",
    [plain(batch_norm=True), plain(dropout=0.2), plain(pretrain_steps=50),
     {**plain(), "model": "resnet"}, {**plain(), "model": "cnn"},
     plain(activation="mish"), plain(initializer="identity"), plain(initializer={"class_name": "Mine", "config": {}}),
     plain(bias_initializer={"class_name": "Mine", "config": {}}), {"model": "mlp"}, None],
)  # fmt: skip
def test_no_prediction_where_the_theory_does_not_apply(setup):
    assert theory_overlay.prediction(setup) is None


def test_predicted_decades_keeps_only_covered_variants():
    setups = {"tanh": plain(), "bn": plain(batch_norm=True)}
    assert theory_overlay.predictions(setups) == {"tanh": theory.predict("tanh", 1.0)}
    assert theory_overlay.predictions({}) == {}


# ------------------------------------------------------------------------------------------ measured slope


def layer_rows(variant: str, delta_slope: float, kernel_slope: float, seeds=(0, 1)) -> pd.DataFrame:
    """Step-0 rows whose log10 norms fall by the given decades per layer toward the input, with an
    output layer and (for the kernel) a first layer far off the line, which the fits must ignore."""
    rows = []
    for seed in seeds:
        for depth in range(1, HIDDEN + 2):
            delta = 10.0 ** (seed - delta_slope * depth)
            kernel = 10.0 ** (2 * seed - kernel_slope * depth)
            if depth == HIDDEN + 1:
                delta, kernel = 1e5, 1e5
            if depth == 1:
                kernel = 1e-9
            rows.append({"variant": variant, "seed": seed, "step": 0, "layer": f"dense_{depth}", "depth": depth,
                         "act_grad_norm": delta, "kernel_grad_norm": kernel})  # fmt: skip
            rows.append({**rows[-1], "step": 5, "act_grad_norm": 1.0, "kernel_grad_norm": 1.0})
    return pd.DataFrame(rows)


def test_measured_decades_fit_hidden_layers_at_step_zero_toward_the_input():
    layers = pd.concat([layer_rows("a", 0.25, -0.1), layer_rows("b", -0.05, 0.3)])
    measured = theory_overlay.measured_decades(layers)
    # norms falling with depth by s decades per layer = growing by s toward the input
    assert measured.loc["a", theory_overlay.MEASURED] == pytest.approx(0.25, abs=1e-12)
    assert measured.loc["a", theory_overlay.MEASURED_KERNEL] == pytest.approx(-0.1, abs=1e-12)
    assert measured.loc["b", theory_overlay.MEASURED] == pytest.approx(-0.05, abs=1e-12)
    assert measured.loc["b", theory_overlay.MEASURED_KERNEL] == pytest.approx(0.3, abs=1e-12)


def test_measured_decades_skips_zero_norms_and_needs_two_layers():
    layers = layer_rows("a", 0.2, 0.2)
    layers.loc[(layers["depth"] == 3) & (layers["step"] == 0), "act_grad_norm"] = 0.0  # log10 0 = -inf
    assert theory_overlay.measured_decades(layers).loc["a", theory_overlay.MEASURED] == pytest.approx(0.2)
    short = layers[layers["depth"].isin([1, HIDDEN + 1])]  # one hidden layer only
    assert math.isnan(theory_overlay.measured_decades(short).loc["a", theory_overlay.MEASURED])


def test_overlay_columns_only_for_predicted_variants():
    layers = pd.concat([layer_rows("a", 0.25, 0.2), layer_rows("b", 0.1, 0.1)])
    table = pd.DataFrame({"variant": ["a", "b"], "seeds": [2, 2]})
    assert theory_overlay.with_overlay_columns(table, layers, {}) is table
    relu = theory.predict("relu", 1.0)  # δ and kernel predictions differ: -0.15 and 0
    extended = theory_overlay.with_overlay_columns(table, layers, {"a": relu})
    assert extended[theory_overlay.PREDICTED].tolist()[0] == relu.decades_per_layer
    assert extended[theory_overlay.PREDICTED_KERNEL].tolist()[0] == relu.kernel_decades_per_layer
    assert extended[theory_overlay.MEASURED].tolist()[0] == pytest.approx(0.25)
    assert extended[theory_overlay.MEASURED_KERNEL].tolist()[0] == pytest.approx(0.2)
    assert extended.loc[1, list(theory_overlay.OVERLAY_COLUMNS)].isna().all()


# ------------------------------------------------------------------------------------------ figure


def test_dashed_prediction_anchored_at_last_hidden_layer_in_variant_colour():
    layers = pd.concat([layer_rows("a", 0.25, 0.2), layer_rows("b", 0.1, 0.1)])
    palette = plots.variant_palette(["a", "b"])
    found = {"a": theory.predict("sigmoid", 1.0), "b": theory.predict("tanh", 4.0)}  # -0.63 and +0.07
    figure = plots.gradient_vs_depth(layers, palette, predictions=found)
    start = figure.axes[0]
    dashed = [line for line in start.get_lines() if line.get_linestyle() == "--" and len(line.get_xdata())]
    assert len(dashed) == 2
    for line, variant in zip(dashed, ["a", "b"], strict=True):
        decades = found[variant].kernel_decades_per_layer  # the panel plots kernel gradients
        assert line.get_color() == palette[variant]
        x, y = np.asarray(line.get_xdata()), np.log10(np.asarray(line.get_ydata()))
        assert x[0] == 1 and x[-1] == HIDDEN
        kernels = layers[(layers["variant"] == variant) & (layers["step"] == 0) & (layers["depth"] == HIDDEN)]
        assert y[-1] == pytest.approx(np.log10(kernels["kernel_grad_norm"]).mean())  # geometric mean over seeds
        assert y[0] - y[-1] == pytest.approx(decades * (HIDDEN - 1))  # grows by `decades` per layer to the input
    legend = figure.axes[1].get_legend()
    assert theory_overlay.LINE_LABEL in [text.get_text() for text in legend.get_texts()]
    assert not [line for line in figure.axes[1].get_lines() if line.get_linestyle() == "--"]  # step 0 only


def test_no_predictions_no_dashed_lines():
    figure = plots.gradient_vs_depth(layer_rows("a", 0.2, 0.2), plots.variant_palette(["a"]))
    assert not [line for line in figure.axes[0].get_lines() if line.get_linestyle() == "--"]


# ------------------------------------------------------------------------------------------ rendered report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("overlay")
    suite = Suite(
        name="saturating",
        factor="activation",
        question="Do saturating activations starve the input side?",
        base=Setup(model="mlp", depth=4, width=16, steps=5, data="digits"),
        levels=["sigmoid", "tanh"],
    )
    summary = run([suite], profile="quick", out=out, log=lambda line: None)
    assert summary.exit_code == 0
    html.write_report(out)
    return out


def test_report_shows_predicted_and_measured_columns(report):
    folder = report / "saturating"
    summary = pd.read_csv(folder / "summary.csv")
    expected = {v: theory.predict(v, 1.0).decades_per_layer for v in ("sigmoid", "tanh")}  # glorot: σw² = 1
    assert dict(zip(summary["variant"], summary[theory_overlay.PREDICTED], strict=True)) == pytest.approx(expected)
    assert summary[list(theory_overlay.OVERLAY_COLUMNS)].notna().all().all()
    assert "predicted decades/layer | measured decades/layer (δ)" in (folder / "summary.md").read_text()
    page = (folder / "index.html").read_text()
    assert "<th>predicted decades/layer</th><th>measured decades/layer (δ)</th>" in page
    assert (folder / "figures" / "gradient_vs_depth.png").stat().st_size > 0


def test_report_of_an_old_manifest_has_no_overlay(report):
    manifest_path = report / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["suites"]["saturating"]["setups"]  # as written before Setups were stored
    manifest_path.write_text(json.dumps(manifest))
    html.write_report(report)
    folder = report / "saturating"
    assert theory_overlay.PREDICTED not in pd.read_csv(folder / "summary.csv").columns
    assert "decades/layer" not in (folder / "index.html").read_text()
    assert "decades/layer" not in (folder / "summary.md").read_text()
