"""The monitor's cost in the harness: each monitor mode against `--monitor none` and plain `model.fit`
(the same network in Keras' own train step, with the harness's steps_per_execution and no compiled
metrics, so that it differs from `none` in the train step alone).

Three models, each its own benchmark: the 10x64 ReLU MLP on digits (the activation suite's setup), a
4-layer CNN on digits as 8x8 images, and an LSTM on the adding problem. Two figures per model, the
variants timed in turns in one process (tests/bench/alternate.py), fastest of 10 rounds:

- per step (`test_train_step`): one `fit` of the run's updates, as the harness calls it, without
  validation; the iteration counter is reset before each so every round records the steps a run does;
- end to end (`test_train_run`): a whole `train_run` as `tfbench run` does it for one seed (the
  traced model reused, as every run after a graph's first one), validation and tables included.

extra_info holds every variant's fastest time and `overhead_vs_none` (0.03 is 3 % slower).
"""

from __future__ import annotations

import keras
import pytest
from alternate import alternate, overheads

from tfbench.data.batches import train_batches
from tfbench.data.loading import load_data
from tfbench.data.tasks import DEFAULT_LOSS
from tfbench.harness.build import build_model, make_optimizer
from tfbench.harness.plan import MONITOR_MODES, RecordPlan, steps_per_execution
from tfbench.harness.train import train_run
from tfbench.models.build import build_network
from tfbench.spec.setup import Setup

SETUPS = {
    "mlp": Setup(model="mlp", depth=10, width=64, activation="relu", data="digits", learning_rate=0.05, steps=600),
    "cnn": Setup(model="cnn", depth=4, width=16, activation="relu", data="digits", learning_rate=0.05, steps=300),
    "lstm": Setup(
        model="rnn", cell="lstm", depth=1, width=32, activation="tanh", data="adding", learning_rate=0.01, steps=300
    ),
}


def monitored_fit(setup, mode):
    data = load_data(setup.data)
    model = build_model(setup, data, seed=0, plan=RecordPlan.for_setup(setup, mode))
    batches = train_batches(data, setup.batch_size, setup.steps, seed=0)
    return lambda: fit(setup, model, batches, reset=True)


def plain_fit(setup):
    """The same network in Keras' own train step, like for like with the harness: as many steps per
    execution as the harness runs, and no compiled metrics (the harness computes none in its step)."""
    data = load_data(setup.data)
    network = build_network(setup, data, seed=0)
    model = keras.Model(network.inputs, network.outputs)
    model.compile(
        optimizer=make_optimizer(setup),
        loss=DEFAULT_LOSS[data.task],
        steps_per_execution=steps_per_execution(setup.steps, setup.effective_eval_every),
    )
    batches = train_batches(data, setup.batch_size, setup.steps, seed=0)
    return lambda: fit(setup, model, batches, reset=False)


def fit(setup, model, batches, reset):
    if reset:
        model.optimizer.iterations.assign(0)
    chunk = setup.effective_eval_every
    model.fit(batches, epochs=setup.steps // chunk, steps_per_epoch=chunk, verbose=0, shuffle=False)


@pytest.mark.parametrize("family", list(SETUPS))
def test_train_step(benchmark, family):
    benchmark.group = "train_step"
    setup = SETUPS[family]
    variants = {f"monitor_{mode}": monitored_fit(setup, mode) for mode in MONITOR_MODES}
    variants["plain_fit"] = plain_fit(setup)
    best = alternate(benchmark, variants)
    benchmark.extra_info["overhead_vs_none"] = overheads(best, "monitor_none")


@pytest.mark.parametrize("family", list(SETUPS))
def test_train_run(benchmark, family):
    benchmark.group = "train_run"
    setup = SETUPS[family]
    variants = {f"monitor_{mode}": (lambda mode=mode: train_run(setup, 0, mode)) for mode in MONITOR_MODES}
    best = alternate(benchmark, variants)
    benchmark.extra_info["overhead_vs_none"] = overheads(best, "monitor_none")
