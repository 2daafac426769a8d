"""The centre of paired log time ratios d = log(t_HEAD / t_BASE): the mean with its Student-t interval.

Why t rather than the Wilcoxon signed-rank interval: at 99 % the exact signed-rank interval is infinite
below 8 pairs, while a t-interval calls a large change after 3, and a pair of setup blocks costs seconds.
The log makes a ratio's noise symmetric, and a stray slow block widens the interval (more undecided), it
does not move the decision towards a false alarm on its own.
"""

from __future__ import annotations

import math

import numpy as np

from tfbench.analysis import statistics


def t_interval(d, confidence: float = 0.99) -> tuple[float, float]:
    """mean(d) -/+ t_{(1+confidence)/2, n-1} * sd(d) / sqrt(n) (analysis/statistics.py, the one t-interval);
    (-inf, inf) with fewer than 2 values: nothing is known yet, so nothing is decided."""
    _, low, high = statistics.t_interval(d, confidence)
    if math.isnan(low):
        return -math.inf, math.inf
    return low, high


def centre(d) -> float:
    """The estimate the interval surrounds: the mean of d (NaN when there is none)."""
    return float(np.mean(d)) if len(d) else math.nan
