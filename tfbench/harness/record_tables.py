"""The harness's buffers as tidy tables: steps (one row per step) and layers (one row per recorded
step and layer), in the column order of tfbench.records.schema."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tfbench.harness import monitor
from tfbench.harness.plan import RecordPlan


def steps_table(rows: np.ndarray, validations, last: int, total_steps: int) -> pd.DataFrame:
    """Per-step rows 0..last; a validation after N updates lands on row N (a new row when N = steps)."""
    table = pd.DataFrame(rows, columns=list(monitor.STEP_MEASURES))
    table.insert(0, "step", np.arange(len(table), dtype=np.int64))
    kept = [(s, loss, metric) for s, loss, metric in validations if s <= last or (s == total_steps and last == s - 1)]
    val = pd.DataFrame(kept, columns=["step", "val_loss", "val_metric"]).astype({"step": np.int64})
    return table.merge(val, on="step", how="outer").sort_values("step", ignore_index=True)


def layers_table(model, plan: RecordPlan, last: int) -> pd.DataFrame:
    values = model.fetch_layers()  # [recorded, layers, columns]
    keep = plan.recorded <= last
    steps = plan.recorded[keep]
    values = values[keep]
    n_layers = values.shape[1]
    table = pd.DataFrame(values.reshape(-1, values.shape[2]), columns=list(monitor.LAYER_MEASURES))
    table.insert(0, "depth", np.tile([s.depth for s in model.layer_slots], len(steps)).astype(np.int64))
    table.insert(0, "layer", np.tile([s.name for s in model.layer_slots], len(steps)))
    table.insert(0, "step", np.repeat(steps, n_layers).astype(np.int64))
    table["weight"] = np.tile([s.weight for s in model.layer_slots], len(steps))
    return table
