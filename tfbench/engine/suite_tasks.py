"""A task per suite that runs in a worker the moment the suite's last run is recorded — the CLI
renders the suite's report page this way, while the workers go on training the next suites, so
the report is mostly done when training ends.

Only an executor with worker processes of its own runs them (`tasks_in_workers`); in a serial run
the same work stays for afterwards, where it can use every core."""

from __future__ import annotations

import collections
from concurrent.futures import Future
from pathlib import Path


class SuiteTasks:
    """`task(out, suite name)` per suite, submitted to `backend` when that suite has nothing left to run."""

    def __init__(self, backend, task, out: Path, suite_names: list[str], jobs: list):
        self.enabled = task is not None and getattr(backend, "tasks_in_workers", False)
        self.backend, self.task, self.out = backend, task, out
        self.remaining = collections.Counter(job.suite.name for job in jobs)
        self.futures: dict[str, Future] = {}
        for name in suite_names:
            if not self.remaining[name]:  # every run of it kept from an earlier run (--resume)
                self._submit(name)

    def recorded(self, suite_name: str) -> None:
        """One more run of `suite_name` is in its records."""
        self.remaining[suite_name] -= 1
        if not self.remaining[suite_name]:
            self._submit(suite_name)

    def _submit(self, name: str) -> None:
        if self.enabled:
            self.futures[name] = self.backend.submit(self.task, self.out, name)

    def results(self) -> dict[str, object]:
        """Suite name -> the task's result, for the tasks that succeeded (a failed one is left to the caller)."""
        done = {}
        for name, future in self.futures.items():
            try:
                done[name] = future.result()
            except Exception:  # e.g. the pool broke: the caller does that suite itself
                continue
        return done
