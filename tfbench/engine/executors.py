"""Where (variant, seed) runs execute: in this process, in a pool of local processes, or as Ray tasks.

Every executor has three methods: `start()`, called once the input is checked and before anything
is written; `results(fn, jobs)`, which yields `(index, result)` as each run finishes, in completion
order, where `result` is `fn(job)` or an exception when the job could not run there (a `WorkerLost`
when the process running it died); and `close()`, which stops whatever still runs (Ctrl-C). The
runner stays the only writer of records; executors only compute.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from tfbench.engine.worker import call_job, configure_threads, threads_per_worker
from tfbench.errors import TfbenchError

EXECUTORS = ("local", "ray")


class WorkerLost(Exception):
    """The process running a job died (killed, out of memory, a crash in native code)."""


def _init_worker(inter_op: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    configure_threads(inter_op)


class SerialExecutor:
    """Runs jobs one after another in this process (`--workers 1`)."""

    def __init__(self, log=print, pinned: bool = True):
        self.pinned, self.log = pinned, log

    def start(self) -> None:
        if not self.pinned:
            self.log("note: TensorFlow was already initialised with other thread pools; records may differ "
                     "in the last bits from a fresh run")  # fmt: skip

    def results(self, fn, jobs) -> Iterator[tuple[int, object]]:
        for index, job in enumerate(jobs):
            yield index, fn(job)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """Runs jobs in `workers` spawned processes, each with its share of the cores.

    At most `workers` jobs are in flight. A worker that dies breaks the whole pool: the jobs in
    flight are run again one at a time in a fresh pool, so the job that kills its process is found
    and recorded as lost, and the others go on."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool, self.pool_size = None, 0
        self.starting = []  # the trivial tasks that start the workers (spawn)

    def start(self) -> None:
        """Wait until the spawned workers are ready, so nothing else competes with the driver's
        calibration for the cores (it times a reference workload)."""
        wait(self.starting)
        self.starting = []

    def spawn(self) -> None:
        """Start every worker now, without waiting: each imports TensorFlow as it starts (`_init_worker`),
        which takes seconds that would otherwise come after the driver's own start-up. A pool starts a
        process per task that finds no idle one, so one trivial task per worker starts them all."""
        pool = self._pool(self.workers)
        self.starting = [pool.submit(os.getpid) for _ in range(self.workers)]

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        """The running pool if it has `workers` processes, else a new one (workers start once, not per job)."""
        if self.pool is None or self.pool_size != workers:
            self.close()
            context = multiprocessing.get_context("spawn")  # fork would copy TensorFlow's threads
            self.pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_init_worker, initargs=(threads_per_worker(workers),)
            )
            self.pool_size = workers
        return self.pool

    def results(self, fn, jobs) -> Iterator[tuple[int, object]]:
        payloads, queue, suspects = {}, deque(), []
        for index, job in enumerate(jobs):
            try:
                payloads[index] = pickle.dumps(job)
                queue.append(index)
            except Exception as error:  # e.g. a lambda in the Setup: it cannot reach another process
                yield index, TfbenchError(f"cannot send this run to a worker process ({error}): use --workers 1")
        while queue or suspects:
            if suspects:  # a suspect runs alone: if the pool breaks now, it is the culprit
                yield from self._drain(fn, payloads, deque([suspects.pop(0)]), 1, suspects)
            else:
                yield from self._drain(fn, payloads, queue, self.workers, suspects)

    def _drain(self, fn, payloads, queue: deque, size: int, suspects: list):
        """Run the queue with at most `size` jobs in flight; stop early, listing suspects, if the pool breaks."""
        from tfbench.spec.discovery import LOADED_FILES

        pool, files, futures = self._pool(size), dict(LOADED_FILES), {}
        while queue or futures:
            while queue and len(futures) < size:
                index = queue.popleft()
                try:
                    futures[pool.submit(call_job, files, fn, payloads[index])] = index
                except BrokenProcessPool:  # a job in flight killed its worker since the last result
                    queue.appendleft(index)  # never started: it goes on with the rest of the queue
                    self.close()
                    suspects.extend(futures.values())
                    return
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    outcome = future.result()
                except (BrokenProcessPool, CancelledError):
                    self.close()  # a broken pool takes no more jobs
                    if size > 1:  # any job in flight may have killed it
                        suspects.extend(futures.values())
                        return
                    outcome = WorkerLost("the worker process running it died")
                except Exception as error:  # the job could not even start there (e.g. unpickling)
                    outcome = error
                yield futures.pop(future), outcome

    def close(self) -> None:
        if self.pool is None:
            return
        for process in list((self.pool._processes or {}).values()):  # stop running jobs now, not after them
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool, self.pool_size = None, 0


def check_executor(kind: str, workers: int) -> None:
    if kind not in EXECUTORS:
        raise TfbenchError(f"--executor {kind!r} is unknown: expected one of {', '.join(EXECUTORS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise TfbenchError(f"--workers {workers!r} is invalid: expected a positive integer")


def make_executor(kind: str = "local", workers: int = 1, address: str | None = None, log=print):
    """The executor for `--executor KIND --workers N [--ray-address ADDR]`.

    The driver is pinned like a serial run whatever the executor: it times the calibration workload,
    and a reference speed measured with other thread pools would not be comparable across executors."""
    check_executor(kind, workers)
    pool = None
    if kind == "local" and workers > 1:
        pool = ProcessExecutor(workers)
        pool.spawn()  # the workers import TensorFlow while this process does the same
    pinned = configure_threads(threads_per_worker(1))
    if kind == "ray":
        from tfbench.engine.ray_executor import RayExecutor

        return RayExecutor(workers=workers, address=address)
    return pool or SerialExecutor(log, pinned)
