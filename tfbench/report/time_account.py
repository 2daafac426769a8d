"""Where a run's time went, from its own records: the index page's "Time", "Memory" and "Monitor cost" lines.

Every figure is summed from runs.csv (docs/design.md §6): `wall_s` per run, of which `setup_s`
(building and tracing), `step_s` (the train function's executions) and `monitor_s` (what the
per-layer statistics added to those executions, measured in the run against its own unrecorded
executions). Worker time is summed over workers, so with two workers it can exceed the wall time
from start to finish. The memory is the manifest's `memory` (engine/memory_peak.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def column_sum(runs: pd.DataFrame, name: str) -> float:
    return float(runs[name].sum()) if name in runs else float("nan")


def seconds(value: float) -> str:
    if not np.isfinite(value):
        return "not recorded"
    minutes, rest = divmod(value, 60)
    return f"{int(minutes)} min {rest:.0f} s" if minutes else f"{value:.1f} s"


def elapsed(manifest: dict) -> float:
    try:
        started = dt.datetime.fromisoformat(manifest["started"])
        finished = dt.datetime.fromisoformat(manifest["finished"])
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return (finished - started).total_seconds()


def time_line(manifest: dict, runs: pd.DataFrame) -> str:
    trained = column_sum(runs, "wall_s")
    setup, steps = column_sum(runs, "setup_s"), column_sum(runs, "step_s")
    rest = trained - setup - steps
    return (
        f"{seconds(elapsed(manifest))} from start to end of training; {len(runs)} runs took {seconds(trained)} of "
        f"worker time: building and tracing {seconds(setup)}, training steps {seconds(steps)}, the rest "
        f"(validation, weight resets, tables) {seconds(rest)}"
    )


def memory_line(manifest: dict) -> str:
    memory = manifest.get("memory")
    if not isinstance(memory, dict) or not isinstance(memory.get("peak_pss_mb"), (int, float)):
        return "not recorded in this run's manifest (tfbench measures it on Linux)"
    largest = memory.get("largest_process_pss_mb")
    largest_text = f", the largest {largest / 1024:.2f} GB" if isinstance(largest, (int, float)) else ""
    return (
        f"{memory['peak_pss_mb'] / 1024:.2f} GB at the peak: the proportional set sizes of the run's "
        f"{memory.get('processes', '?')} processes on this machine summed (shared pages counted once){largest_text}"
    )


def monitor_line(manifest: dict, runs: pd.DataFrame) -> str:
    mode = manifest.get("monitor", "standard")
    measured = runs.dropna(subset=["monitor_s", "step_s"]) if {"monitor_s", "step_s"} <= set(runs) else runs[:0]
    if measured.empty:
        return (
            f"per-layer statistics in '{mode}' mode; not measurable in this run: no run had both recorded and "
            "unrecorded executions to compare (every step recorded, as in full mode and runs under 100 updates)"
        )
    added, steps = float(measured["monitor_s"].sum()), float(measured["step_s"].sum())
    share = added / (steps - added) if steps > added else float("nan")
    return (
        f"per-layer statistics in '{mode}' mode added {seconds(added)} to the {seconds(steps)} of training steps "
        f"of the {len(measured)} runs where it could be measured ({share:+.1%} over the same steps unrecorded), "
        "measured in this run"
    )
