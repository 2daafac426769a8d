"""A reference speed, timed in the same run as the suites, so `compare` can judge steps/s across machines.

A CI runner can be twice as fast or as slow as the machine that made the baseline. Dividing a run's
steps/s by the steps/s of a fixed tiny Keras workload timed by the same process on the same machine
cancels most of that: what is left is the harness's own speed relative to plain Keras.
"""

from __future__ import annotations

import time

WORKLOAD = "keras.Sequential 4x Dense(64, relu) + Dense(10), SGD, batch 64, model.fit on fixed random data"
STEPS_PER_ROUND = 100
ROUNDS = 5


def calibrate() -> dict:
    """Time the reference workload (about a second): its best steps/s over a few rounds after a warm-up.

    The fastest round is kept because noise on a shared machine only ever adds time.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64 * STEPS_PER_ROUND, 64)).astype("float32")
    y = rng.integers(0, 10, size=len(x))
    keras.utils.set_random_seed(0)
    layers = [keras.Input((64,)), *[keras.layers.Dense(64, activation="relu") for _ in range(4)]]
    model = keras.Sequential([*layers, keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    fit = lambda: model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)  # noqa: E731
    fit()  # warm-up: tracing and the first call stay out of the timing
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fit()
        best = min(best, time.perf_counter() - started)
    # Recorded so a reader can check it was timed with one intra-op thread, like every training run.
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {"reference_steps_per_s": STEPS_PER_ROUND / best, "workload": WORKLOAD, "intra_op_threads": threads}
