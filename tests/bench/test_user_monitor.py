"""Cost of `tfbench.monitored` on a user's own model in the user's own `fit`, against plain `fit`.

Three models, the variants timed in turns in one process (tests/bench/alternate.py), fastest of 10
rounds; extra_info holds every variant's fastest time and `overhead_vs_plain_fit` (0.05 is 5 % slower):

- `mlp`: the activation suite's 10x64 ReLU MLP written as a user would (a Sequential of Dense layers
  with built-in activations), 600 updates of batch 64 on digits per round in 10 epochs of 60 steps.
  `every=3` records 200 of the 600 steps, `every=1` all of them;
- `mobilenet_v2`: keras.applications MobileNetV2 (alpha 0.35, 32x32x3 inputs, weights=None, 10
  classes), 20 updates of batch 32 on random images;
- `transformer`: a one-block Transformer text classifier (token and position Embedding,
  MultiHeadAttention, LayerNormalization, a feed-forward block), 20 updates of batch 32 on random
  sequences of 64 tokens.

Like for like: both sides run Keras' default `steps_per_execution=1` (one call of the train function
per update; the monitored model keeps the user's setting) and neither computes compiled metrics (the
monitored model skips them, so the plain model is compiled without them).

`test_user_monitor_fit_loop` times a user's loop of `fit` calls from a fresh model: MobileNetV2 as
above, nine calls of 10 updates, `every=2`, against the same loop of plain `fit` (no compiled metrics
either), the two alternated in one process, 5 rounds. extra_info holds each variant's fastest first
call (it traces the train function) and fastest total of the eight later calls, and their ratios to
plain `fit`'s (`first_call_ratio`, `later_calls_ratio`; 1.10 is 10 % slower). The same by the
process's CPU time (`later_calls_cpu_ratio`): a later call is about half a second, where this kind of
machine's wall clock jumps between levels (docs/speed.md), while the CPU time spreads half as much.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from alternate import alternate, overheads

import tfbench
from tfbench.data.batches import train_batches
from tfbench.data.loading import load_data

VOCABULARY, SEQUENCE = 1000, 64


def mlp():
    layers = [keras.layers.Dense(64, activation="relu") for _ in range(10)]
    return keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(10, activation="softmax")])


def mobilenet_v2():
    return keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10)


class PositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned embedding of each position."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(VOCABULARY, 32)
        self.positions = keras.layers.Embedding(SEQUENCE, 32)

    def call(self, x):
        return self.tokens(x) + self.positions(tf.range(tf.shape(x)[-1]))


def transformer():
    inputs = keras.Input((SEQUENCE,), dtype="int32")
    x = PositionEmbedding()(inputs)
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x)
    x = keras.layers.LayerNormalization()(x + attended)
    hidden = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.LayerNormalization()(x + keras.layers.Dense(32)(hidden))
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def digits_batches(steps: int):
    return train_batches(load_data("digits"), 64, steps, seed=0)


def random_batches(shape, steps: int, integers: int | None = None, classes: int = 10):
    rng = np.random.default_rng(0)
    n = 32 * steps
    if integers:
        x = rng.integers(0, integers, size=(n, *shape)).astype("int32")
    else:
        x = rng.standard_normal((n, *shape)).astype("float32")
    y = rng.integers(0, classes, size=n)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32).repeat()


# model, data, updates per round, epochs per round, the `every` values timed
WORKLOADS = {
    "mlp": (mlp, lambda: digits_batches(600), 600, 10, (10, 3, 1)),
    "mobilenet_v2": (mobilenet_v2, lambda: random_batches((32, 32, 3), 20), 20, 1, (10,)),
    "transformer": (transformer, lambda: random_batches((SEQUENCE,), 20, integers=VOCABULARY, classes=2), 20, 1, (10,)),
}


def compiled(build):
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    return model


def one_run(model, batches, steps: int, epochs: int):
    def run():
        model.optimizer.iterations.assign(0)  # every round records the same steps into the same buffers
        model.fit(batches, epochs=epochs, steps_per_epoch=steps // epochs, verbose=0)

    return run


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_user_monitor_overhead(benchmark, workload):
    benchmark.group = "user_monitor"
    build, data, steps, epochs, everies = WORKLOADS[workload]
    batches = data()
    variants = {"plain_fit": one_run(compiled(build), batches, steps, epochs)}
    for every in everies:
        monitored = tfbench.monitored(compiled(build), every=every)
        variants[f"every_{every}"] = one_run(monitored, batches, steps, epochs)
    best = alternate(benchmark, variants)
    benchmark.extra_info["overhead_vs_plain_fit"] = overheads(best, "plain_fit")


LOOP_CALLS, LOOP_UPDATES, LOOP_EVERY, LOOP_ROUNDS = 9, 10, 2, 5


def fit_loop_seconds(monitor: bool, batches) -> list[tuple[float, float]]:
    """A fresh MobileNetV2 (built untimed), then (wall, CPU) seconds of each of the loop's fit calls."""
    keras.utils.clear_session()
    keras.utils.set_random_seed(0)
    model = mobilenet_v2()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    if monitor:
        model = tfbench.monitored(model, every=LOOP_EVERY)
    seconds = []
    for _ in range(LOOP_CALLS):
        started, cpu = time.perf_counter(), time.process_time()
        model.fit(batches, steps_per_epoch=LOOP_UPDATES, verbose=0)
        seconds.append((time.perf_counter() - started, time.process_time() - cpu))
    return seconds


def test_user_monitor_fit_loop(benchmark):
    benchmark.group = "user_monitor_fit_loop"
    batches = random_batches((32, 32, 3), LOOP_UPDATES)
    variants = {"plain_fit": False, f"every_{LOOP_EVERY}": True}
    loops: dict[str, list[list[tuple[float, float]]]] = {name: [] for name in variants}
    turn = [0]

    def one_round():
        names = list(variants)
        shift = turn[0] % len(names)
        for name in names[shift:] + names[:shift]:
            loops[name].append(fit_loop_seconds(variants[name], batches))
        turn[0] += 1

    benchmark.pedantic(one_round, rounds=LOOP_ROUNDS, iterations=1)
    first = {name: min(loop[0][0] for loop in runs) for name, runs in loops.items()}
    later = {name: min(sum(wall for wall, _ in loop[1:]) for loop in runs) for name, runs in loops.items()}
    later_cpu = {name: min(sum(cpu for _, cpu in loop[1:]) for loop in runs) for name, runs in loops.items()}
    benchmark.extra_info.update(
        first_call_s=first,
        later_calls_s=later,
        first_call_ratio=first[f"every_{LOOP_EVERY}"] / first["plain_fit"],
        later_calls_ratio=later[f"every_{LOOP_EVERY}"] / later["plain_fit"],
        later_calls_cpu_s=later_cpu,
        later_calls_cpu_ratio=later_cpu[f"every_{LOOP_EVERY}"] / later_cpu["plain_fit"],
        calls_s=loops,
    )
