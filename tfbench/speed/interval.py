"""The centre of paired log time ratios: Hodges–Lehmann estimate with the exact Wilcoxon signed-rank interval.

Pure functions of the differences d = log(t_HEAD / t_BASE). The signed-rank interval needs no normal
assumption and one slow block (a neighbour's burst) moves it by one Walsh average at most, which is why
it is used rather than a t-interval; its price is a minimum of 8 pairs for a finite 99 % interval.
"""

from __future__ import annotations

import math

import numpy as np


def walsh_averages(d) -> np.ndarray:
    """Every (d_i + d_j) / 2 with i <= j, sorted."""
    d = np.asarray(d, dtype=float)
    i, j = np.triu_indices(len(d))
    return np.sort((d[i] + d[j]) / 2)


def hodges_lehmann(d) -> float:
    """The median of the Walsh averages: the shift estimate that goes with the signed-rank test."""
    if len(d) == 0:
        return math.nan
    return float(np.median(walsh_averages(d)))


def signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ <= k) for k = 0 .. n(n+1)/2 under the null hypothesis, where T+ is the sum of the ranks of
    the positive differences among n continuous, symmetric-about-zero ones (exact, by counting subsets)."""
    total = n * (n + 1) // 2
    counts = np.zeros(total + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        # each rank is in the positive set or not; halving each time keeps a probability, not a count
        shifted = np.zeros_like(counts)
        shifted[rank:] = counts[:-rank]
        counts = (counts + shifted) / 2
    return np.cumsum(counts)


def wilcoxon_interval(d, confidence: float = 0.99) -> tuple[float, float]:
    """The exact signed-rank confidence interval for the centre of symmetric differences d:
    [W_(c+1), W_(M-c)] of the M sorted Walsh averages, c the largest count with P(T+ <= c) <= alpha/2.
    (-inf, inf) when there are too few differences for that confidence (fewer than 8 at 99 %)."""
    n = len(d)
    if n == 0:
        return -math.inf, math.inf
    alpha = 1 - confidence
    cdf = signed_rank_cdf(n)
    below = np.nonzero(cdf <= alpha / 2 * (1 + 1e-12))[0]
    if len(below) == 0:
        return -math.inf, math.inf
    c = int(below[-1])
    walsh = walsh_averages(d)
    return float(walsh[c]), float(walsh[len(walsh) - 1 - c])
