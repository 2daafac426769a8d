"""The HTML page of a `diagnose` run: verdict, likely causes, per-layer table and one figure, in the
report's style (base.html)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import seaborn as sns

from tfbench.analysis.layer_verdicts import format_decades
from tfbench.records import store as records
from tfbench.records.kernel_rows import kernel_rows
from tfbench.records.manifest import command_line, utc_now
from tfbench.records.schema import SCHEMA_VERSION
from tfbench.report.figure_style import log_y, new_figure, save
from tfbench.report.html import environment

FIGURE_CAPTION = (
    "Kernel gradient norm and backpropagated signal δ = ‖d loss / d z‖ per layer at the current weights, "
    "mean over the batches (log scale). A line falling toward depth 1 is a gradient vanishing toward the input."
)


def norms_figure(layers):
    """Kernel gradient and δ norms against depth, over the layers with a kernel (renumbered 1..K):
    the path the verdict judges; every layer's row is in the page's table."""
    layers = kernel_rows(layers)
    figure = new_figure(7, 3.6)
    ax = figure.subplots()
    shown = layers.melt(id_vars=["depth"], value_vars=["kernel_grad_norm", "act_grad_norm"], var_name="quantity")
    shown["quantity"] = shown["quantity"].map({"kernel_grad_norm": "kernel gradient", "act_grad_norm": "δ"})
    sns.lineplot(shown, x="depth", y="value", hue="quantity", marker="o", ax=ax)
    log_y(ax)
    ax.set_xlabel("depth (1 = nearest the input)")
    ax.set_ylabel("L2 norm")
    ax.xaxis.get_major_locator().set_params(integer=True)
    return figure


def write_page(diagnosis, out, model_path: str, data_path: str) -> Path:
    """OUT/index.html, OUT/figures/norms.png and OUT/manifest.json (which marks OUT as a tfbench folder, so
    a second diagnosis may replace the page); returns the page's path."""
    from tfbench import __version__

    out = Path(out)
    marker = {"schema_version": SCHEMA_VERSION, "kind": "diagnose", "suites": {}, "model": model_path,
              "data": data_path, "command_line": command_line(), "finished": utc_now()}  # fmt: skip
    records.write_json(out / records.MANIFEST_FILE, marker)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    save(norms_figure(diagnosis.layers), out / "figures" / "norms.png")
    env = environment()
    env.filters["decades"] = format_decades
    page = env.get_template("diagnose.html").render(
        root="", generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), version=__version__,
        d=diagnosis, rows=diagnosis.layers.to_dict("records"), model_path=model_path, data_path=data_path,
        caption=FIGURE_CAPTION,
    )  # fmt: skip
    index = out / "index.html"
    records.atomic_write(index, lambda temp: Path(temp).write_text(page, encoding="utf-8"))
    return index
