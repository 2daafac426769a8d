"""Host-side bookkeeping during `fit`: once per chunk it times training, keeps the validation
results and checks for divergence. It never touches a single step (no per-step host sync)."""

from __future__ import annotations

import time

import keras
import numpy as np

from tfbench import verdict


class ChunkRecorder(keras.callbacks.Callback):
    """One Keras epoch is one chunk of `chunk` updates followed by a validation."""

    def __init__(self, chunk: int, metric_name: str):
        super().__init__()
        self.chunk = chunk
        self.metric_name = metric_name
        self.validations: list[tuple[int, float, float]] = []  # (step, val_loss, val_metric)
        self.chunk_seconds: list[float] = []
        self.diverged_at: int | None = None
        self.start_loss = float("nan")
        self._epoch_start = 0.0
        self._train_end = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._train_end = None

    def on_test_begin(self, logs=None):
        self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        end = self._train_end or time.perf_counter()
        self.chunk_seconds.append(end - self._epoch_start)
        stop = (epoch + 1) * self.chunk
        self.validations.append(
            (stop, float(logs.get("val_loss", np.nan)), float(logs.get(f"val_{self.metric_name}", np.nan)))
        )
        self._check_divergence(epoch * self.chunk, stop)

    def _check_divergence(self, start: int, stop: int) -> None:
        rows = self.model.fetch_steps(start, stop)
        if start == 0:
            self.start_loss = float(rows[0, 0])
        bad = verdict.first_divergent_step(rows[:, 0], rows[:, 3], self.start_loss)
        if bad is not None:
            self.diverged_at = start + bad
            self.model.stop_training = True

    def steps_per_second(self) -> float:
        """Updates per second, leaving out the first chunk (tracing, first call) and validation."""
        timed = self.chunk_seconds[1:] or self.chunk_seconds
        total = sum(timed)
        return len(timed) * self.chunk / total if total > 0 else float("nan")
