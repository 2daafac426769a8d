"""From an interval of log(t_HEAD / t_BASE) to a decision, and the `--fail-on speed:PCT` it is judged by."""

from __future__ import annotations

import math
import re

from tfbench.errors import TfbenchError

SLOWER, FASTER, SAME, UNDECIDED = "slower", "faster", "same", "undecided"
DEFAULT_PERCENT = 10.0


def parse_fail_on(text: str | None) -> float:
    """`speed:PCT` -> PCT in percent (`speed:10` and `speed:10%` both mean 10 %)."""
    if text is None:
        return DEFAULT_PERCENT
    match = re.fullmatch(r"speed:(\d+(?:\.\d+)?)%?", text.strip())
    value = float(match.group(1)) if match else 0.0
    if not match or not 0 < value < 1000:
        raise TfbenchError(
            f"--fail-on {text!r} is invalid: expected speed:PCT with a percentage above 0, e.g. speed:10 or speed:10%"
        )
    return value


def decide(low: float, high: float, percent: float) -> str:
    """slower when the whole interval lies beyond +log(1+PCT), faster beyond -log(1+PCT), same when it
    lies within both bounds; anything else (an interval too wide to tell) is undecided, never same."""
    bound = math.log(1 + percent / 100)
    if low > bound:
        return SLOWER
    if high < -bound:
        return FASTER
    if -bound <= low and high <= bound:
        return SAME
    return UNDECIDED
