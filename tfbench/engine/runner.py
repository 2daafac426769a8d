"""Seeds x variants -> train -> records. One failed variant never stops the others.

Each (variant, seed) is saved the moment it finishes (atomic rewrite of its suite's files), so an
interrupted run keeps everything that finished and `--resume` goes on from there. Runs execute in an
executor (tfbench/engine/executors.py: serial, local processes or Ray); this process alone writes records.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tfbench.analysis import claims, verdict
from tfbench.engine.calibration import calibrate
from tfbench.engine.executors import make_executor
from tfbench.engine.finished import finished_future
from tfbench.engine.memory_peak import MemoryPeak
from tfbench.engine.scheduling import chunks, planned_workers
from tfbench.engine.suite_tasks import SuiteTasks
from tfbench.engine.validation import check_suites, ensure_output_folder
from tfbench.errors import TfbenchError
from tfbench.harness.plan import MONITOR_MODES
from tfbench.records import output_folder
from tfbench.records import store as records
from tfbench.records.manifest import build_manifest, utc_now
from tfbench.spec.canonical import level_json, setup_hash
from tfbench.spec.limits import MAX_SEEDS, check_count
from tfbench.spec.manifest_entry import suite_entry
from tfbench.spec.profiles import get_profile
from tfbench.spec.suite import Suite, Variant

FINISHED = ("ok", "diverged")  # statuses a resume keeps; failed runs are tried again


@dataclass
class RunSummary:
    out: Path
    counts: dict[str, int] = field(default_factory=lambda: {"ok": 0, "diverged": 0, "failed": 0, "resumed": 0})
    failures: list[str] = field(default_factory=list)
    claims: str = ""  # "claims: 23/24 reproduced, 1 inconclusive", or "" when no suite states a claim
    suite_results: dict = field(default_factory=dict)  # suite name -> what `suite_task` returned for it

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["failed"] else 0


@dataclass(frozen=True)
class Job:
    """One (variant, seed) to train: everything a worker process needs, and nothing it must share."""

    suite: Suite
    variant: Variant
    setup: object  # the effective Setup (profile applied)
    seed: int
    monitor: str
    verbose: bool
    tensorboard: str | Path | None = None  # TensorBoard events root, or None


def run(
    suites: list[Suite],
    profile: str = "standard",
    seeds: int | None = None,
    out: str | Path = "reports",
    monitor: str = "standard",
    resume: bool = False,
    verbose: bool = False,
    log=print,
    workers: int | None = 1,
    executor: str = "local",
    ray_address: str | None = None,
    tensorboard: str | Path | None = None,
    suite_task=None,
) -> RunSummary:
    """Train every variant of every suite for each seed and write the records under `out`.

    `workers` processes (or Ray tasks with executor="ray") train in parallel, None: every core when
    there are more runs than cores; this process alone writes records, committing each run the moment
    it arrives, and logs one line per run in the planned order. With `tensorboard`, runs also write
    TensorBoard events under tensorboard/<suite>/<variant>/seed_<n>. `suite_task`: a picklable
    function (out, suite name) run in a worker process as soon as a suite's runs are all recorded,
    its results in `RunSummary.suite_results` (engine/suite_tasks.py; not run without worker processes)."""
    budget = get_profile(profile)
    if monitor not in MONITOR_MODES:
        raise TfbenchError(f"--monitor {monitor!r} is unknown: expected one of {', '.join(MONITOR_MODES)}")
    seed_list = list(range(check_count("--seeds", seeds, MAX_SEEDS) or budget.seeds))
    workers = planned_workers(workers, len(seed_list), suites)
    preload = (suite_task.__module__,) if suite_task is not None else ()
    # The folder is refused at once if it is someone else's or another writer's; memory is sampled over
    # this process and all it starts (the workers, a local Ray).
    with output_folder.writing(out) as out, MemoryPeak() as memory:
        backend = make_executor(executor, workers, ray_address, log, preload)  # workers start, or threads pinned
        with contextlib.closing(backend):
            calibration = _checked_and_timed(backend, suites, budget)
            backend.start()
            if tensorboard is not None:
                tensorboard = ensure_output_folder(tensorboard, option="--tensorboard")
            entries = {suite.name: suite_entry(suite, budget.name) for suite in suites}
            manifest = build_manifest(budget.name, seed_list, monitor, entries)
            manifest.update(executor=executor, workers=workers)  # compare notes when BASE and CURRENT differ
            manifest["suites"] = {**_earlier_suites(out), **manifest["suites"]}
            summary = RunSummary(out=out)
            # Every record a resume keeps is read (and accepted) before the manifest is rewritten.
            states, jobs = _plan(suites, budget, seed_list, out, monitor, resume, verbose, summary, tensorboard)
            records.write_json(out / records.MANIFEST_FILE, manifest)
            tasks = SuiteTasks(backend, suite_task, out, [s.name for s in suites], jobs)
            _train(backend, jobs, workers, states, out, summary, InOrder(log, len(jobs)), tasks)
            summary.suite_results = tasks.results()
            # The reference speed on this machine, for compare's steps/s: timed by a worker while the first
            # runs trained, and only awaited now, so the driver does not hold back their start.
            if calibration.exception() is None:  # else a run that killed its worker took the timing with it
                manifest["calibration"] = calibration.result()
        manifest["finished"] = utc_now()
        if (peak := memory.stop()) is not None:
            manifest["memory"] = peak
        records.write_json(out / records.MANIFEST_FILE, manifest)
        summary.claims = claims.summary_line(claims.write_claims(out))
    return summary


def _train(backend, jobs: list, workers: int, states, out: Path, summary, progress, tasks: SuiteTasks) -> None:
    """Run the jobs in chunks on `backend`, committing each run the moment it arrives."""
    pieces = chunks(jobs, workers)
    for piece, outcomes in backend.results(execute_chunk, [[jobs[i] for i in p] for p in pieces]):
        if isinstance(outcomes, BaseException):  # the chunk could not run, or its worker died
            outcomes = [outcomes] * len(pieces[piece])
        for index, outcome in zip(pieces[piece], outcomes, strict=True):
            progress.add(index, _commit(jobs[index], outcome, states, out, summary))
            tasks.recorded(jobs[index].suite.name)


def _checked_and_timed(backend, suites: list[Suite], budget):
    """Check every variant (every bad value surfaces before any training or writing) and start timing
    the calibration workload, both in a worker where the executor has some (the driver of a process
    pool then never imports TensorFlow); the calibration's Future."""
    try:
        checked = backend.submit(check_suites, suites, budget, False)
    except Exception:  # a suite a worker cannot receive (a lambda in a Setup): its runs will say so
        checked = finished_future(check_suites, suites, budget, False)
    calibration = backend.submit(calibrate)
    checked.result()  # raises the first bad value's TfbenchError
    return calibration


