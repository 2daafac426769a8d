"""Host-side bookkeeping during `fit`: once per chunk it times training, keeps the validation
results and checks for divergence. It never touches a single step (no per-step host sync)."""

from __future__ import annotations

import time

import keras

from tfbench.analysis import verdict
from tfbench.records.schema import STEP_MEASURES

LOSS, GRAD_NORM = STEP_MEASURES.index("loss"), STEP_MEASURES.index("global_grad_norm")


class ChunkRecorder(keras.callbacks.Callback):
    """One Keras epoch is one chunk of `chunk` updates; each ends with a validation on held-out data."""

    def __init__(self, chunk: int, validation: tuple, batch_size: int):
        super().__init__()
        self.chunk = chunk
        self.validation = validation
        self.batch_size = batch_size
        self.validations: list[tuple[int, float, float]] = []  # (step, val_loss, val_metric)
        self.chunk_seconds: list[float] = []
        self.validation_seconds: list[float] = []
        self.diverged_at: int | None = None
        self.start_loss = float("nan")
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.chunk_seconds.append(time.perf_counter() - self._epoch_start)
        stop = (epoch + 1) * self.chunk
        started = time.perf_counter()
        val_loss, val_metric = self.model.validate(*self.validation, self.batch_size)
        self.validation_seconds.append(time.perf_counter() - started)
        self.validations.append((stop, val_loss, val_metric))
        if logs is not None:  # so the progress bar shows them, as with validation_data
            logs.update(val_loss=val_loss, **{f"val_{self.model.metric_name}": val_metric})
        self._check_divergence(epoch * self.chunk, stop)

    def _check_divergence(self, start: int, stop: int) -> None:
        rows = self.model.fetch_steps(start, stop)
        if start == 0:
            self.start_loss = float(rows[0, LOSS])
        bad = verdict.first_divergent_step(rows[:, LOSS], rows[:, GRAD_NORM], self.start_loss)
        if bad is not None:
            self.diverged_at = start + bad
            self.model.stop_training = True

    def first_call_overhead(self) -> float:
        """Seconds the first chunk and the first validation took beyond a later one's: tracing and the
        first call of the train and validation functions (0 for a run of one chunk, nothing to compare)."""
        if len(self.chunk_seconds) < 2:
            return 0.0
        train = self.chunk_seconds[0] - min(self.chunk_seconds[1:])
        validate = self.validation_seconds[0] - min(self.validation_seconds[1:])
        return max(0.0, train) + max(0.0, validate)

    def steps_per_second(self) -> float:
        """Updates per second, leaving out the first chunk (tracing, first call) and validation."""
        timed = self.chunk_seconds[1:] or self.chunk_seconds
        total = sum(timed)
        return len(timed) * self.chunk / total if total > 0 else float("nan")
