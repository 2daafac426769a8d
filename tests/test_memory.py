"""Memory stays flat in the number of runs of one process: models reused, evicted and rebuilt leave
nothing behind (the model cache is bounded, Keras' session is cleared on every build)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tfbench.harness.train import train_run
from tfbench.spec.setup import Setup

BASE = Setup(depth=3, width=32, steps=20, eval_every=10, learning_rate=0.05)
# More graphs than the cache holds, so runs alternate between reuse, eviction and a fresh build.
ACTIVATIONS = ["relu", "tanh", "elu", "sigmoid", "selu", "softplus"]


def resident_mb() -> float:
    """This process's resident set now (not its peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_resident_memory_after_the_30th_run_is_within_150_mb_of_the_5th():
    resident = []
    for run in range(30):
        # Two seeds of each graph in a row (the second reuses the first's model), graphs in turn.
        setup = dataclasses.replace(BASE, activation=ACTIVATIONS[(run // 2) % len(ACTIVATIONS)])
        result = train_run(setup, seed=run % 2, mode="standard")
        assert result.status == "ok"
        resident.append(resident_mb())
    assert resident[29] - resident[4] < 150, f"RSS grew from {resident[4]:.0f} MB to {resident[29]:.0f} MB"
