"""The report's figures (issue: figures a-e), checked on the matplotlib objects, not on pixels.

A tiny suite is trained for real once (depth 3, width 8, 20 steps, sigmoid and relu, 2 seeds) and its
records feed every figure; hand-built tables cover the edge cases (no saturating activation, a failed
variant without rows, a diverged run with infinite norms).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from PIL import Image

from tfbench import Setup, Suite, load_results
from tfbench.engine.runner import run
from tfbench.records.store import SuiteRecords
from tfbench.report import figure_layout, plots

VARIANTS = ["sigmoid", "relu"]
DEPTHS = [1, 2, 3, 4]  # 3 hidden layers + the output layer


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    out = tmp_path_factory.mktemp("plots")
    suite = Suite(
        name="tiny",
        factor="activation",
        question="Does sigmoid starve the input side?",
        base=Setup(depth=3, width=8, steps=20, data="digits"),
        levels=VARIANTS,
    )
    summary = run([suite], profile="standard", seeds=2, out=out, log=lambda line: None)
    assert summary.exit_code == 0
    return load_results(out)["tiny"]


@pytest.fixture(scope="module")
def figures(records):
    return plots.suite_figures(records, "accuracy")


def panels(figure: Figure) -> list:
    """The figure's axes that are not colorbars."""
    return [ax for ax in figure.axes if not hasattr(ax, "_colorbar")]


def colorbars(figure: Figure) -> list:
    return [ax for ax in figure.axes if hasattr(ax, "_colorbar")]


