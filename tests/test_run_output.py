"""What `tfbench run` prints (docs/design.md §8): no TensorFlow start-up notices on stderr whatever a
suite file imports first, each progress line with its place among the runs, and the total wall time
at the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tfbench.cli import duration_text
from tfbench.engine.runner import InOrder
from tfbench.quiet import tensorflow_notices_filtered

REPO = Path(__file__).resolve().parents[1]
# Lines TensorFlow 2.x writes to file descriptor 2 at import and device probing, as it writes them.
NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796589177.612365    9826 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1796589177.612712    9826 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
    "I0000 00:00:1796589177.666163    9826 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.",
    "E0000 00:00:1796589182.716571    9826 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)",
]
TF_WORDS = ("onednn", "cuda", "absl", "cpu_feature_guard", "tensorflow binary")


def test_the_filter_drops_tensorflow_notices_written_to_the_descriptor_and_keeps_the_rest(capfd):
    with tensorflow_notices_filtered():
        os.write(2, "\n".join([NOTICES[0], "my suite: a warning of its own", *NOTICES[1:], ""]).encode())
        os.write(2, b"UserWarning: another\n")
    assert capfd.readouterr().err == "my suite: a warning of its own\nUserWarning: another\n"


def test_progress_lines_carry_their_place_and_come_out_in_planned_order():
    logged = []
    progress = InOrder(logged.append, total=12)
    for index in (1, 0, 2, 11, 3, 4, 5, 6, 7, 8, 10, 9):
        progress.add(index, f"run {index}")
    assert logged == [f"[{i + 1:>2}/12] run {i}" for i in range(12)]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (45.2, "45 s"), (59.6, "1 m 00 s"), (112, "1 m 52 s"), (7380, "2 h 03 m")]
)
def test_wall_time_reads_in_seconds_minutes_and_hours(seconds, text):
    assert duration_text(seconds) == text


SUITE_FILE = """\
import keras  # TensorFlow is imported here, before tfbench has a say

from tfbench import Setup, Suite

SUITE = Suite(name="keras_first", factor="activation", question="Does a suite file that imports Keras stay quiet?",
              base=Setup(depth=1, width=4, steps=4), levels=["relu", "tanh"])
"""


def test_a_suite_file_importing_keras_first_leaves_stderr_quiet_and_the_run_ends_with_its_time(tmp_path):
    suite = tmp_path / "keras_first.py"
    suite.write_text(textwrap.dedent(SUITE_FILE))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "tfbench", "run", str(suite), "--profile", "quick", "--out", str(tmp_path / "out")]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not [word for word in TF_WORDS if word in result.stderr.lower()], result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    places = [re.match(r"\[(\d+)/(\d+)\] keras_first +(\S+) ", line) for line in lines[:2]]
    assert [m.groups() for m in places if m] == [("1", "2", "relu"), ("2", "2", "tanh")], result.stdout
    assert re.fullmatch(r"done in (\d+ s|\d+ m \d\d s)", lines[-1]), lines[-1]
