"""Cost of `tfbench.monitored` on a user's own model in the user's own `fit`, against plain `fit`.

The model is the activation suite's 10x64 ReLU MLP written as a user would (a Sequential of Dense
layers with built-in activations), 600 updates of batch 64 on digits per round, in 10 epochs of 60
steps as the harness runs it. `every=3` records per-layer statistics on 200 of the 600 steps, as the
harness's `standard` mode does; `every=1` on all of them, as `full` does. Ratios come from the
fastest round of each benchmark (noise on a shared machine only ever adds time).
"""

from __future__ import annotations

import keras
import pytest

import tfbench
from tfbench.data.batches import train_batches
from tfbench.data.loading import load_data

STEPS, CHUNK, BATCH = 600, 60, 64
RESULTS: dict[str, float] = {}


def user_model():
    keras.utils.set_random_seed(0)
    layers = [keras.layers.Dense(64, activation="relu") for _ in range(10)]
    model = keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def one_run(model, batches):
    model.optimizer.iterations.assign(0)  # every round records the same steps into the same buffers
    model.fit(batches, epochs=STEPS // CHUNK, steps_per_epoch=CHUNK, verbose=0)


@pytest.mark.parametrize("variant", ["plain_fit", "every_10", "every_3", "every_1"])
def test_user_monitor_overhead(benchmark, variant):
    benchmark.group = "user_monitor_mlp"
    data = load_data("digits")
    batches = train_batches(data, BATCH, STEPS, seed=0)
    model = user_model()
    if variant != "plain_fit":
        model = tfbench.monitored(model, every=int(variant.removeprefix("every_")))
    one_run(model, batches)  # warm-up: tracing stays out of the timing
    benchmark.pedantic(one_run, args=(model, batches), rounds=10, iterations=1)
    RESULTS[variant] = STEPS / benchmark.stats.stats.min
    benchmark.extra_info["steps_per_s"] = RESULTS[variant]
    if variant != "plain_fit" and "plain_fit" in RESULTS:
        benchmark.extra_info["overhead_vs_plain_fit"] = RESULTS["plain_fit"] / RESULTS[variant] - 1
