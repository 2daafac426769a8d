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


def test_graphs_of_evicted_models_are_freed(monkeypatch):
    """Every graph traced stayed alive through the custom gradient Keras' optimizer registers in
    TensorFlow's global gradient registry. Live traced graphs are counted with Python's own garbage
    collector, before and after training more graphs than a fresh cache holds: only the cached
    models' may remain (other tests' models may be alive too, hence the difference)."""
    import gc

    from tensorflow.python.framework.func_graph import FuncGraph

    from tfbench.harness.model_cache import CACHE_SIZE, ModelCache

    def executions() -> int:
        gc.collect()
        return sum(isinstance(g, FuncGraph) and g.name.startswith("on_dataset") for g in gc.get_objects())

    graphs = ["relu", "tanh", "elu", "sigmoid", "selu", "softplus", "softsign", "gelu", "swish", "linear"]
    assert len(graphs) > 2 * CACHE_SIZE
    monkeypatch.setattr("tfbench.harness.train.MODELS", ModelCache())
    before = executions()
    for activation in graphs:
        assert train_run(dataclasses.replace(BASE, activation=activation), seed=0).status == "ok"
    # A model of a 20-step run has one execution function (every step recorded).
    added = executions() - before
    assert added <= CACHE_SIZE, f"{added} more traced train functions alive after training {len(graphs)} graphs"
