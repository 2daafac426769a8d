"""Where (variant, seed) runs execute: in this process, in a pool of local processes, or as Ray tasks.

Every executor has four methods: `start()`, called before anything is written; `submit(fn, *args)`,
which runs one task besides the runs (checking the input, the calibration, a finished suite's report
page) and returns its `concurrent.futures.Future` — in a worker process where there are some, so that
the driver of a process pool never imports TensorFlow itself; `results(fn, jobs)`, which yields
`(index, result)` as each run finishes, in completion order, where `result` is `fn(job)` or an
exception when the job could not run there (a `WorkerLost` when the process running it died); and
`close()`, which stops whatever still runs (Ctrl-C). The runner stays the only writer of records;
executors only compute.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from tfbench.engine.finished import finished_future
from tfbench.engine.worker import call_job, configure_threads, threads_per_worker
from tfbench.errors import TfbenchError
from tfbench.spec.limits import MAX_WORKERS, check_count

EXECUTORS = ("local", "ray")
DRIVER_CHECK_S = 1.0  # how often a worker looks whether its driver still runs
# What the server that forks local workers imports first: TensorFlow (quietly) and the harness.
PRELOADED = ("tfbench.engine.preload",)


class WorkerLost(Exception):
    """The process running a job died (killed, out of memory, a crash in native code)."""


def _init_worker(inter_op: int, driver: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    threading.Thread(target=_exit_after, args=(driver,), daemon=True, name="tfbench-driver-watch").start()
    configure_threads(inter_op)


def _exit_after(driver: int) -> None:
    """End this worker once the driver process is gone. A driver killed outright (SIGKILL) cannot stop
    its pool, and a pool's worker waits for its next job forever: its job queue stays open, since
    every worker holds both ends of it (and the server that forked them waits for its workers)."""
    if os.name != "posix":  # os.kill(pid, 0) only asks whether the process exists on POSIX
        return
    while True:
        time.sleep(DRIVER_CHECK_S)
        try:
            os.kill(driver, 0)
        except (ProcessLookupError, PermissionError):  # gone (or its number now another user's process)
            os._exit(1)


class SerialExecutor:
    """Runs jobs one after another in this process (`--workers 1`)."""

    def __init__(self, log=print, pinned: bool = True):
        self.pinned, self.log = pinned, log

    def start(self) -> None:
        if not self.pinned:
            self.log("note: TensorFlow was already initialised with other thread pools; records may differ "
                     "in the last bits from a fresh run")  # fmt: skip

    def submit(self, fn, *args) -> Future:
        return finished_future(fn, *args)

    def results(self, fn, jobs) -> Iterator[tuple[int, object]]:
        for index, job in enumerate(jobs):
            yield index, fn(job)

    def close(self) -> None:
        pass


def worker_context(preload: tuple[str, ...] = ()):
    """How local workers start: forked from a server that imported TensorFlow, the harness and
    `preload` once, before running anything (no thread pools yet, so the fork is clean), instead of
    each worker importing them itself — about 3.5 s of CPU per worker. Where there is no forkserver
    (Windows), spawned; never forked from the driver, whose TensorFlow may already hold threads."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOADED, *preload])  # no effect once this process's server runs
    return context


def start_worker_server(preload: tuple[str, ...] = ()) -> None:
    """Start the server local workers fork from now, without waiting for it: its imports (seconds of
    TensorFlow) then overlap whatever this process imports and reads before its pool starts."""
    context = worker_context(preload)
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


