"""The figure of the time-step records (timesteps.parquet, recurrent models): the norm of the input
gradient ‖∂L/∂x_t‖ against the time step t, at initialization and after training.

Drawn only for suites whose records hold time-step rows. Seeds are averaged geometrically, as every
log-scaled figure of the report. Far from the output the gradient can underflow to 0 in float32: a
time step where any seed has no finite positive value is left out (a gap in the line), since an
average over the remaining seeds alone would make the line jump where their number changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tfbench.report.figure_style import legend, log_y, new_figure, title

FIGURE_NAME = "input_gradient_vs_timestep"
CAPTION = (
    "Norm of the gradient of the loss with respect to the input at each time step (0 = first input of the "
    "sequence), at initialization and after the last update (mean over seeds, log scale). A line falling "
    "toward time step 0 is a gradient vanishing back through time."
)


def input_gradient_vs_timestep(timesteps: pd.DataFrame, palette: dict) -> Figure:
    """Two panels sharing a log y axis: step 0, and each run's last recorded step after it."""
    last = timesteps.groupby(["variant", "seed"])["step"].transform("max")
    panels = [
        ("at initialization (step 0)", timesteps[timesteps["step"] == 0]),
        ("after training (last step)", timesteps[(timesteps["step"] == last) & (last > 0)]),
    ]
    figure = new_figure(10, 3.8)
    axes = figure.subplots(1, 2, sharey=True, gridspec_kw={"wspace": 0.08})
    for ax, (heading, rows) in zip(axes, panels, strict=True):
        means = 10 ** _all_seeds_log_mean(rows).dropna() if len(rows) else None
        for variant, color in palette.items():
            if means is not None and variant in means.index.get_level_values(0):
                line = means.xs(variant, level=0).sort_index()
                ax.plot(line.index, line.to_numpy(), color=color, linewidth=1.5, label=variant)
        if means is None or means.empty:
            ax.text(0.5, 0.5, "no records", ha="center", va="center", transform=ax.transAxes)
        title(ax, heading)
        ax.set_xlabel("time step (0 = first input)")
        log_y(ax)
    axes[0].set_ylabel("‖∂loss/∂x_t‖ (L2 over batch and features)")
    legend(axes[1], source=axes[0] if axes[0].get_lines() else axes[1])
    return figure


def _all_seeds_log_mean(rows: pd.DataFrame) -> pd.Series:
    """Mean over seeds of log10(input_grad_norm) by (variant, timestep); NaN unless every seed is finite > 0."""
    values = rows["input_grad_norm"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values)
    logs[~np.isfinite(logs)] = np.nan
    grouped = pd.Series(logs, index=rows.index).groupby([rows["variant"], rows["timestep"]])
    return grouped.mean().where(grouped.count() == grouped.size())