def layer_rows(variant: str, seeds=(0, 1), steps=(0, 1, 2), **columns) -> pd.DataFrame:
    rows = [
        {"suite": "s", "variant": variant, "seed": seed, "step": step, "layer": f"dense_{depth}", "depth": depth,
         "kernel_grad_norm": 10.0 ** -depth, "act_grad_norm": 0.1, "update_ratio": 1e-3 * depth,
         "dead_fraction": 0.0, "saturated_fraction": np.nan, **columns}
        for seed in seeds for step in steps for depth in DEPTHS
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_suite_figures_names_and_types(figures):
    assert list(figures) == [*plots.FIGURE_NAMES]
    assert list(figures) == ["gradient_vs_depth", "gradient_heatmap", "training_curves", "update_ratio",
                             "delta_and_units"]  # fmt: skip
    assert all(isinstance(figure, Figure) for figure in figures.values())
    assert all(figure.axes for figure in figures.values())


def test_variant_palette_is_colorblind_stable_and_cycles():
    names = [f"v{i}" for i in range(13)]
    palette = plots.variant_palette(names)
    colorblind = [tuple(c) for c in sns.color_palette("colorblind", 10)]
    assert list(palette) == names
    assert [palette[n] for n in names[:10]] == colorblind
    assert palette["v10"] == colorblind[0] and palette["v12"] == colorblind[2]
    assert plots.variant_palette(names) == palette
    assert plots.variant_palette(["relu", "sigmoid"])["relu"] == colorblind[0]


def test_gradient_vs_depth_one_line_per_variant_on_log_axes(figures, records):
    figure = figures["gradient_vs_depth"]
    axes = panels(figure)
    assert len(axes) == 2
    palette = plots.variant_palette(VARIANTS)
    for ax in axes:
        assert [line.get_label() for line in ax.get_lines()] == VARIANTS
        assert ax.get_yscale() == "log"
        assert "depth" in ax.get_xlabel()
        for line in ax.get_lines():
            assert list(line.get_xdata()) == DEPTHS
            assert mcolors.to_rgb(line.get_color()) == pytest.approx(palette[line.get_label()])
    assert axes[0].get_ylabel() == "kernel gradient L2 norm"
    # step 0, mean over seeds: the geometric mean of the two seeds' norms
    start = records.layers[(records.layers["step"] == 0) & (records.layers["variant"] == "sigmoid")]
    expected = start.groupby("depth")["kernel_grad_norm"].apply(lambda v: np.exp(np.log(v).mean()))
    assert axes[0].get_lines()[0].get_ydata() == pytest.approx(expected.to_numpy())
    assert figure.legends or any(ax.get_legend() for ax in axes)


def test_heatmap_one_panel_per_variant_with_one_shared_scale(figures):
    figure = figures["gradient_heatmap"]
    meshes = [[c for c in ax.collections if isinstance(c, QuadMesh)] for ax in panels(figure)]
    assert [len(m) for m in meshes] == [1] * len(VARIANTS)
    assert [ax.get_title() for ax in panels(figure)] == VARIANTS
    assert len(colorbars(figure)) == 1
    limits = {mesh[0].get_clim() for mesh in meshes}
    assert len(limits) == 1
    vmin, vmax = limits.pop()
    assert np.isfinite(vmin) and np.isfinite(vmax) and vmin < vmax
    all_values = np.concatenate([m[0].get_array().compressed() for m in meshes])
    assert all_values.min() == pytest.approx(vmin) and all_values.max() == pytest.approx(vmax)
    assert colorbars(figure)[0]._colorbar.mappable.get_clim() == (vmin, vmax)
    assert meshes[0][0].get_array().shape[0] == len(DEPTHS)


def test_heatmap_masks_nonfinite_and_keeps_a_panel_for_a_failed_variant():
    layers = pd.concat([layer_rows("a"), layer_rows("b", kernel_grad_norm=np.inf)], ignore_index=True)
    layers.loc[(layers["variant"] == "a") & (layers["step"] == 2), "kernel_grad_norm"] = 0.0
    figure = plots.gradient_heatmaps(layers, ["a", "b", "failed"])
    axes = panels(figure)
    assert len(axes) == 3 and len(colorbars(figure)) == 1
    mesh = [c for c in axes[0].collections if isinstance(c, QuadMesh)][0]
    assert mesh.get_array().mask[:, -1].all()  # log10(0) is masked, not drawn
    assert (mesh.get_clim()[0], mesh.get_clim()[1]) == pytest.approx((-4.0, -1.0))
    assert not [c for c in axes[2].collections if isinstance(c, QuadMesh)]
    assert "no records" in [t.get_text() for t in axes[2].texts]


def test_training_curves_one_loss_line_per_variant(figures):
    figure = figures["training_curves"]
    loss_ax, metric_ax = panels(figure)
    assert [line.get_label() for line in loss_ax.get_lines()] == VARIANTS
    palette = plots.variant_palette(VARIANTS)
    colors = [mcolors.to_rgb(line.get_color()) for line in loss_ax.get_lines()]
    assert colors == [pytest.approx(palette[v]) for v in VARIANTS]
    assert loss_ax.collections  # the band over seeds
    assert loss_ax.get_xlabel() == "optimizer step" and "loss" in loss_ax.get_ylabel()
    assert "accuracy" in metric_ax.get_ylabel()
    assert [line.get_label() for line in metric_ax.get_lines()] == VARIANTS
    assert max(max(line.get_xdata()) for line in metric_ax.get_lines()) == 20  # the final validation


def test_training_curves_handle_ragged_and_divergent_runs():
    rows = [{"variant": "ok", "seed": s, "step": t, "loss": 1.0 / (t + 1), "val_metric": np.nan}
            for s in (0, 1) for t in range(10)]  # fmt: skip
    rows += [{"variant": "blew_up", "seed": 0, "step": t, "loss": [1.0, 1e3, np.inf][t], "val_metric": np.nan}
             for t in range(3)]  # fmt: skip
    rows += [{"variant": "ok", "seed": s, "step": 10, "loss": np.nan, "val_metric": 0.3} for s in (0, 1)]
    steps = pd.DataFrame(rows)
    figure = plots.training_curves(steps, plots.variant_palette(["ok", "blew_up"]), "mae")
    loss_ax, metric_ax = panels(figure)
    assert [line.get_label() for line in loss_ax.get_lines()] == ["ok", "blew_up"]
    assert [line.get_label() for line in metric_ax.get_lines()] == ["ok"]
    assert loss_ax.get_yscale() == "log"  # positive and more than two decades
    assert metric_ax.get_ylabel() == "validation MAE (target units)"
    assert all(np.isfinite(line.get_ydata()).all() for line in loss_ax.get_lines())


def test_update_ratios_one_panel_per_variant_one_line_per_depth(figures):
    figure = figures["update_ratio"]
    axes = panels(figure)
    assert [ax.get_title() for ax in axes] == VARIANTS
    assert all(len(ax.get_lines()) == len(DEPTHS) for ax in axes)
    assert all(ax.get_yscale() == "log" for ax in axes)
    assert "‖ΔW‖ / ‖W‖" in axes[0].get_ylabel()
    assert len(colorbars(figure)) == 1 and "depth" in colorbars(figure)[0].get_ylabel()


def test_delta_and_units_three_axes_with_a_saturating_activation(figures):
    axes = panels(figures["delta_and_units"])
    assert len(axes) == 3
    assert axes[0].get_yscale() == "log"
    assert all([line.get_label() for line in ax.get_lines()] == VARIANTS for ax in axes[:2])
    assert [line.get_label() for line in axes[2].get_lines()] == ["sigmoid"]  # relu has no saturation
    assert "fraction" in axes[1].get_ylabel() and "fraction" in axes[2].get_ylabel()


def test_delta_and_units_two_axes_when_nothing_saturates():
    layers = pd.concat([layer_rows("relu"), layer_rows("elu")], ignore_index=True)
    figure = plots.delta_and_units(layers, plots.variant_palette(["relu", "elu"]))
    axes = panels(figure)
    assert len(axes) == 2
    assert all([line.get_label() for line in ax.get_lines()] == ["relu", "elu"] for ax in axes)


def test_gradient_vs_depth_uses_each_runs_last_step_and_skips_variants_without_rows():
    short = layer_rows("diverged", seeds=(0,), steps=(0, 1), kernel_grad_norm=2.0)
    short.loc[short["step"] == 1, "kernel_grad_norm"] = np.inf
    long = layer_rows("fine", steps=(0, 1, 2, 3))
    long.loc[long["step"] == 3, "kernel_grad_norm"] = 5.0
    palette = plots.variant_palette(["fine", "diverged", "failed"])
    first, last = panels(plots.gradient_vs_depth(pd.concat([long, short], ignore_index=True), palette))
    assert [line.get_label() for line in first.get_lines()] == ["fine", "diverged"]
    assert [line.get_label() for line in last.get_lines()] == ["fine"]  # inf at its last step is left out
    assert last.get_lines()[0].get_ydata() == pytest.approx([5.0] * len(DEPTHS))


def test_save_writes_a_png_atomically(figures, tmp_path):
    for name, figure in figures.items():
        path = tmp_path / f"{name}.png"
        plots.save(figure, path)
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    plain = tmp_path / "no_suffix"
    plots.save(figures["gradient_vs_depth"], plain)
    assert plain.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(f"{n}.png" for n in figures), "no_suffix"])


