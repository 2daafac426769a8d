"""Each (variant, seed) as a Ray task: on a local Ray started here, or on an existing cluster
(joined with Ray's token when the cluster was started with one: engine/ray_cluster.py).

Ray is an optional extra (`pip install "tfbench[ray]"`). Every node needs tfbench installed and,
for a user's suite file, the file at the same path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import Future

from tfbench.engine.finished import finished_future
from tfbench.engine.ray_cluster import check_listening, drop_token_mode, join_error, use_token_mode
from tfbench.engine.worker import call_job, configure_threads
from tfbench.errors import TfbenchError
from tfbench.quiet import stderr_silenced

QUIET_RAY = {"logging_level": "ERROR", "log_to_driver": False, "configure_logging": True}


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
        self.option = "--ray-address" if address else "RAY_ADDRESS"  # the one the error messages name
        self.workers, self.address = workers, address or os.environ.get("RAY_ADDRESS")
        self.started_here = self.token_mode_set = False
        self.refs = []

    def start(self) -> None:
        """Start or join Ray once the input is checked, before anything is written."""
        if self.ray.is_initialized():
            return
        self.started_here = True
        if self.address:
            self.join(self.address)
            return
        options = {"num_cpus": self.workers} if self.workers > 1 else {}
        try:
            self.ray.init(include_dashboard=False, **options, **QUIET_RAY)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise TfbenchError(
                f"--executor ray: cannot start Ray on this machine ({error}): expected a machine where "
                "`ray start --head` works, or --ray-address of a running cluster"
            ) from None

    def join(self, address: str) -> None:
        """Join a running cluster, sending Ray's token when one is at hand (engine/ray_cluster.py)."""
        check_listening(address, self.option)
        self.token_mode_set = use_token_mode()
        try:
            with stderr_silenced():  # Ray's client logs each refused attempt; the error below says it once
                self.ray.init(address=address, **QUIET_RAY)
        except Exception as error:  # Ray raises ConnectionError, RuntimeError, AuthenticationError, ...
            self.started_here = False
            self.leave_token_mode()
            raise join_error(address, error, self.option) from None

    def leave_token_mode(self) -> None:
        if self.token_mode_set:
            drop_token_mode()
            self.token_mode_set = False

    def submit(self, fn, *args) -> Future:
        """Here, in the driver (pinned like a Ray task): checks and calibration are not worth a task."""
        return finished_future(fn, *args)

    def results(self, fn, jobs) -> Iterator[tuple[int, object]]:
        import pickle

        from tfbench.spec.discovery import LOADED_FILES

        task = self.ray.remote(num_cpus=1, max_retries=0)(_run_on_node)
        files = dict(LOADED_FILES)
        index_of = {}
        unsendable = []
        for index, job in enumerate(jobs):
            try:
                payload = pickle.dumps((job,))
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
        self.leave_token_mode()
