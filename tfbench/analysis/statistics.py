"""Every interval tfbench prints, from one rule: Student's t over seeds (docs/design.md §11).

A report cell, a claim's effect and `compare`'s noise tolerance all summarise a handful of seeds (3 in
the standard profile). Over so few values a percentile bootstrap only spans [min, max] of the sample and
covers the true mean about 75 % of the time at n = 3, whatever it claims. The t-interval is exact for
normal values; for skewed ones it under-covers (measured in tests/test_statistics.py: about 88 % for
exponential and 83 % for lognormal values at n = 3, against the bootstrap's 70 % and 65 %): three
seeds cannot tell the distribution's shape, so an interval over them cannot correct for it. Below two
seeds there is no spread to estimate, so no interval: a page shows "–".

scipy.stats is imported on first use: it takes about a second, which a `tfbench run` spends before its
workers can start when it sits at module level.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


def t_quantile(probability: float, dof: int) -> float:
    """The `probability` quantile of Student's t with `dof` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(probability, dof))


def finite(values) -> np.ndarray:
    """The values as a flat float array, NaN and ±inf left out."""
    data = np.asarray(values, dtype=float).ravel()
    return data[np.isfinite(data)]


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high): the mean of the finite values and its Student t-interval,
    mean ± t((1 + confidence) / 2, n − 1) · s / √n with s the sample standard deviation (ddof=1).

    NaN and ±inf are dropped first. With no value left the result is (nan, nan, nan); with one it is
    (value, nan, nan): a single seed has no spread, so no interval is claimed rather than a zero-width one.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is invalid: expected a fraction between 0 and 1")
    data = finite(values)
    n = data.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(data.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = t_quantile((1 + confidence) / 2, n - 1) * float(data.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def interval_label(seeds: int, confidence: float = CONFIDENCE) -> str:
    """What a page says it shows, e.g. "95 % t-interval over 3 seeds"; "no interval (1 seed)" below 2."""
    if seeds < 2:
        return f"no interval ({seeds} seed{'s' if seeds != 1 else ''})"
    return f"{confidence:.0%} t-interval over {seeds} seeds".replace("%", " %")


def _finished(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished: a diverged run has no final metric, a failed one no record at all."""
    if "status" not in runs.columns:
        return runs
    return runs[runs["status"].astype(str) == "ok"]


def paired_differences(runs: pd.DataFrame, column: str, better: str, than: str) -> pd.Series:
    """Per seed, `better`'s value of `column` minus `than`'s on the same seed, indexed by seed ascending.

    Only seeds where both runs finished (status 'ok') and both values are finite count; a seed recorded
    twice for one variant keeps its last row. The report's Δ-vs-reference column (better = the variant,
    than = the reference) and a comparison claim (signed afterwards to its claimed direction) both read
    this, so the same seeds enter both.
    """
    if column not in runs.columns:
        return pd.Series(dtype=float, name="difference")
    finished = _finished(runs)

    def by_seed(label: str) -> pd.Series:
        rows = finished[finished["variant"].astype(str) == str(label)].drop_duplicates("seed", keep="last")
        return pd.to_numeric(rows.set_index("seed")[column], errors="coerce")

    differences = (by_seed(better) - by_seed(than)).replace([np.inf, -np.inf], np.nan).dropna()
    return differences.sort_index().astype(float).rename("difference")


def difference_of_means_half_width(base_std: float, n_base: int, n_current: int,
                                   confidence: float = CONFIDENCE) -> float:  # fmt: skip
    """Half-width of the t-interval of mean(CURRENT) − mean(BASE) when only BASE's n_base seeds estimate
    the spread: t((1 + confidence) / 2, n_base − 1) · s · √(1/n_base + 1/n_current). 0 with one BASE seed
    (no spread to estimate) or no CURRENT seed."""
    if n_base < 2 or n_current < 1 or not math.isfinite(base_std):
        return 0.0
    standard_error = base_std * math.sqrt(1 / n_base + 1 / n_current)
    return t_quantile((1 + confidence) / 2, n_base - 1) * standard_error