def _earlier_suites(out: Path) -> dict:
    """Suites an earlier run left in the same folder stay described, so the report still covers them."""
    if not (out / records.MANIFEST_FILE).is_file():
        return {}
    try:
        earlier = records.read_manifest(out).get("suites")
    except TfbenchError:
        return {}
    if not isinstance(earlier, dict):
        return {}
    return {name: entry for name, entry in earlier.items() if (out / name / records.RUNS_FILE).is_file()}


def _plan(suites, budget, seed_list, out: Path, monitor, resume, verbose, summary, tensorboard):
    """The records each suite starts from (kept runs when resuming) and the jobs still to run, in suite order."""
    states, jobs = {}, []
    for suite in suites:
        folder = out / suite.name
        saved = records.read_suite(folder) if resume and (folder / records.RUNS_FILE).is_file() else None
        state = saved or records.SuiteRecords.empty()
        # Variant by variant, every seed in a row: consecutive runs share a graph, so a worker traces
        # each variant once and reuses the model for its other seeds (harness/model_cache.py).
        for variant in suite.variants():
            for seed in seed_list:
                setup = budget.apply(variant.setup)
                if saved is not None and _already_done(saved.runs, variant.label, seed, setup_hash(setup, seed)):
                    summary.counts["resumed"] += 1
                    continue
                state = state.without_run(variant.label, seed)
                jobs.append(Job(suite, variant, setup, seed, monitor, verbose, tensorboard))
        states[suite.name] = state
    return states, jobs


def _commit(job: Job, outcome, states, out: Path, summary: RunSummary) -> str:
    """Add one finished run to its suite's records and rewrite that suite's files atomically; its
    progress line."""
    if isinstance(outcome, BaseException):  # the worker could not run it or died while running it
        row, steps, layers, timesteps = _base_row(job.suite, job.variant, job.setup, job.seed), None, None, None
        row.update(status="failed", steps=0, error=failure_text(outcome), wall_s=0.0)
    else:
        row, steps, layers, timesteps = outcome
    state = states[job.suite.name].with_run(row, steps, layers, timesteps)
    states[job.suite.name] = state = _sorted(state, job.suite)
    records.write_suite(out / job.suite.name, state)
    summary.counts[row["status"]] += 1
    if row["status"] == "failed":
        summary.failures.append(f"{job.suite.name}/{job.variant.label} seed {job.seed}: {row['error']}")
    return progress_line(row)


class InOrder:
    """Logs each run's line in the planned order, whatever order the workers finish in, prefixed with
    its place among the `total` runs to train: `[ 37/201] activation ...`."""

    def __init__(self, log, total: int):
        self.log, self.lines, self.next, self.total = log, {}, 0, total

    def add(self, index: int, line: str) -> None:
        self.lines[index] = line
        width = len(str(self.total))
        while self.next in self.lines:
            self.log(f"[{self.next + 1:>{width}}/{self.total}] {self.lines.pop(self.next)}")
            self.next += 1