def test_plots_module_alone_does_not_load_tensorflow():
    code = "import sys, tfbench.report.plots; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# Variant names that make wide legends and titles wider than a grid's panel.
LONG_NAMES = {"sigmoid": "sigmoid, glorot_uniform, width 8, a title wider than its panel",
              "relu": "relu+cross_entropy+batch_norm+dropout 0.5"}  # fmt: skip
PIXEL = 1 / 100  # inches, at the report's dpi


def canvas_margins(figure: Figure) -> dict[str, float]:
    """Inches between each edge of the canvas and everything drawn, as matplotlib's own layout puts it
    (the tight bounding box savefig(bbox_inches="tight") crops to); negative where content is cut."""
    figure.draw_without_rendering()
    content = figure.get_tightbbox()
    width, height = (int(size) / figure.dpi for size in figure.bbox.size)  # Agg drops a last partial pixel
    return {"left": content.x0, "bottom": content.y0, "right": width - content.x1, "top": height - content.y1}


def edge_case_records() -> SuiteRecords:
    """A failed variant without rows (a "no records" panel), a saturating activation (a third units
    panel), values whose linear axes need an offset text (+1.2345e4, 1e6), and time-step rows."""
    layers = pd.concat([layer_rows("tanh", saturated_fraction=0.25), layer_rows("relu", kernel_grad_norm=np.inf)])
    steps = pd.DataFrame([{"variant": variant, "seed": seed, "step": step * 1_000_000, "loss": 12345.6 + step * 1e-3,
                           "val_metric": 0.5 + step * 1e-4}
                          for variant in ("tanh", "relu") for seed in (0, 1) for step in range(6)])  # fmt: skip
    timesteps = pd.DataFrame([{"variant": variant, "seed": seed, "step": step, "timestep": t,
                               "input_grad_norm": 2.0**-t}
                              for variant in ("tanh", "relu") for seed in (0, 1) for step in (0, 5)
                              for t in range(20)])  # fmt: skip
    runs = pd.DataFrame({"variant": ["tanh", "relu", "failed: no rows at all"]})
    return SuiteRecords(runs=runs, steps=steps, layers=layers.reset_index(drop=True), timesteps=timesteps)


