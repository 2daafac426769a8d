"""A diagnosis's per-layer verdicts and its headline, from one rule (docs/design.md §7), so they cannot
disagree.

Every layer with a kernel is compared with the last hidden layer: its kernel-gradient and δ norms in
decades (log10 of the ratio), judged by verdict.judge, the larger magnitude deciding. The headline is
the first hidden layer's row: the same ratio a run's verdict judges (verdict.judge_step). A layer in
between can lie beyond ±2 decades while the first is within (a gradient that grows, then shrinks on
the way to the input); the headline then says so in one sentence (`note`) instead of leaving the
table to contradict it.
"""

from __future__ import annotations

import math

import pandas as pd

from tfbench.analysis.verdict import DECADES, deciding_ratio, judge, log10_ratio
from tfbench.records.kernel_rows import is_kernel
from tfbench.vocabulary import DIVERGED, HEALTHY, VANISHING

COLUMN_OF = {"kernel": "kernel_decades", "δ": "delta_decades"}


def format_decades(ratio: float) -> str:
    """'+1.8', '-inf'; '–' where there is no ratio (a layer without a kernel, or no signal at either end)."""
    if ratio is None or math.isnan(ratio):
        return "–"
    return f"{ratio:+.1f}" if math.isfinite(ratio) else ("-inf" if ratio < 0 else "+inf")


def _compared(table: pd.DataFrame) -> pd.DataFrame:
    """The rows judged: layers with a kernel (all rows when the table has no `weight` column)."""
    if "weight" not in table:
        return table
    kernels = is_kernel(table["weight"])
    return table[kernels] if kernels.any() else table


def judge_layers(table: pd.DataFrame) -> pd.DataFrame:
    """`table` (one row per layer in forward order: layer, kernel_grad_norm, act_grad_norm, nonfinite and
    optionally weight) with kernel_decades, delta_decades (NaN where a row has no kernel) and verdict ("" there)."""
    compared = _compared(table)
    last = compared.iloc[max(len(compared) - 2, 0)]  # the output layer is the last row
    judged = table.index.isin(compared.index)
    kernel = [log10_ratio(v, last.kernel_grad_norm) if on else math.nan
              for v, on in zip(table.kernel_grad_norm, judged, strict=True)]  # fmt: skip
    delta = [log10_ratio(v, last.act_grad_norm) if on else math.nan
             for v, on in zip(table.act_grad_norm, judged, strict=True)]  # fmt: skip
    nonfinite = table["nonfinite"].fillna(0).gt(0) if "nonfinite" in table else [False] * len(table)
    verdicts = [judge(k, d, bool(bad))[0] if on else ""
                for k, d, bad, on in zip(kernel, delta, nonfinite, judged, strict=True)]  # fmt: skip
    return table.assign(kernel_decades=kernel, delta_decades=delta, verdict=verdicts)


def headline(judged: pd.DataFrame) -> tuple[str, str]:
    """(verdict, reason) of a table from judge_layers: the first hidden layer's row, named with the last
    hidden layer it is compared with and, when not healthy, the step between two layers that changed most."""
    compared = _compared(judged)
    first, last = compared.iloc[0], compared.iloc[max(len(compared) - 2, 0)]
    bad = judged[judged["nonfinite"].fillna(0).gt(0)] if "nonfinite" in judged else judged.iloc[:0]
    if len(bad):  # any layer, with a kernel or not, as verdict.judge_step
        return DIVERGED, f"non-finite gradients at {', '.join(bad['layer'].astype(str))}"
    deciding = deciding_ratio(first.kernel_decades, first.delta_decades, math.nan)
    if deciding is None:
        return VANISHING, f"no gradient signal at {first.layer} or {last.layer} to compare"
    ratio, name = deciding
    verdict = first.verdict
    reason = (f"{name} gradient of {first.layer} (first hidden layer) is 10^{format_decades(ratio)} of "
              f"{last.layer}'s (last hidden layer)")  # fmt: skip
    if verdict != HEALTHY:
        reason += steepest(compared, COLUMN_OF[name], ratio)
    return verdict, reason


def steepest(compared: pd.DataFrame, column: str, ratio: float) -> str:
    """'; steepest between dense_2 and dense_3 (+3.0 decades)': the pair of neighbouring layers across which
    the deciding gradient changed most in the direction of `ratio`; '' with fewer than two layers."""
    values = compared[column].to_numpy(float)
    steps = [(values[i - 1] - values[i], i) for i in range(1, len(values)) if math.isfinite(values[i - 1] - values[i])]
    if not steps:
        return ""
    step, i = max(steps) if ratio > 0 else min(steps)
    return (
        f"; steepest between {compared.iloc[i - 1].layer} and {compared.iloc[i].layer} ({format_decades(step)} decades)"
    )


def beyond(judged: pd.DataFrame) -> pd.DataFrame:
    """The layers whose own row lies beyond ±DECADES of the last hidden layer."""
    return judged[~judged["verdict"].isin([HEALTHY, ""])]


def note(judged: pd.DataFrame, verdict: str) -> str:
    """One sentence where the table shows what the headline does not: layers beyond ±2 decades while the
    first hidden layer (which decides) is within. '' otherwise."""
    outside = beyond(judged)
    if verdict != HEALTHY or outside.empty:
        return ""
    listed = ", ".join(layer_evidence(row) for row in outside.itertuples())
    count = f"{len(outside)} layer{'s' if len(outside) != 1 else ''}"
    return (f"The verdict compares the first hidden layer with the last, which are within ±{DECADES:g} decades; "
            f"{count} in between {'are' if len(outside) != 1 else 'is'} beyond them: {listed}.")  # fmt: skip


def layer_evidence(row) -> str:
    """'expanded_conv_depthwise (kernel +1.4, δ +2.2 decades, exploding)'."""
    return (f"{row.layer} (kernel {format_decades(row.kernel_decades)}, δ {format_decades(row.delta_decades)} "
            f"decades, {row.verdict})")  # fmt: skip
