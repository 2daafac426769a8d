"""`python -m tfbench speed BASE HEAD [TARGET...]`: validate everything, time both revisions, write, decide.

Exit codes: 0 no variant slower (undecided ones noted), 1 a variant slower beyond --fail-on, 2 bad input or a
worker that crashed (a revision that cannot be timed is no measurement of a regression: one line naming the
revision and the worker's last stderr line).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from tfbench.errors import TfbenchError
from tfbench.speed import output, revisions
from tfbench.speed.decision import SLOWER, parse_fail_on
from tfbench.speed.process import WorkerCrashed, WorkerProcess
from tfbench.speed.schedule import BASE, HEAD
from tfbench.speed.session import CONFIDENCE, Session

DEFAULT_MAX_SECONDS = 180.0
INTER_OP_THREADS = 1
FINISH_S = 5.0  # stopping both workers and drawing the page
# cpu: the worker process's CPU time, every thread (default: on a shared or virtual 2-core machine its spread
# per block is about half the wall clock's); wall: what a user waits for, waits and sleeps included.
CLOCKS = ("cpu", "wall")


def speed(base: str, head: str, targets: list[str], *, fail_on: str | None = None,
          max_seconds: float = DEFAULT_MAX_SECONDS, threads: int = 1, out=None, markdown=None,
          log: Callable[[str], None] = print, clock: str = "cpu") -> dict:  # fmt: skip
    """Time HEAD against BASE; returns the report (speed.json's content) after writing what was asked for."""
    started = time.monotonic()
    percent = parse_fail_on(fail_on)
    if not (isinstance(max_seconds, (int, float)) and math.isfinite(max_seconds) and max_seconds > 0):
        raise TfbenchError(f"--max-seconds {max_seconds!r} is invalid: expected a positive number of seconds")
    if clock not in CLOCKS:
        raise TfbenchError(f"--clock {clock!r} is unknown: expected one of {', '.join(CLOCKS)}")
    repo = revisions.repository_root(Path.cwd())
    commits = {BASE: revisions.resolve(repo, base), HEAD: revisions.resolve(repo, head)}
    if out is not None:
        output.check_out_folder(out)
    if markdown is not None:
        output.check_markdown_path(markdown)
    mapped = revisions.target_paths(repo, targets)
    for _, relative in mapped:
        for label, commit in commits.items():
            if relative is not None:
                revisions.check_present(repo, commit, label, relative)
    # the last pair ends early enough for the workers to stop and the page to be drawn within the budget
    deadline = started + max_seconds - min(FINISH_S, max_seconds / 10)
    report = _measure(repo, commits, mapped, percent, started, deadline, (threads, clock), log)
    report.update(base={"revision": base, "commit": commits[BASE]}, head={"revision": head, "commit": commits[HEAD]},
                  max_seconds=max_seconds, targets=targets)  # fmt: skip
    if out is not None:
        output.write_out(out, report)
    if markdown is not None:
        output.write_markdown(markdown, report)
    return report


def _measure(repo, commits, mapped, percent, started, deadline, settings: tuple[int, str], log) -> dict:
    threads, clock = settings
    begun = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with revisions.Trees(repo) as trees:
        script = Path(shutil.copy(Path(__file__).with_name("worker.py"), trees.folder / "worker.py"))
        workers = {label: WorkerProcess(label, trees.tree(commit), script) for label, commit in commits.items()}
        try:
            variants, notes = _load(workers, mapped, threads)
            seed = random.randrange(2**32)
            session = Session(workers, percent, started, deadline, seed=seed, log=log, clock=clock)
            log(f"calibrating {len(variants)} variants in both revisions")
            session.calibrate(variants)
            log("timing pairs of blocks (ABBA/BAAB)")
            session.run()
        finally:
            for worker in workers.values():
                worker.close()
    results = [series.summary() for series in session.series.values()]
    return {
        "kind": output.KIND,
        "percent": percent,
        "confidence": CONFIDENCE,
        "statistic": "mean of d = log(t_head / t_base) per pair, Student-t interval",
        "threads": {"intra_op": threads, "inter_op": INTER_OP_THREADS},
        "clock": clock,  # which of each block's wall_seconds and cpu_seconds is its `seconds`
        "order_seed": seed,  # random.Random(seed) drew the ABBA / BAAB quads and the calibration order
        "machine": _machine(),
        "started": begun,
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "results": results,
        "notes": notes + output.notes(results, percent),
        "blocks": [asdict(block) for block in session.blocks],
    }


def _load(workers: dict[str, WorkerProcess], mapped, threads: int) -> tuple[list[str], list[str]]:
    """Both workers import their revision and list the variants; only common variants are timed."""
    names = {}
    for label, worker in workers.items():
        reply = worker.request("hello", threads=[threads, INTER_OP_THREADS])
        # A repository that holds tfbench times its own; a user's project without it times the installed one.
        own = (worker.tree / "tfbench" / "__init__.py").is_file()
        if own and not Path(reply["tfbench"]).resolve().is_relative_to(worker.tree.resolve()):
            raise WorkerCrashed(f"the {label} worker imported tfbench from {reply['tfbench']}, not its revision")
    for label, worker in workers.items():
        targets = [str(worker.tree / relative) if relative else target for target, relative in mapped]
        names[label] = worker.request("load", targets=targets)["variants"]
    common = [name for name in names[HEAD] if name in names[BASE]]
    if not common:
        raise TfbenchError("the two revisions have no variant in common: nothing to compare")
    notes = [f"only in {label}, not timed: {', '.join(n for n in names[label] if n not in common)}"
             for label in (BASE, HEAD) if len(names[label]) > len(common)]  # fmt: skip
    return common, notes


def _machine() -> dict:
    from tfbench.records.manifest import cpu_name

    return {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "platform": platform.platform()}


def exit_code(report: dict) -> int:
    return 1 if any(r["decision"] == SLOWER for r in report["results"]) else 0
