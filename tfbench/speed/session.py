"""The measurement loop: calibrate each variant, then add pairs of blocks until each is decided or time runs out.

Blocks run one at a time (the other worker waits on its pipe), so the two revisions never share the cores.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tfbench.speed.decision import UNDECIDED, decide
from tfbench.speed.interval import centre, t_interval
from tfbench.speed.process import WorkerProcess
from tfbench.speed.schedule import BASE, HEAD, pair_orders

BLOCK_S = 0.5  # long enough to swamp a block's fixed cost, short enough that a pair sees one machine
CONFIDENCE = 0.99
STEP, SETUP = "step", "setup"


@dataclass
class Block:
    revision: str
    variant: str
    quantity: str
    order: int  # position among all blocks of the command
    pair: int  # which pair of its series
    started_s: float  # since the command started
    seconds: float  # by the clock the command judges on (cpu_seconds or wall_seconds)
    updates: int  # optimizer updates timed (0 for setup blocks: one build and trace)
    wall_seconds: float = math.nan
    cpu_seconds: float = math.nan  # every thread of the worker process


@dataclass
class Series:
    """The pairs of one variant and quantity, and what they say."""

    variant: str
    quantity: str
    percent: float
    updates: int = 0
    blocks: list[Block] = field(default_factory=list)

    def pairs(self) -> list[tuple[float, float]]:
        """(base, head) seconds per complete pair."""
        by_pair: dict[int, dict[str, float]] = {}
        for block in self.blocks:
            by_pair.setdefault(block.pair, {})[block.revision] = block.seconds
        return [(p[BASE], p[HEAD]) for p in by_pair.values() if len(p) == 2]

    def differences(self) -> list[float]:
        return [math.log(head / base) for base, head in self.pairs()]

    def interval(self) -> tuple[float, float]:
        return t_interval(self.differences(), CONFIDENCE)

    def decision(self) -> str:
        low, high = self.interval()
        return decide(low, high, self.percent) if math.isfinite(low) else UNDECIDED

    def summary(self) -> dict:
        """base/head in ms (per update for step, per build for setup), ratio and interval as time ratios."""
        pairs = self.pairs()
        per = 1000 / self.updates if self.quantity == STEP and self.updates else 1000
        low, high = self.interval()
        return {
            "variant": self.variant,
            "quantity": self.quantity,
            "base_ms": _median([b for b, _ in pairs]) * per,
            "head_ms": _median([h for _, h in pairs]) * per,
            "ratio": math.exp(centre(self.differences())) if pairs else math.nan,
            "low": math.exp(low),
            "high": math.exp(high),
            "pairs": len(pairs),
            "decision": self.decision(),
        }


def _median(values: list[float]) -> float:
    values = sorted(values)
    if not values:
        return math.nan
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


class Session:
    def __init__(self, workers: dict[str, WorkerProcess], percent: float, started: float, deadline: float,
                 seed: int, log: Callable[[str], None], clock: str = "cpu"):  # fmt: skip
        self.workers, self.percent, self.started, self.deadline = workers, percent, started, deadline
        self.clock = clock
        self.rng = random.Random(seed)
        self.log = log
        self.blocks: list[Block] = []
        self.series: dict[tuple[str, str], Series] = {}
        self.chunks: dict[str, int] = {}
        self.orders: dict[tuple[str, str], object] = {}

    def calibrate(self, variants: list[str]) -> None:
        """Build, trace and warm every variant in both workers; the chunks per block from both revisions'
        chunk times, so the same updates are timed on both sides."""
        for variant in variants:
            for quantity in (STEP, SETUP):
                self.series[(variant, quantity)] = Series(variant, quantity, self.percent)
                self.orders[(variant, quantity)] = pair_orders(self.rng)
            if time.monotonic() > self.deadline:
                self.log(f"  {variant}: not calibrated, --max-seconds ran out (undecided)")
                continue
            replies = {rev: self.workers[rev].request("prepare", variant=variant) for rev in self._shuffled()}
            chunk_s = sum(r["chunk_s"] for r in replies.values()) / 2
            self.chunks[variant] = max(1, round(BLOCK_S / chunk_s))
            self.series[(variant, STEP)].updates = self.chunks[variant] * replies[BASE]["chunk"]
            self.log(f"  {variant}: {self.chunks[variant]} chunks of {replies[BASE]['chunk']} updates per block")

    def run(self) -> None:
        """Rounds over the undecided series until all are decided or the next pair would pass the deadline.
        Setup pairs take at most as much time as step pairs: each costs seconds, not half of one."""
        while True:
            progressed = False
            for key, series in self.series.items():
                if key[0] not in self.chunks or series.decision() != UNDECIDED:
                    continue
                if key[1] == SETUP and self._setup_share_spent():
                    continue
                if time.monotonic() + self._pair_cost(series) > self.deadline:
                    continue
                self._pair(series)
                progressed = True
            if not progressed:
                return

    def _setup_share_spent(self) -> bool:
        spent = {STEP: 0.0, SETUP: 0.0}
        for block in self.blocks:
            spent[block.quantity] += block.wall_seconds
        return spent[SETUP] > spent[STEP]

    def _pair_cost(self, series: Series) -> float:
        recent = [b.wall_seconds for b in series.blocks[-4:]] or [BLOCK_S if series.quantity == STEP else 2.0]
        return 2 * max(recent) + 0.2

    def _pair(self, series: Series) -> None:
        index = len(series.blocks) // 2
        for revision in next(self.orders[(series.variant, series.quantity)]):
            started = time.monotonic() - self.started
            if series.quantity == STEP:
                reply = self.workers[revision].request(
                    "step", variant=series.variant, chunks=self.chunks[series.variant]
                )
            else:
                reply = self.workers[revision].request("setup", variant=series.variant)
            judged = reply["cpu_seconds"] if self.clock == "cpu" else reply["seconds"]
            block = Block(revision, series.variant, series.quantity, len(self.blocks), index, round(started, 3),
                          judged, series.updates, reply["seconds"], reply["cpu_seconds"])  # fmt: skip
            self.blocks.append(block)
            series.blocks.append(block)

    def _shuffled(self) -> list[str]:
        order = [BASE, HEAD]
        self.rng.shuffle(order)
        return order
