"""Each (variant, seed) as a Ray task: on a local Ray started here, or on an existing cluster.

Ray is an optional extra (`pip install "tfbench[ray]"`). Every node needs tfbench installed and,
for a user's suite file, the file at the same path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from tfbench.engine.worker import call_job, configure_threads
from tfbench.errors import TfbenchError


def _ray():
    try:
        import ray
    except ImportError:
        raise TfbenchError(
            '--executor ray needs Ray, which is not installed: expected the extra, pip install "tfbench[ray]"'
        ) from None
    return ray


def _run_on_node(files, fn, payload):
    configure_threads(1)  # Ray gives each task one CPU
    return call_job(files, fn, payload)


class RayExecutor:
    """Submits every job at once; Ray schedules them on the cluster's CPUs, one CPU per task."""

    def __init__(self, workers: int = 1, address: str | None = None):
        self.ray = _ray()
        self.workers, self.address = workers, address or os.environ.get("RAY_ADDRESS")
        self.started_here = False
        self.refs = []

    def start(self) -> None:
        """Start or join Ray once the input is checked, before anything is written."""
        workers, address = self.workers, self.address
        if not self.ray.is_initialized():
            self.started_here = True
            options = {"address": address} if address else {"include_dashboard": False}
            if not address and workers > 1:
                options["num_cpus"] = workers
            try:
                self.ray.init(**options, logging_level="ERROR", log_to_driver=False, configure_logging=True)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise TfbenchError(
                    f"--ray-address {address!r}: cannot connect ({error}): expected the address of a running "
                    "Ray cluster (ray start --head prints it)"
                ) from None

    def results(self, fn, jobs) -> Iterator[tuple[int, object]]:
        import pickle

        from tfbench.spec.discovery import LOADED_FILES

        task = self.ray.remote(num_cpus=1, max_retries=0)(_run_on_node)
        files = dict(LOADED_FILES)
        index_of = {}
        unsendable = []
        for index, job in enumerate(jobs):
            try:
                payload = pickle.dumps(job)
            except Exception as error:  # e.g. a lambda in a Setup: that run fails, the others go on
                unsendable.append((index, error))
                continue
            index_of[task.remote(files, fn, payload)] = index
        yield from unsendable
        self.refs = list(index_of)
        remaining = list(self.refs)
        while remaining:
            done, remaining = self.ray.wait(remaining, num_returns=1)
            try:
                outcome = self.ray.get(done[0])
            except Exception as error:  # a task whose worker died, or that could not start there
                outcome = error
            yield index_of[done[0]], outcome

    def close(self) -> None:
        for ref in self.refs:
            with contextlib.suppress(Exception):  # a finished task cannot be cancelled: nothing to stop
                self.ray.cancel(ref, force=True)
        self.refs = []
        if self.started_here and self.ray.is_initialized():
            self.ray.shutdown()
