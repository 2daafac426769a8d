"""A throwaway git repository for the speed gate's tests: this checkout's tfbench and a tiny suite, committed,
then a second commit that makes one variant slower (a pause in each update; results unchanged)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TINY_SUITE = '''"""A tiny suite for the speed gate: spirals, one hidden layer, the width-8 level paused per update."""

import time

import keras
import tensorflow as tf

from tfbench import Setup, Suite

PAUSE_S = {pause!r}  # seconds of busy work in each forward pass of the width-8 variant


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return 0.0


class Pause(keras.layers.Layer):
    """Spins on the clock in every forward pass (work both clocks see); adds zero times its result, so outputs
    are unchanged."""

    def __init__(self, seconds, **kwargs):
        super().__init__(**kwargs)
        self.seconds = seconds

    def call(self, x):
        if not self.seconds:
            return x
        done = tf.reshape(tf.py_function(lambda: spin(self.seconds), [], tf.float32), [])
        return x + 0.0 * tf.stop_gradient(done)


def tiny(setup):
    inputs = keras.Input((2,))
    paused = Pause(PAUSE_S if setup.width == 8 else 0.0)(inputs)
    hidden = keras.layers.Dense(setup.width, activation="relu")(paused)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))


SUITE = Suite(
    name="tiny",
    factor="width",
    question="Does the speed gate see a pause?",
    base=Setup(model=tiny, data="spirals", batch_size=32, steps=40, learning_rate=0.05),
    levels=[4, 8],
)
'''


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(folder: Path, suite_name: str, suite_text: str) -> tuple[Path, str]:
    """(repo, commit): this checkout's tfbench package and one suite file, committed."""
    repo = folder / "repo"
    shutil.copytree(ROOT / "tfbench", repo / "tfbench", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "suites").mkdir()
    (repo / "suites" / f"{suite_name}.py").write_text(suite_text)
    git(repo, "init", "-q")
    return repo, commit_all(repo, f"{suite_name} suite")


def commit_suite(repo: Path, suite_name: str, suite_text: str, message: str) -> str:
    (repo / "suites" / f"{suite_name}.py").write_text(suite_text)
    return commit_all(repo, message)


def make_repo(folder: Path, pause_s: float) -> tuple[Path, str, str]:
    """(repo, base commit, head commit): head pauses `pause_s` per update of tiny/8."""
    repo, base = new_repo(folder, "tiny", TINY_SUITE.format(pause=0.0))
    head = commit_suite(repo, "tiny", TINY_SUITE.format(pause=pause_s), "pause in tiny/8")
    return repo, base, head
