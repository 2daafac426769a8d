"""The index page's account of where a run's time went, summed from runs.csv (report/time_account.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tfbench.report.time_account import memory_line, monitor_line, time_line

MANIFEST = {"monitor": "standard", "started": "2026-01-01T10:00:00+00:00", "finished": "2026-01-01T10:02:30+00:00"}


def runs(monitor_s) -> pd.DataFrame:
    return pd.DataFrame({
        "wall_s": [10.0, 20.0, 30.0], "setup_s": [2.0, 0.0, 3.0], "step_s": [5.0, 10.0, 20.0], "monitor_s": monitor_s,
    })  # fmt: skip


def test_time_line_sums_worker_time_and_splits_it():
    line = time_line(MANIFEST, runs([0.1, 0.2, np.nan]))
    assert line.startswith("2 min 30 s from start to end of training; 3 runs took 1 min 0 s of worker time")
    assert "building and tracing 5.0 s, training steps 35.0 s" in line and "tables) 20.0 s" in line


def test_monitor_line_measures_over_runs_that_could_measure_it():
    line = monitor_line(MANIFEST, runs([0.5, 1.0, np.nan]))  # 1.5 s added to 15 s of steps: 1.5 / 13.5
    assert "added 1.5 s to the 15.0 s of training steps of the 2 runs" in line
    assert f"{1.5 / 13.5:+.1%}" in line


def test_monitor_line_says_when_nothing_could_be_measured():
    assert "not measurable in this run" in monitor_line(MANIFEST, runs([np.nan] * 3))
    assert "not measurable in this run" in monitor_line(MANIFEST, runs([np.nan] * 3).drop(columns="monitor_s"))
    assert "not recorded" in time_line({}, runs([np.nan] * 3))


def test_memory_line_gives_the_peak_sum_in_gb_or_says_it_was_not_recorded():
    memory = {"peak_pss_mb": 1536.0, "largest_process_pss_mb": 512.0, "processes": 4}
    line = memory_line({**MANIFEST, "memory": memory})
    assert line.startswith("1.50 GB at the peak") and "4 processes" in line and "the largest 0.50 GB" in line
    assert memory_line(MANIFEST).startswith("not recorded")
