"""Runs in parallel (--workers, --executor ray) record exactly what a serial run records, and a
worker process that dies costs one failed row, not the run. Every test drives the real CLI.

Only the timing columns (records.schema.TIMING_COLUMNS) may differ between runs: they measure the machine.
"""

from __future__ import annotations

import importlib.util
import os
import re
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

# A CNN: its convolution gradients are the kernels whose sums depend on the thread count.
SUITE_FILE = """
    from tfbench import Setup, Suite

    SUITE = Suite(
        name="parallel_probe",
        factor="activation",
        question="Does a parallel run record what a serial one does?",
        base=Setup(model="cnn", depth=2, width=8, steps=12, learning_rate=0.05),
        levels=["tanh", "relu"],
    )
"""

# One level's model builder kills its own process: only a worker process can survive that.
CRASH_FILE = """
    import os

    from tfbench import Setup, Suite


    def dies(setup):
        os._exit(7)


    SUITE = Suite(
        name="crash_probe",
        factor="model",
        question="Does a worker that dies cost only its own run?",
        base=Setup(depth=2, width=8, steps=6),
        levels={"mlp": "mlp", "dies": dies, "cnn": "cnn"},  # the pool breaks under both neighbours
    )
"""


def tfbench(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tfbench", "run", *map(str, args)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def records(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        "runs": pd.read_csv(folder / "runs.csv", dtype={"setup_hash": str}).drop(columns=TIMING),
        "steps": pd.read_parquet(folder / "steps.parquet"),
        "layers": pd.read_parquet(folder / "layers.parquet"),
    }


def assert_same_records(actual: Path, expected: Path) -> None:
    got, want = records(actual), records(expected)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "parallel_probe.py"
    path.write_text(textwrap.dedent(SUITE_FILE))
    return path


@pytest.fixture(scope="module")
def serial_run(suite_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    result = tfbench(suite_file, "--seeds", "2", "--out", out, "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "parallel_probe"


def test_two_workers_record_exactly_what_a_serial_run_records(suite_file, serial_run, tmp_path):
    result = tfbench(suite_file, "--seeds", "2", "--out", tmp_path, "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    progress = [line for line in result.stdout.splitlines() if re.match(r"\[\d/4\] parallel_probe ", line)]
    assert len(progress) == 4  # one line per (variant, seed), in the planned order
    assert_same_records(tmp_path / "parallel_probe", serial_run)


def page_text(path: Path) -> str:
    return re.sub(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "Generated (time)", path.read_text())


def test_a_pool_run_renders_each_suite_page_in_a_worker_and_never_imports_tensorflow(suite_file, tmp_path):
    """The driver of a process pool hands checks, calibration and report pages to its workers: it never
    imports TensorFlow itself, and the pages its workers render as each suite finishes are the pages
    `tfbench report` renders afterwards from the same records."""
    script = ("import sys; from tfbench.cli import main; code = main(sys.argv[1:]); "
              "print('driver imported tensorflow:', 'tensorflow' in sys.modules); sys.exit(code)")  # fmt: skip
    out = tmp_path / "run"
    command = [sys.executable, "-c", script, "run", str(suite_file), "--out", str(out), "--workers", "2"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "driver imported tensorflow: False" in result.stdout
    suite = out / "parallel_probe"
    # Rendered before training was declared finished: by a worker, not by the driver afterwards.
    assert (suite / "index.html").stat().st_mtime_ns <= (out / "manifest.json").stat().st_mtime_ns
    pages = {path.relative_to(out): path.read_bytes() for path in sorted(suite.rglob("*.png"))}
    html = page_text(suite / "index.html")
    assert len(pages) >= 5 and "tanh" in html
    for path in [*suite.rglob("*.png"), suite / "index.html"]:
        path.unlink()
    rerun = subprocess.run([sys.executable, "-m", "tfbench", "report", str(out)], cwd=REPO, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert page_text(suite / "index.html") == html
    assert {path.relative_to(out): path.read_bytes() for path in sorted(suite.rglob("*.png"))} == pages


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (workers inherit the driver's environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # ended meanwhile, or not ours to read
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="needs Linux's /proc")
def test_a_driver_killed_outright_leaves_no_worker_behind(suite_file, tmp_path):
    """SIGKILL gives the driver no chance to stop its pool: its workers notice it is gone and end, and
    with them the server that forked them."""
    marker = f"TFBENCH_TEST_RUN={tmp_path.name}"
    env = {**os.environ, "TFBENCH_TEST_RUN": tmp_path.name}
    command = [sys.executable, "-m", "tfbench", "run", str(suite_file), "--seeds", "2", "--out", str(tmp_path),
               "--workers", "2"]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None and len(processes_with(marker)) < 4:
        time.sleep(0.05)  # the driver, the server and two workers
    assert process.poll() is None and len(processes_with(marker)) >= 4
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and processes_with(marker):
        time.sleep(0.2)
    assert processes_with(marker) == []


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")
def test_ray_tasks_record_exactly_what_a_serial_run_records(suite_file, serial_run, tmp_path):
    result = tfbench(suite_file, "--seeds", "2", "--out", tmp_path, "--executor", "ray", "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_same_records(tmp_path / "parallel_probe", serial_run)


@pytest.mark.slow
def test_a_worker_that_dies_is_one_failed_row_and_the_others_finish(tmp_path):
    path = tmp_path / "crash_probe.py"
    path.write_text(textwrap.dedent(CRASH_FILE))
    result = tfbench(path, "--profile", "quick", "--out", tmp_path / "out", "--workers", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    runs = pd.read_csv(tmp_path / "out" / "crash_probe" / "runs.csv").set_index("variant")
    assert runs.index.tolist() == ["mlp", "dies", "cnn"]  # suite order, whatever finished first
    assert runs["status"].to_dict() == {"mlp": "ok", "dies": "failed", "cnn": "ok"}
    assert runs.loc["dies", "error"] == "WorkerLost: the worker process running it died"
    assert "failed: crash_probe/dies seed 0: WorkerLost" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_with_workers_saves_what_finished_and_resume_completes_it(suite_file, serial_run, tmp_path):
    command = [sys.executable, "-m", "tfbench", "run", str(suite_file), "--seeds", "2", "--out", str(tmp_path),
               "--workers", "2"]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs_file = tmp_path / "parallel_probe" / "runs.csv"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None and not runs_file.is_file():
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr.splitlines()[-1] and "Traceback" not in stderr
    saved = len(pd.read_csv(runs_file))
    assert 1 <= saved < 4

    resumed = tfbench(suite_file, "--seeds", "2", "--out", tmp_path, "--workers", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{saved} kept from an earlier run" in resumed.stdout
    assert_same_records(tmp_path / "parallel_probe", serial_run)
