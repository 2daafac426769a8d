"""Time to render the HTML report of all six card suites at the quick profile, from records alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfbench.report.html import write_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_records(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    subprocess.run(
        [sys.executable, "-m", "tfbench", "run", "all", "--profile", "quick", "--out", str(out)],
        cwd=ROOT, env=os.environ, check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.mark.benchmark(group="report")
def test_report_all_card_suites_quick(benchmark, quick_records):
    index = benchmark.pedantic(write_report, args=(quick_records,), rounds=3, iterations=1)
    assert index.is_file()
    benchmark.extra_info["suites"] = len([p for p in quick_records.iterdir() if (p / "runs.csv").is_file()])