def test_saved_canvas_holds_every_label_legend_and_colorbar_with_the_usual_border(records, tmp_path):
    renamed = {name: getattr(records, name).replace({"variant": LONG_NAMES}) for name in ("runs", "steps", "layers")}
    long_named = dataclasses.replace(records, **renamed)
    cases = {"real": plots.suite_figures(records, "accuracy"), "long names": plots.suite_figures(long_named, "mae"),
             "edge cases": plots.suite_figures(edge_case_records(), "mae")}  # fmt: skip
    assert len(cases["edge cases"]) == len(plots.FIGURES)  # the time-step figure too
    checked = 0
    for case, figures in cases.items():
        for name, figure in figures.items():
            path = tmp_path / f"{case}_{name}.png"
            plots.save(figure, path)
            assert Image.open(path).size == tuple(int(size) for size in figure.bbox.size)  # the canvas as saved
            for side, margin in canvas_margins(figure).items():
                # nothing cut, and the border bbox_inches="tight" leaves (pad_inches 0.1), not more
                assert margin == pytest.approx(figure_layout.BORDER_INCHES, abs=1.5 * PIXEL), (case, name, side)
            checked += 1
    assert checked == 2 * len(plots.FIGURE_NAMES) + len(plots.FIGURES)


def test_edge_cases_show_offset_texts_and_a_no_records_panel():
    figures = plots.suite_figures(edge_case_records(), "mae")
    for figure in figures.values():
        figure.draw_without_rendering()
    loss_ax = panels(figures["training_curves"])[0]
    assert loss_ax.yaxis.offsetText.get_text() and loss_ax.xaxis.offsetText.get_text()
    assert "no records" in [text.get_text() for text in panels(figures["update_ratio"])[2].texts]


def test_canvas_check_catches_a_layout_that_leaves_out_axis_labels(records, monkeypatch):
    monkeypatch.setattr(figure_layout, "_axis_label_box", lambda axis, low, high, renderer: axis.axes.bbox.frozen())
    figure = plots.suite_figures(records, "accuracy")["gradient_vs_depth"]
    figure_layout.fit_canvas(figure)
    margins = canvas_margins(figure)
    assert margins["left"] < 0 and margins["bottom"] < 0  # the y label and the x label are cut