def execute_chunk(jobs: list[Job]) -> list:
    """What a worker runs: runs that share a graph, one after another, so the model traced for the
    first is reused by the rest -> one (runs.csv row, steps, layers, timesteps or None) per run."""
    return [
        run_variant(job.suite, job.variant, job.setup, job.seed, job.monitor, job.verbose, job.tensorboard)
        for job in jobs
    ]


def failure_text(error: BaseException) -> str:
    """A failed run's `error` column: the exception's type and message on one line, whether it was
    raised in the run or by the executor that could not run it."""
    message = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:500]


def _base_row(suite: Suite, variant: Variant, setup, seed: int) -> dict:
    return {
        "suite": suite.name, "factor": suite.factor_name, "variant": variant.label,
        "level": level_json(variant.level), "seed": seed, "setup_hash": setup_hash(setup, seed), "error": "",
    }  # fmt: skip


def run_variant(suite: Suite, variant: Variant, setup, seed: int, monitor: str, verbose: bool = False,
                tensorboard=None):  # fmt: skip
    """Train one (variant, seed): (runs.csv row, steps, layers, timesteps table or None). Failures
    become rows."""
    from tfbench.harness.tensorboard import run_directory
    from tfbench.harness.train import train_run  # TensorFlow loads only when something trains

    row = _base_row(suite, variant, setup, seed)
    started = time.perf_counter()
    try:
        events = None if tensorboard is None else run_directory(tensorboard, suite.name, variant.label, seed)
        result = train_run(setup, seed, monitor, verbose, tensorboard=events)
    except Exception as error:  # isolation: one broken variant is a result row, not a crash
        row.update(status="failed", steps=0, error=failure_text(error), wall_s=time.perf_counter() - started)
        return row, None, None, None
    row.update(
        status=result.status, steps=result.steps, metric_name=result.metric_name, final_loss=result.final_loss,
        final_metric=result.final_metric, best_metric=result.best_metric, wall_s=result.wall_s,
        steps_per_s=result.steps_per_s, setup_s=result.setup_s, step_s=result.step_s, monitor_s=result.monitor_s,
        **judged(result),
    )  # fmt: skip
    keys = {"suite": suite.name, "variant": variant.label, "seed": seed}
    timesteps = None if result.timesteps_table is None else result.timesteps_table.assign(**keys)
    return row, result.steps_table.assign(**keys), result.layers_table.assign(**keys), timesteps


def judged(result) -> dict:
    """A finished run's verdicts and gradient ratios: at step 0, and at the last recorded step (the
    layers' last recorded step; for a recurrent model also its time steps after the last update)."""
    layers, times = result.layers_table, result.timesteps_table

    def at(table, step):
        return None if table is None else table[table.step == step]

    start_times = at(times, 0)
    start_verdict, _, kernel_ratio, delta_ratio = verdict.judge_step(at(layers, 0), start_times)
    if result.status == "diverged":
        end_verdict = "diverged"
    else:
        end_times = None if times is None else at(times, times.step.max())
        end_verdict = verdict.judge_step(at(layers, layers.step.max()), end_times)[0]
    return {"verdict": start_verdict, "verdict_end": end_verdict, "log10_grad_ratio": kernel_ratio,
            "log10_delta_ratio": delta_ratio, "log10_time_ratio": verdict.time_ratio(start_times)[0]}  # fmt: skip


def progress_line(row: dict) -> str:
    """One line per finished variant: suite, variant, seed, verdict, final metric, seconds."""
    if row["status"] == "failed":
        outcome = f"FAILED  {row['error']}"
    else:
        final = row["final_metric"]
        shown = f"{final:.3f}" if not math.isnan(final) else "nan"
        outcome = f"{row['verdict']:<9} -> {row['verdict_end']:<9} {row['metric_name']} {shown}"
        if row["status"] == "diverged":
            outcome += f"  (diverged at step {row['steps']})"
    return f"{row['suite']:<15} {row['variant']:<24} seed {row['seed']}  {outcome}  {row['wall_s']:.1f}s"


def _already_done(runs: pd.DataFrame, label: str, seed: int, digest: str) -> bool:
    match = runs[(runs.variant.astype(str) == label) & (runs.seed == seed)]
    return bool(((match.setup_hash == digest) & match.status.isin(FINISHED)).any())


def _sorted(state: records.SuiteRecords, suite: Suite) -> records.SuiteRecords:
    """Rows in suite order (variant as declared, then seed), so records do not depend on run order."""
    order = {v.label: i for i, v in enumerate(suite.variants())}

    def sort(table, extra=()):
        if table.empty:
            return table
        keys = table.variant.astype(str).map(order).rename("_order")
        return table.assign(_order=keys).sort_values(["_order", "seed", *extra], kind="stable").drop(
            columns="_order").reset_index(drop=True)  # fmt: skip

    return records.SuiteRecords(runs=sort(state.runs), steps=sort(state.steps, ["step"]),
                                layers=sort(state.layers, ["step", "depth"]),
                                timesteps=sort(state.timesteps, ["step", "timestep"]))  # fmt: skip
