"""Records of a user's monitored `fit`, in the schema the suites write (docs/design.md §6).

A user's model is written as a suite with one variant per model (or per configuration the user
names), so `python -m tfbench report OUT` renders it with the same tables and figures.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd

from tfbench.analysis import verdict
from tfbench.harness.plan import RecordPlan
from tfbench.harness.record_tables import layers_table, steps_table
from tfbench.records import output_folder
from tfbench.records import store as records
from tfbench.records.manifest import build_manifest, utc_now
from tfbench.records.names import label, plain_name, refuse_links
from tfbench.records.schema import HIGHER_IS_BETTER
from tfbench.spec.limits import MAX_SEED_VALUE, check_count


def run_tables(model, suite: str, variant: str, seed: int):
    """(runs.csv row, steps table, layers table) from a MonitoredUserModel's buffers."""
    done = int(model.optimizer.iterations.numpy())
    first, last = model.first_step, done - 1
    steps = steps_table(model.fetch_steps(0, last + 1), model.validations, last, last + 1)
    steps = steps[steps.step >= first].reset_index(drop=True)
    layers = layers_table(model, RecordPlan(steps=done, recorded=model.recorded_steps()), last)
    layers = layers[layers.step >= first].reset_index(drop=True)
    trained = steps.dropna(subset=["loss"])
    bad = verdict.first_divergent_step(trained["loss"], trained["global_grad_norm"], _first(trained["loss"]))
    if bad is not None:  # records end at the first non-finite step, as for a suite's run
        stop = int(trained["step"].iloc[bad])
        steps, layers = steps[steps.step <= stop], layers[layers.step <= stop]
    row = summary_row(model, suite, variant, seed, steps, layers, diverged_at=None if bad is None else stop)
    keys = {"suite": suite, "variant": variant, "seed": seed}
    return row, steps.assign(**keys), layers.assign(**keys)


def _first(values) -> float:
    return float(values.iloc[0]) if len(values) else math.nan


def summary_row(model, suite, variant, seed, steps, layers, diverged_at) -> dict:
    validation = steps.dropna(subset=["val_loss"])
    higher = HIGHER_IS_BETTER[model.metric_name]
    # With layers= a subset, the verdict compares the first and the last-but-one watched layers.
    ranked = layers.assign(depth=layers["depth"].rank(method="dense").astype(int)) if len(layers) else layers
    start = ranked[ranked.step == ranked.step.min()] if len(ranked) else ranked
    end = ranked[ranked.step == ranked.step.max()] if len(ranked) else ranked
    start_verdict, _, kernel_ratio, delta_ratio = verdict.judge_step(start)
    counts = np.diff([model.first_step, *[step for step, _ in model.epoch_times]])
    seconds = np.array([t for _, t in model.epoch_times])
    if len(counts) > 1:  # the first epoch traces the train step: left out, as for a suite's run
        counts, seconds = counts[1:], seconds[1:]
    return {
        "suite": suite, "factor": "model", "variant": variant, "level": variant, "seed": seed,
        "status": "ok" if diverged_at is None else "diverged",
        "verdict": start_verdict,
        "verdict_end": "diverged" if diverged_at is not None else verdict.judge_step(end)[0],
        "steps": int(steps["loss"].notna().sum()) if diverged_at is None else diverged_at - model.first_step,
        "metric_name": model.metric_name,
        "final_loss": _first(validation["val_loss"].iloc[-1:]) if diverged_at is None else math.nan,
        "final_metric": _first(validation["val_metric"].iloc[-1:]) if diverged_at is None else math.nan,
        "best_metric": (validation["val_metric"].max() if higher else validation["val_metric"].min())
        if len(validation) else math.nan,
        "log10_grad_ratio": kernel_ratio, "log10_delta_ratio": delta_ratio,
        "log10_time_ratio": math.nan,  # a monitored fit records no input gradients per time step
        "wall_s": sum(t for _, t in model.epoch_times),
        "steps_per_s": float(counts.sum() / seconds.sum()) if seconds.sum() > 0 else math.nan,
        "setup_hash": hashlib.sha256(f"{model.user_model.name}/{variant}/{seed}".encode()).hexdigest()[:16],
        "error": "",
    }  # fmt: skip


def check_record_names(suite, variant, seed) -> None:
    """save_records' arguments: the suite a plain folder name, the variant a label, the seed in range."""
    plain_name(suite, "save_records suite")
    if variant is not None:
        label(variant, "save_records variant")
    check_count("seed=", seed, MAX_SEED_VALUE, minimum=0)


def save_run(out, suite: str, row: dict, steps: pd.DataFrame, layers: pd.DataFrame, monitor: str) -> Path:
    """Add one run to OUT/<suite>, replacing an earlier one with the same (variant, seed), and describe
    the suite in OUT/manifest.json; OUT must be new, empty or a tfbench folder, and is locked meanwhile."""
    plain_name(suite, "save_records suite")  # before the folder is touched
    with output_folder.writing(out, option="out") as out:
        return _save_run(out, suite, row, steps, layers, monitor)


def _save_run(out: Path, suite: str, row: dict, steps: pd.DataFrame, layers: pd.DataFrame, monitor: str) -> Path:
    label(row["variant"], "save_records variant")
    folder = refuse_links(out, suite)
    folder.mkdir(parents=True, exist_ok=True)
    state = records.read_suite(folder) if (folder / records.RUNS_FILE).is_file() else records.SuiteRecords.empty()
    manifest = records.read_manifest(out) if (out / records.MANIFEST_FILE).is_file() else None
    if manifest is None:
        manifest = build_manifest("user", [], monitor, {})
    state = state.with_run(row, steps, layers)
    records.write_suite(folder, state)  # only once both files it rewrites were read
    variants = list(dict.fromkeys(state.runs["variant"].astype(str)))
    manifest.setdefault("suites", {})[suite] = {
        "factor": "model",
        "question": f"How do gradients flow through {', '.join(variants)} in its own fit?",
        "reference": variants[0],
        "levels": variants,
    }
    manifest["seeds"] = sorted({*manifest.get("seeds", []), int(row["seed"])})
    manifest["finished"] = utc_now()
    records.write_json(out / records.MANIFEST_FILE, manifest)
    return folder
