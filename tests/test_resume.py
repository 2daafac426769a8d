"""A run killed with SIGKILL mid-way, then resumed, ends with the records of an uninterrupted run.

Only the timing columns (records.schema.TIMING_COLUMNS) may differ: they measure the machine, not the model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from tfbench.records.schema import TIMING_COLUMNS

REPO = Path(__file__).resolve().parents[1]
TIMING = list(TIMING_COLUMNS)

SUITE_FILE = textwrap.dedent(
    """
    from tfbench import Setup, Suite

    SUITE = Suite(
        name="resume_probe",
        factor="activation",
        question="Does a resumed run record what an uninterrupted one does?",
        base=Setup(depth=3, width=8, steps=40, learning_rate=0.05),
        levels=["sigmoid", "relu", "tanh"],
    )
    """
)


def command(suite: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tfbench", "run", str(suite), "--seeds", "2", "--out", str(out), *extra]


def records(out: Path) -> dict[str, pd.DataFrame]:
    folder = out / "resume_probe"
    runs = pd.read_csv(folder / "runs.csv", dtype={"setup_hash": str}).drop(columns=TIMING)
    return {
        "runs": runs,
        "steps": pd.read_parquet(folder / "steps.parquet"),
        "layers": pd.read_parquet(folder / "layers.parquet"),
    }


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "resume_probe.py"
    path.write_text(SUITE_FILE)
    return path


def test_sigkill_then_resume_gives_the_records_of_an_uninterrupted_run(suite_file, tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(command(suite_file, whole), cwd=REPO, check=True, capture_output=True, timeout=300)

    process = subprocess.Popen(
        command(suite_file, killed), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    runs_file = killed / "resume_probe" / "runs.csv"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:  # kill once some, not all, runs are saved
        if runs_file.is_file() and len(pd.read_csv(runs_file)) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = len(pd.read_csv(runs_file))
    assert 2 <= saved < 6

    resumed = subprocess.run(
        command(suite_file, killed, "--resume"), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{saved} kept from an earlier run" in resumed.stdout

    expected, actual = records(whole), records(killed)
    for name in ("runs", "steps", "layers"):
        pd.testing.assert_frame_equal(actual[name], expected[name], check_exact=True, obj=name)
