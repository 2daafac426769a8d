"""Speed of one training step: the monitored harness in each monitor mode against plain `model.fit`.

Every benchmark trains the same 10x64 ReLU MLP on digits with batch 64 for one 600-update run (the
activation suite's standard budget), after a warm-up run that traces the functions. The monitored
model's iteration counter is reset before each round so every round records exactly the steps a
real run records. Ratios are computed from the fastest round of each benchmark in this process and
stored in extra_info.
"""

from __future__ import annotations

import keras
import pytest

from tfbench.build import build_model, make_optimizer
from tfbench.data import load_data, train_batches
from tfbench.harness.plan import RecordPlan
from tfbench.models import build_network
from tfbench.spec import Setup

SETUP = Setup(model="mlp", depth=10, width=64, activation="relu", data="digits", learning_rate=0.05, steps=600)
CHUNK = SETUP.effective_eval_every
RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def data():
    return load_data(SETUP.data)


def monitored(data, mode):
    model = build_model(SETUP, data, seed=0, plan=RecordPlan.for_mode(SETUP.steps, mode))
    return model, train_batches(data, SETUP.batch_size, SETUP.steps, seed=0)


def plain(data):
    network = build_network(SETUP, data, seed=0)
    model = keras.Model(network.inputs, network.outputs)
    model.compile(optimizer=make_optimizer(SETUP), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, train_batches(data, SETUP.batch_size, SETUP.steps, seed=0)


def one_run(model, batches, reset):
    if reset:
        model.optimizer.iterations.assign(0)
    model.fit(batches, epochs=SETUP.steps // CHUNK, steps_per_epoch=CHUNK, verbose=0, shuffle=False)


def bench(benchmark, name, model, batches, reset):
    one_run(model, batches, reset)  # warm-up: tracing and first call stay out of the timing
    benchmark.pedantic(one_run, args=(model, batches, reset), rounds=10, iterations=1)
    # The fastest round: noise on a shared machine (other processes, CPU steal) only ever adds time.
    RESULTS[name] = SETUP.steps / benchmark.stats.stats.min
    benchmark.extra_info["steps_per_s"] = RESULTS[name]
    for other, speed in RESULTS.items():
        benchmark.extra_info[f"speed_vs_{other}"] = RESULTS[name] / speed


@pytest.mark.benchmark(group="train_step_mlp")
def test_plain_model_fit(benchmark, data):
    bench(benchmark, "plain_fit", *plain(data), reset=False)


@pytest.mark.benchmark(group="train_step_mlp")
@pytest.mark.parametrize("mode", ["none", "standard", "full"])
def test_monitored_fit(benchmark, data, mode):
    model, batches = monitored(data, mode)
    bench(benchmark, f"monitor_{mode}", model, batches, reset=True)
    if "monitor_none" in RESULTS:
        benchmark.extra_info["overhead_vs_none"] = RESULTS["monitor_none"] / RESULTS[f"monitor_{mode}"] - 1
