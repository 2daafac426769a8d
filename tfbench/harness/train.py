"""Train one (Setup, seed) through `keras.Model.fit` and turn the harness buffers into tidy tables."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import keras
import pandas as pd
import tensorflow as tf

from tfbench.data.batches import train_batches
from tfbench.data.loading import load_data
from tfbench.harness.build import build_model
from tfbench.harness.callbacks import ChunkRecorder
from tfbench.harness.gradient_registry import custom_gradients_released
from tfbench.harness.model_cache import ModelCache, fresh_session
from tfbench.harness.plan import RecordPlan
from tfbench.harness.record_tables import layers_table, steps_table
from tfbench.harness.tensorboard import TensorBoardWriter
from tfbench.harness.timesteps import InputGradients
from tfbench.models.pretrain import pretrain_layers
from tfbench.records.schema import HIGHER_IS_BETTER
from tfbench.spec.families import family_of
from tfbench.spec.short_runs import grappler_on

# Validation runs on the held-out split in batches of this many examples (one batch for built-in data).
VALIDATION_BATCH = 2048


@contextlib.contextmanager
def graph_rewrites(enabled: bool):
    """Grappler's graph rewrites (fusions, constant folding) cost about 0.3 s per traced function;
    a short run (the quick profile; tfbench.spec.short_runs) is over before they pay off, so they are
    switched off for it and restored afterwards."""
    if enabled:
        yield
        return
    saved = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options(
            {"disable_meta_optimizer": saved.get("disable_meta_optimizer", False)}
        )


@dataclass
class RunResult:
    status: str  # "ok" | "diverged"
    steps: int  # optimizer updates applied before the first divergent step
    metric_name: str
    steps_table: pd.DataFrame  # step, loss, reg_loss, metric, global_grad_norm, learning_rate, val_loss, val_metric
    layers_table: pd.DataFrame  # step, layer, depth, and monitor.LAYER_MEASURES
    final_loss: float
    final_metric: float
    best_metric: float
    wall_s: float
    steps_per_s: float
    # rnn models: step, timestep, input_grad_norm at step 0 and (unless diverged) step = steps
    timesteps_table: pd.DataFrame | None = None
    setup_s: float = 0.0  # building and tracing; 0 when the run reused a traced model
    step_s: float = float("nan")  # in the train function's executions, their first (tracing) calls aside
    monitor_s: float = float("nan")  # of step_s, what the per-layer statistics added (NaN: not measurable)


def train_run(setup, seed: int, mode: str = "standard", verbose: bool = False, tensorboard=None) -> RunResult:
    """Train `setup` with `seed`; divergence is a result (status "diverged"), never an exception.

    `tensorboard`: a run directory for TensorBoard events of the recorded steps (None: no events)."""
    with custom_gradients_released():  # else every graph traced stays in memory (harness/gradient_registry.py)
        return _train_run(setup, seed, mode, verbose, tensorboard)


def _train_run(setup, seed: int, mode: str, verbose: bool, tensorboard) -> RunResult:
    started = time.perf_counter()
    data = load_data(setup.data)
    plan = RecordPlan.for_setup(setup, mode)
    model, reused = _model(setup, data, seed, plan, mode, tensorboard)
    built_s = 0.0 if reused else time.perf_counter() - started
    hidden = [model.net.get_layer(slot.name) for slot in model.layer_slots if slot.depth <= setup.depth]
    pretrain_layers(hidden, setup, data.x_train, seed)  # before step 0: its gradients see the result
    family = family_of(setup)
    recurrent = family is not None and family.recurrent
    input_gradients = InputGradients(model, data, setup.batch_size, seed) if recurrent else None
    timesteps = [input_gradients.table(0)] if input_gradients else []
    chunk = setup.effective_eval_every
    recorder = ChunkRecorder(chunk, (data.x_test, data.y_test), VALIDATION_BATCH)
    with graph_rewrites(enabled=grappler_on(setup.steps)):
        model.fit(
            train_batches(data, setup.batch_size, setup.steps, seed),
            epochs=setup.steps // chunk,
            steps_per_epoch=chunk,
            callbacks=[recorder],
            shuffle=False,  # the seeded batch order is the data pipeline's job
            verbose=1 if verbose else 0,
        )
    if model.tensorboard is not None:
        model.tensorboard.close()
    last = recorder.diverged_at if recorder.diverged_at is not None else setup.steps - 1
    steps = steps_table(model.fetch_steps(0, last + 1), recorder.validations, last, setup.steps)
    layers = layers_table(model, plan, last)
    validation = steps["val_metric"].dropna()
    higher_is_better = HIGHER_IS_BETTER[model.metric_name]
    diverged = recorder.diverged_at is not None
    if input_gradients and not diverged:
        timesteps.append(input_gradients.table(setup.steps))
    finals = steps.dropna(subset=["val_loss"]).tail(1)
    return RunResult(
        status="diverged" if diverged else "ok",
        steps=recorder.diverged_at if diverged else setup.steps,
        metric_name=model.metric_name,
        steps_table=steps,
        layers_table=layers,
        final_loss=float("nan") if diverged or finals.empty else float(finals["val_loss"].iloc[0]),
        final_metric=float("nan") if diverged or finals.empty else float(finals["val_metric"].iloc[0]),
        best_metric=float("nan")
        if validation.empty
        else float(validation.max() if higher_is_better else validation.min()),
        wall_s=time.perf_counter() - started,
        setup_s=0.0 if reused else built_s + recorder.first_call_overhead(),
        steps_per_s=recorder.steps_per_second(),
        step_s=model.execution_times.step_seconds(),
        monitor_s=model.execution_times.monitor_seconds(),
        timesteps_table=pd.concat(timesteps, ignore_index=True) if timesteps else None,
    )


# Built and traced models of this process, reused by later runs with the same graph.
MODELS = ModelCache()


def _model(setup, data, seed: int, plan: RecordPlan, mode: str, tensorboard) -> tuple:
    """(model, reused): from this process's cache, or built fresh when TensorBoard events are asked
    for (the writer is part of the traced step)."""
    if tensorboard is None:
        return MODELS.model_for(setup, data, seed, plan, mode)
    fresh_session()  # as ModelCache does on a miss: a user's layers get the same names
    keras.utils.set_random_seed(seed)
    model = build_model(setup, data, seed, plan)
    model.tensorboard = TensorBoardWriter(tensorboard, model.layer_slots)
    return model, False