class ProcessExecutor:
    """Runs jobs in `workers` local processes, each with its share of the cores.

    At most `workers` jobs are in flight. A worker that dies breaks the whole pool: the jobs in
    flight are run again one at a time in a fresh pool, so the job that kills its process is found
    and recorded as lost, and the others go on. `preload`: modules of the tasks to come (`submit`),
    imported once for every worker (worker_context)."""

    tasks_in_workers = True  # `submit` runs its task in a worker, not in the driver

    def __init__(self, workers: int, preload: tuple[str, ...] = ()):
        self.workers, self.preload = workers, preload
        self.pool, self.pool_size = None, 0

    def start(self) -> None:
        pass

    def spawn(self) -> None:
        """Start every worker now, without waiting, so they are ready by the time the driver has read
        its input. A pool starts a process per task that finds no idle one, so one trivial task per
        worker starts them all."""
        pool = self._pool(self.workers)
        for _ in range(self.workers):
            pool.submit(os.getpid)

    def submit(self, fn, *args) -> Future:
        """`fn(*args)` in a worker; it starts before any run still waiting for a free worker."""
        from tfbench.spec.discovery import LOADED_FILES

        pool = self.pool if self.pool is not None else self._pool(self.workers)
        return pool.submit(call_job, dict(LOADED_FILES), fn, pickle.dumps(args))

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        """The running pool if it has `workers` processes, else a new one (workers start once, not per job)."""
        if self.pool is None or self.pool_size != workers:
            self.close()
            self.pool = ProcessPoolExecutor(
                workers, mp_context=worker_context(self.preload), initializer=_init_worker,
                initargs=(threads_per_worker(workers), os.getpid()),
            )  # fmt: skip
            self.pool_size = workers
        return self.pool

    def results(self, fn, jobs) -> Iterator[tuple[int, object]]:
        payloads, queue, suspects = {}, deque(), []
        for index, job in enumerate(jobs):
            try:
                payloads[index] = pickle.dumps((job,))
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
        top_up = lambda: _top_up(pool, call_job, files, fn, payloads, queue, futures, size)  # noqa: E731
        while queue or futures:
            if not top_up():  # a job in flight killed its worker since the last result
                self._broken(futures, suspects)
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
                index = futures.pop(future)
                # The next job starts before the driver records this one: the worker does not wait for it.
                healthy = self.pool is not pool or top_up()
                yield index, outcome
                if not healthy:
                    self._broken(futures, suspects)
                    return

    def _broken(self, futures: dict, suspects: list) -> None:
        self.close()
        suspects.extend(futures.values())

    def close(self) -> None:
        if self.pool is None:
            return
        for process in list((self.pool._processes or {}).values()):  # stop running jobs now, not after them
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool, self.pool_size = None, 0


def _top_up(pool, call, files, fn, payloads, queue: deque, futures: dict, size: int) -> bool:
    """Submit queued jobs until `size` are in flight; False when the pool turned out broken (the job
    that could not start goes back to the front of the queue)."""
    while queue and len(futures) < size:
        index = queue.popleft()
        try:
            futures[pool.submit(call, files, fn, payloads[index])] = index
        except BrokenProcessPool:
            queue.appendleft(index)
            return False
    return True


def check_executor(kind: str, workers: int) -> None:
    if kind not in EXECUTORS:
        raise TfbenchError(f"--executor {kind!r} is unknown: expected one of {', '.join(EXECUTORS)}")
    check_count("--workers", workers, MAX_WORKERS)


def make_executor(kind: str = "local", workers: int = 1, address: str | None = None, log=print,
                  preload: tuple[str, ...] = ()):  # fmt: skip
    """The executor for `--executor KIND --workers N [--ray-address ADDR]`; `preload` as ProcessExecutor.

    A local pool starts its workers right away and leaves this process without TensorFlow: its
    checks and calibration run in a worker (`submit`). Otherwise this process runs them, pinned like
    every worker: the calibration times a reference workload, and a reference speed measured with
    other thread pools would not be comparable across executors."""
    check_executor(kind, workers)
    if kind == "local" and workers > 1:
        pool = ProcessExecutor(workers, preload)
        pool.spawn()  # the workers start while this process reads its input
        return pool
    pinned = configure_threads(threads_per_worker(1))
    if kind == "ray":
        from tfbench.engine.ray_executor import RayExecutor

        return RayExecutor(workers=workers, address=address)
    return SerialExecutor(log, pinned)
