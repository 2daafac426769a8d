"""Trace once, train many: built and traced `MonitoredModel`s kept for the next run with the same graph.

Two runs share a graph when their effective Setups differ at most in the initializers, the learning
rate (and the seed): every seed of a variant, and the variants of an initializer or learning-rate
suite. A reused model gets exactly the state a fresh build for the new seed would have: the weights
that the same seeded initializers make (a new network is built for its variables' values, and only
for them), the optimizer's slots, iteration counter and learning rate as a freshly built optimizer
has them, and the monitor's buffers emptied. What stays is what costs: the traced train, validation
and input-gradient functions (docs/design.md §6 `setup_s`).
"""

from __future__ import annotations

import collections
import contextlib

import keras
import tensorflow as tf

from tfbench.harness.build import build_model, make_optimizer
from tfbench.harness.model import MonitoredModel
from tfbench.harness.plan import RecordPlan
from tfbench.models.build import build_network
from tfbench.spec.canonical import graph_key

# Models kept per process. Runs are ordered variant by variant (all seeds of one variant in a row),
# so one would do serially; a few more let a worker of a pool reuse what it traced before.
CACHE_SIZE = 4


class ModelCache:
    """Least recently used first out; `model_for` builds on a miss and resets on a hit."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.models: collections.OrderedDict[str, MonitoredModel] = collections.OrderedDict()

    def model_for(self, setup, data, seed: int, plan: RecordPlan, mode: str) -> tuple[MonitoredModel, bool]:
        """(model, reused): a model in the state a fresh build for `seed` has."""
        key = graph_key(setup, mode)
        model = self.models.pop(key, None) if key is not None else None
        reused = model is not None
        if not reused:
            fresh_session()
        if reused:
            with tensorflow_seed_kept():
                keras.utils.set_random_seed(seed)  # Python's, NumPy's and Keras' global seeds
            reset(model, setup, data, seed)
        else:
            keras.utils.set_random_seed(seed)  # anything a model leaves unseeded still repeats
            model = build_model(setup, data, seed, plan)
        if key is not None:
            self.models[key] = model
            while len(self.models) > self.size:
                self.models.popitem(last=False)
        return model, reused


def fresh_session() -> None:
    """Keras names unnamed layers from a per-process counter: a fresh session gives a user's model the
    same layer names in every run, serial or in a worker, so the records match. Without the full
    garbage collection `clear_session` runs by default: it took about 0.3 s per build (a third of
    building and tracing a small model), and Python's own collector frees the evicted models anyway
    (tests/test_memory.py)."""
    keras.backend.clear_session(free_memory=False)


@contextlib.contextmanager
def tensorflow_seed_kept():
    """Leave TensorFlow's global seed alone: setting it clears every instantiated function, and each
    traced function of every cached model then takes about 0.15 s to instantiate again on its next
    call. The models cached here are tfbench's own, whose random draws are Keras' seeded, stateless
    ones (docs/design.md §4): TensorFlow's global seed reaches none of them."""
    saved = tf.random.set_seed
    tf.random.set_seed = lambda seed: None
    try:
        yield
    finally:
        tf.random.set_seed = saved


def reset(model: MonitoredModel, setup, data, seed: int) -> None:
    """The state a fresh `build_model(setup, data, seed)` would give `model`, its traced functions kept."""
    network = build_network(setup, data, seed)  # the same seeded initializers a fresh build runs
    fresh = keras.Model(network.inputs, network.outputs)
    copy_values(model.net.variables, fresh.variables, "network")
    optimizer = make_optimizer(setup)
    optimizer.build(model.trainable_variables)
    copy_values(model.optimizer.variables, optimizer.variables, "optimizer")
    model.reset_monitor()


def copy_values(targets: list, sources: list, what: str) -> None:
    if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):
        raise RuntimeError(f"a reused model's {what} does not match a fresh build: cannot reuse it")
    for target, source in zip(targets, sources, strict=True):
        target.assign(source)
