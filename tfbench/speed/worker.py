"""One revision's timing worker, run as a script: `python worker.py` with cwd and PYTHONPATH at that revision's tree.

It imports nothing from the checkout that started it, only the revision's own public harness (Setup, Suite
discovery, data loading, `build_model`, `RecordPlan`, `train_batches`), all present since the baseline of
2026-11-29, so a BASE older than the speed gate itself can be timed. Requests and replies are JSON lines on
stdin / stdout; anything a library prints goes to stderr.

Requests (`op`): hello {threads: [intra, inter]}, load {targets}, prepare {variant}, step {variant, chunks},
setup {variant}, quit. A user error (a missing target) is replied as {error}; anything else ends the process.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time

# The harness hot paths timed when no target is named (as tests/bench/test_train_step.py builds them).
BUILTIN = {
    "mlp": dict(model="mlp", depth=10, width=64, activation="relu", data="digits", learning_rate=0.05, steps=600),
    "cnn": dict(model="cnn", depth=4, width=16, activation="relu", data="digits", learning_rate=0.05, steps=300),
    "lstm": dict(
        model="rnn", cell="lstm", depth=1, width=32, activation="tanh", data="adding", learning_rate=0.01, steps=300
    ),
}
WARMUP_S = 0.5  # after tracing: caches, allocator and thread pools settle before calibration


class Variant:
    """A Setup built, traced and warmed once; `chunk` updates per epoch, as `run` trains it."""

    def __init__(self, setup):
        self.setup = setup
        self.chunk = setup.effective_eval_every
        self.max_chunks = setup.steps // self.chunk
        self.model = None

    def build(self):
        # No keras.utils.set_random_seed here: setting TensorFlow's global seed clears every instantiated
        # function, and the next block of each other variant would pay for instantiating it again. The
        # harness seeds its initializers itself (docs/design.md §4).
        from tfbench.data.batches import train_batches
        from tfbench.data.loading import load_data
        from tfbench.harness.build import build_model
        from tfbench.harness.plan import RecordPlan

        data = load_data(self.setup.data)
        model = build_model(self.setup, data, seed=0, plan=RecordPlan.for_setup(self.setup, "standard"))
        batches = train_batches(data, self.setup.batch_size, self.setup.steps, seed=0)
        return model, batches

    def fit(self, model, batches, chunks: int) -> None:
        """`chunks` chunks of updates from a reset counter, so the same steps are recorded as in a run."""
        while chunks > 0:
            epochs = min(chunks, self.max_chunks)
            model.optimizer.iterations.assign(0)
            model.fit(batches, epochs=epochs, steps_per_epoch=self.chunk, verbose=0, shuffle=False)
            chunks -= epochs

    def time_setup(self) -> dict:
        """Building and tracing: a fresh model to its first chunk trained (what each new graph costs)."""
        started = clocks()
        model, batches = self.build()
        self.fit(model, batches, 1)
        times = since(started)
        if self.model is None:
            self.model, self.batches = model, batches
        return times

    def time_chunks(self, chunks: int) -> dict:
        gc.collect()  # each block starts from an empty young generation; collections within it still count
        started = clocks()
        self.fit(self.model, self.batches, chunks)
        return since(started)


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(started: tuple[float, float]) -> dict:
    """Wall seconds, and the CPU seconds of every thread of this process (what the revision's own work took,
    without the time a shared or virtual machine gave its core to something else)."""
    wall, cpu = clocks()
    return {"seconds": wall - started[0], "cpu_seconds": cpu - started[1]}


class Worker:
    def __init__(self):
        self.variants: dict[str, Variant] = {}

    def hello(self, threads):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads[0])
        tf.config.threading.set_inter_op_parallelism_threads(threads[1])
        tf.get_logger().setLevel("ERROR")
        from tfbench import errors  # where tfbench was imported from: the coordinator checks it is this tree

        gc.collect()
        gc.freeze()  # the import's objects out of every later collection's way, as `run` does

        return {"tfbench": os.path.abspath(errors.__file__), "tensorflow": tf.__version__}

    def load(self, targets):
        self.variants = variants_of(targets)
        return {"variants": list(self.variants)}

    def prepare(self, variant):
        """Build and trace, warm up, then one chunk's time for calibrating the block size."""
        item = self.variants[variant]
        setup_s = item.time_setup()["seconds"]
        warm_until = time.perf_counter() + WARMUP_S
        while time.perf_counter() < warm_until:
            item.time_chunks(1)
        chunk_s = min(item.time_chunks(1)["seconds"] for _ in range(3))
        return {"setup_s": setup_s, "chunk_s": chunk_s, "chunk": item.chunk}

    def step(self, variant, chunks):
        return self.variants[variant].time_chunks(chunks)

    def setup(self, variant):
        return self.variants[variant].time_setup()


def variants_of(targets) -> dict:
    """'suite/label' -> Variant for each target's suites, or 'builtin/<family>' when none is named."""
    from tfbench.spec.setup import Setup

    if not targets:
        return {f"builtin/{name}": Variant(Setup(**fields)) for name, fields in BUILTIN.items()}
    from tfbench.spec.discovery import discover

    found = {}
    for suite in discover(targets):
        for variant in suite.variants():
            found[f"{suite.name}/{variant.label}"] = Variant(variant.setup)
    return found


def answer(worker: Worker, op: str, request: dict) -> dict:
    """The reply to one request; a user error (TfbenchError: a missing suite, a model that does not build)
    is replied in one line, anything else ends the worker with its traceback on stderr."""
    try:
        return getattr(worker, op)(**request)
    except Exception as error:
        if type(error).__module__ == "tfbench.errors" or any(c.__name__ == "TfbenchError" for c in type(error).__mro__):
            return {"error": " ".join(str(error).split())}
        raise


def main() -> None:
    # Replies get their own copy of descriptor 1; descriptor 1 itself and sys.stdout then point at stderr,
    # so nothing a library prints, from Python or from C, can corrupt the reply stream.
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = Worker()
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            break
        reply = answer(worker, op, request)
        channel.write(json.dumps(reply) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
