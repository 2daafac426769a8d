"""The memory a run took: the peak, over the run, of the proportional set sizes (PSS) of this process
and every process it started (the worker server, the workers; a local Ray's processes), summed.

PSS charges each page shared by k processes 1/k to each, so the sum counts TensorFlow's pages, which
forked workers share with their server, once: adding up resident sizes would count them per
process. A daemon thread samples /proc (Linux only; elsewhere the run records no memory figure).
Reading a process's PSS makes the kernel walk all its pages: 60 ms of CPU for a `run` with two
workers, 2.5 s over a quick run if read twice a second. So the thread reads the cheap resident
sizes twice a second and the PSS only when their sum has grown by `STEP` (a share) since the last
reading, and every `EVERY_S`: the sum of PSS grows by no more than the sum of resident sizes, so
the figure is short of the peak by less than that share of it, or misses a peak shorter than half
a second.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

INTERVAL_S = 0.5
STEP = 0.05
EVERY_S = 60.0
PROC = Path("/proc")
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def descendants(root: int) -> set[int]:
    """`root` and every living process below it, from each thread's list of children (a kernel
    without that list gives `root` alone)."""
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        try:
            threads = list((PROC / str(pid) / "task").iterdir())
        except OSError:  # it ended meanwhile
            continue
        for thread in threads:
            try:
                children = (thread / "children").read_text().split()
            except OSError:
                continue
            todo.extend(int(child) for child in children if int(child) not in tree)
    return tree


def proportional_set_size(pid: int) -> int:
    """The process's PSS in bytes; 0 once it has ended or where it cannot be read."""
    try:
        with open(PROC / str(pid) / "smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def resident_size(pid: int) -> int:
    """The process's resident set in bytes (cheap: no page walk); 0 once it has ended."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


class MemoryPeak:
    """A context manager sampling while its block runs; `stop()` (also called on leaving the block)
    -> {"peak_pss_mb", "largest_process_pss_mb", "processes"}, or None where /proc cannot tell."""

    def __init__(self, root: int | None = None, interval: float = INTERVAL_S):
        self.root = root or os.getpid()
        self.interval = interval
        self.peak = self.largest = 0
        self.seen: set[int] = set()
        self._resident_at_reading, self._read_at = -1, 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True, name="tfbench-memory")

    def __enter__(self) -> MemoryPeak:
        if (PROC / str(os.getpid()) / "smaps_rollup").is_file():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def sample(self, pids: set[int] | None = None) -> None:
        """Read the PSS of `pids` (default: the tree as it is now)."""
        sizes = {pid: proportional_set_size(pid) for pid in pids or descendants(self.root)}
        self.seen.update(pid for pid, size in sizes.items() if size)
        self.peak = max(self.peak, sum(sizes.values()))
        self.largest = max(self.largest, max(sizes.values(), default=0))

    def _sample_until_stopped(self) -> None:
        while not self._stopped.wait(self.interval):
            pids = descendants(self.root)
            resident = sum(resident_size(pid) for pid in pids)
            self._resident_at_reading = min(self._resident_at_reading, resident)  # a process ended: lower
            grown = resident > self._resident_at_reading * (1 + STEP)
            if grown or time.monotonic() - self._read_at >= EVERY_S:
                self.sample(pids)
                self._resident_at_reading, self._read_at = resident, time.monotonic()

    def stop(self) -> dict | None:
        if self._thread.ident is None:  # never started: no /proc to read
            return None
        if not self._stopped.is_set():
            self._stopped.set()
            self._thread.join()
            self.sample()
        mb = 2**20
        return {"peak_pss_mb": round(self.peak / mb, 1), "largest_process_pss_mb": round(self.largest / mb, 1),
                "processes": len(self.seen)}  # fmt: skip
