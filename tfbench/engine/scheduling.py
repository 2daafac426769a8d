"""Which runs go to a worker together, and how many workers a run uses by default.

Runs that share a graph (spec.canonical.graph_key: every seed of a variant, variants that differ only
in initial weights) go to one worker as one chunk, so it traces the model once and reuses it for the
rest (harness/model_cache.py). Large groups are cut so that every worker stays busy.
"""

from __future__ import annotations

import math
import os
import pickle

from tfbench.spec.canonical import graph_key
from tfbench.spec.limits import MAX_WORKERS, check_count


def planned_workers(workers: int | None, seeds: int, suites: list) -> int:
    """The worker count a run uses: `workers` when given, else default_workers of its number of runs;
    never more than there are runs (a worker without a run would only import TensorFlow)."""
    runs = seeds * sum(len(suite.variants()) for suite in suites)
    return min(check_count("--workers", workers, MAX_WORKERS) or default_workers(runs), max(runs, 1))


def default_workers(runs: int) -> int:
    """Every core when there are more runs than cores; otherwise one process (starting a worker costs a
    TensorFlow import, which only pays off over several runs)."""
    cores = os.cpu_count() or 1
    return cores if runs > cores else 1


def chunks(jobs: list, workers: int) -> list[list[int]]:
    """Job indices in chunks, in job order: each chunk holds runs of one graph, at most about a
    (2 × workers)-th of all runs, so the last chunks of a run do not leave workers idle."""
    if not jobs:
        return []
    cap = len(jobs) if workers <= 1 else max(1, math.ceil(len(jobs) / (2 * workers)))
    groups: dict[object, list[int]] = {}
    for index, job in enumerate(jobs):
        key = graph_key(job.setup, job.monitor) if workers <= 1 or _sendable(job) else None
        groups.setdefault(key if key is not None else ("alone", index), []).append(index)
    return [group[start : start + cap] for group in groups.values() for start in range(0, len(group), cap)]


def _sendable(job) -> bool:
    """A job that cannot be pickled (a lambda in its Setup) fails alone, not with its chunk."""
    try:
        pickle.dumps(job)
    except Exception:
        return False
    return True
