"""Time several variants of one workload in turns, in one process, and keep each one's fastest round.

Timing each variant's rounds in a row lets a machine's slow phase (another process, a warm-up of
the CPU's clock) land on one variant only; in turns, every variant meets the same conditions.
Each round runs every variant once, in an order rotated by one per round so no variant always
follows the same one. Noise on a shared machine only ever adds time: the fastest round is the
figure, and ratios are taken between fastest rounds of the same process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ROUNDS = 10


def alternate(benchmark, variants: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """Warm every variant up once (tracing stays out), then time `rounds` rounds through pytest-benchmark
    (its figure is the time of a whole round); returns each variant's fastest time in seconds."""
    for run in variants.values():
        run()
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    turn = [0]

    def one_round():
        shift = turn[0] % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - started)
        turn[0] += 1

    benchmark.pedantic(one_round, rounds=rounds, iterations=1)
    best = {name: min(values) for name, values in times.items()}
    benchmark.extra_info["fastest_s"] = best
    return best


def overheads(best: dict[str, float], reference: str) -> dict[str, float]:
    """Each variant's extra time over `reference`'s, as a fraction (0.03 is 3 % slower)."""
    return {name: seconds / best[reference] - 1 for name, seconds in best.items() if name != reference}
