"""Speed of one training step: the monitored harness in each monitor mode against plain `model.fit`.

Three models, each its own benchmark group: the 10x64 ReLU MLP on digits (the activation suite's
standard setup), a 4-layer CNN on digits as 8x8 images, and an LSTM on the adding problem. Each
benchmark runs one whole run of `steps` updates per round, after a warm-up run that traces the
functions. The monitored model's iteration counter is reset before each round so every round records
exactly the steps a real run records. Ratios are computed from the fastest round of each benchmark in
this process (noise on a shared machine only ever adds time) and stored in extra_info.
"""

from __future__ import annotations

import keras
import pytest

from tfbench.data.batches import train_batches
from tfbench.data.loading import load_data
from tfbench.data.tasks import DEFAULT_LOSS
from tfbench.harness.build import build_model, make_optimizer
from tfbench.harness.plan import RecordPlan
from tfbench.models.build import build_network
from tfbench.spec.setup import Setup

SETUPS = {
    "mlp": Setup(model="mlp", depth=10, width=64, activation="relu", data="digits", learning_rate=0.05, steps=600),
    "cnn": Setup(model="cnn", depth=4, width=16, activation="relu", data="digits", learning_rate=0.05, steps=300),
    "lstm": Setup(
        model="rnn", cell="lstm", depth=1, width=32, activation="tanh", data="adding", learning_rate=0.01, steps=300
    ),
}
RESULTS: dict[tuple[str, str], float] = {}


def monitored(setup, mode):
    data = load_data(setup.data)
    model = build_model(setup, data, seed=0, plan=RecordPlan.for_mode(setup.steps, mode))
    return model, train_batches(data, setup.batch_size, setup.steps, seed=0)


def plain(setup):
    data = load_data(setup.data)
    network = build_network(setup, data, seed=0)
    model = keras.Model(network.inputs, network.outputs)
    metric = "accuracy" if data.task == "classification" else "mae"
    model.compile(optimizer=make_optimizer(setup), loss=DEFAULT_LOSS[data.task], metrics=[metric])
    return model, train_batches(data, setup.batch_size, setup.steps, seed=0)


def one_run(setup, model, batches, reset):
    if reset:
        model.optimizer.iterations.assign(0)
    chunk = setup.effective_eval_every
    model.fit(batches, epochs=setup.steps // chunk, steps_per_epoch=chunk, verbose=0, shuffle=False)


def bench(benchmark, family, name, model, batches, reset):
    setup = SETUPS[family]
    one_run(setup, model, batches, reset)  # warm-up: tracing and first call stay out of the timing
    benchmark.pedantic(one_run, args=(setup, model, batches, reset), rounds=10, iterations=1)
    RESULTS[family, name] = setup.steps / benchmark.stats.stats.min
    benchmark.extra_info["steps_per_s"] = RESULTS[family, name]
    for (other_family, other), speed in RESULTS.items():
        if other_family == family:
            benchmark.extra_info[f"speed_vs_{other}"] = RESULTS[family, name] / speed
    if name != "monitor_none" and (family, "monitor_none") in RESULTS:
        benchmark.extra_info["overhead_vs_none"] = RESULTS[family, "monitor_none"] / RESULTS[family, name] - 1


@pytest.mark.parametrize("family", list(SETUPS))
@pytest.mark.parametrize("variant", ["plain_fit", "monitor_none", "monitor_standard", "monitor_full"])
def test_train_step(benchmark, family, variant):
    benchmark.group = f"train_step_{family}"
    if variant == "plain_fit":
        bench(benchmark, family, variant, *plain(SETUPS[family]), reset=False)
    else:
        bench(benchmark, family, variant, *monitored(SETUPS[family], variant.removeprefix("monitor_")), reset=True)
