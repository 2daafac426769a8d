"""End-to-end wall time and peak memory of `python -m tfbench run`, TensorFlow import included.

Each benchmark runs the CLI in a fresh subprocess, as a user does, and records the child's peak
resident memory (ru_maxrss that wait4 reports for exactly that child) in extra_info.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CARD_SUITES = ["activation", "initializer", "regularization", "batchnorm", "clipping", "optimizer"]


def run_cli(args, out: Path) -> dict:
    """Run the CLI in a child process; return its peak RSS in MiB."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pid = os.fork()
    if pid == 0:  # child: become the CLI, so wait4 reports exactly its own peak memory
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "tfbench", *args, "--out", str(out)], env)
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return {"peak_rss_mib": usage.ru_maxrss / 1024}


@pytest.mark.benchmark(group="run_end_to_end")
def test_run_all_quick(benchmark, tmp_path):
    info = benchmark.pedantic(
        lambda: run_cli(["run", "all", "--profile", "quick"], tmp_path / "quick"), rounds=1, iterations=1
    )
    benchmark.extra_info.update(info, wall_s=benchmark.stats.stats.max)


@pytest.mark.benchmark(group="run_end_to_end")
@pytest.mark.parametrize("suite", CARD_SUITES)
def test_standard_suite(benchmark, tmp_path, suite):
    """Wall time and peak memory of a standard-profile run (3 seeds) of each card suite."""
    info = benchmark.pedantic(
        lambda: run_cli(["run", suite, "--profile", "standard"], tmp_path / suite), rounds=1, iterations=1
    )
    benchmark.extra_info.update(info, wall_s=benchmark.stats.stats.max)
