"""Student's t quantiles for the confidence intervals of claims and of `compare`'s noise tolerance.

scipy.stats is imported on first use: it takes about a second, which a `tfbench run` spends before
its workers can start when it sits at module level."""

from __future__ import annotations


def t_quantile(probability: float, dof: int) -> float:
    from scipy.stats import t

    return float(t.ppf(probability, dof))
