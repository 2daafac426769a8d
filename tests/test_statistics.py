"""Every printed interval has the coverage it states (tfbench/analysis/statistics.py): the t-interval
against scipy's closed form, its coverage by simulation, the one paired-difference rule shared by the
report and the claims, and compare's tolerance from the same module."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tfbench.analysis.claims import judge_claim
from tfbench.analysis.statistics import (
    difference_of_means_half_width,
    interval_label,
    paired_differences,
    t_interval,
)
from tfbench.report.tables import comparison_table

# --------------------------------------------------------------------------------------------- closed form


@pytest.mark.parametrize("n", [2, 3, 5, 10, 40])
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_t_interval_equals_scipy_closed_form(n, confidence):
    values = np.random.default_rng(n).normal(3.0, 0.7, size=n)
    low, high = stats.t.interval(confidence, n - 1, loc=values.mean(), scale=stats.sem(values))
    assert t_interval(values, confidence) == pytest.approx((values.mean(), low, high), rel=1e-12)


def test_t_interval_of_two_values_by_hand():
    # [1, 3]: mean 2, s = √2, se = 1, t(0.975, 1) = tan(0.475 π) ≈ 12.706
    half = math.tan(0.475 * math.pi)
    assert t_interval([1.0, 3.0]) == pytest.approx((2.0, 2.0 - half, 2.0 + half))


def test_t_interval_drops_non_finite_values_and_claims_nothing_below_two():
    assert all(math.isnan(x) for x in t_interval([]))
    assert all(math.isnan(x) for x in t_interval([math.nan, math.inf]))
    mean, low, high = t_interval([4.0, math.nan, -math.inf])
    assert mean == 4.0 and math.isnan(low) and math.isnan(high)
    assert t_interval([1.0, 3.0, math.nan, math.inf]) == t_interval([1.0, 3.0])
    assert t_interval([0.7] * 5) == pytest.approx((0.7, 0.7, 0.7))
    with pytest.raises(ValueError, match="confidence=1.5"):
        t_interval([1.0, 2.0], confidence=1.5)


def test_interval_label_names_the_rule_and_the_seeds():
    assert interval_label(3) == "95 % t-interval over 3 seeds"
    assert interval_label(1) == "no interval (1 seed)"
    assert interval_label(0) == "no interval (0 seeds)"


def test_compare_half_width_is_the_t_interval_of_a_difference_of_means():
    # BASE n=3 estimates s; Var(mean c − mean b) = s²(1/3 + 1/4); t with n − 1 = 2 degrees of freedom
    assert difference_of_means_half_width(0.5, 3, 4) == pytest.approx(stats.t.ppf(0.975, 2) * 0.5 * math.sqrt(7 / 12))
    assert difference_of_means_half_width(0.5, 1, 4) == 0.0
    assert difference_of_means_half_width(math.nan, 3, 3) == 0.0


# --------------------------------------------------------------------------------------------- coverage
# Measured with these seeds, 4,000 draws per cell (the fraction of draws whose stated 95 % interval
# covers the true mean):
#
#                 t-interval                  percentile bootstrap at n = 3 (= [min, max])
#   normal        n=3 0.948  n=5 0.955  n=10 0.948     0.741
#   exponential   n=3 0.878  n=5 0.890  n=10 0.900     0.699
#   lognormal σ=1 n=3 0.843  n=5 0.821  n=10 0.836     0.650
#
# The t-interval is exact for normal values. For skewed ones it under-covers: the sample mean and
# the sample spread are correlated (a draw with a low mean usually has a small spread too), so the
# interval is too short exactly when it misses. That is a property of the data and of n, not of the
# code: three seeds cannot tell the shape to correct for it. The test therefore asserts ≥ 93 %
# for the normal case and, for the skewed ones, the floors above (minus a margin) and that the
# t-interval beats the percentile bootstrap it replaced at n = 3 by a wide margin.

DRAWS = 4_000
DISTRIBUTIONS = {  # name -> (sampler, true mean)
    "normal": (lambda rng, size: rng.normal(1.0, 2.0, size), 1.0),
    "exponential": (lambda rng, size: rng.exponential(1.0, size), 1.0),
    "lognormal": (lambda rng, size: rng.lognormal(0.0, 1.0, size), math.exp(0.5)),
}
FLOOR = {"normal": 0.93, "exponential": 0.86, "lognormal": 0.80}


def coverage(name: str, n: int) -> tuple[float, float]:
    """(t-interval coverage, [min, max] coverage) of the true mean over DRAWS samples of size n."""
    sampler, true_mean = DISTRIBUTIONS[name]
    samples = sampler(np.random.default_rng([n, len(name)]), (DRAWS, n))
    hits = 0
    for sample in samples:
        _, low, high = t_interval(sample)
        hits += low <= true_mean <= high
    span = (samples.min(axis=1) <= true_mean) & (true_mean <= samples.max(axis=1))
    return hits / DRAWS, float(span.mean())


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_stated_95_percent_interval_covers_the_true_mean(name, n):
    covered, _ = coverage(name, n)
    assert covered >= FLOOR[name], f"{name} n={n}: {covered:.3f}"
    if name == "normal":
        assert covered <= 0.97, f"too wide: {covered:.3f}"  # exact: 0.95 within sampling noise


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_t_interval_beats_the_percentile_bootstrap_over_three_seeds(name):
    covered, span = coverage(name, 3)
    assert span <= 0.76  # 1 − 2·(1/2)³ = 0.75 for any symmetric distribution; less for skewed ones
    assert covered - span >= 0.15


# --------------------------------------------------------------------------------------------- one rule


def runs_of(metrics: dict[str, list[float]], statuses: dict[str, list[str]] | None = None, metric="accuracy"):
    rows = []
    for variant, values in metrics.items():
        for seed, value in enumerate(values):
            status = (statuses or {}).get(variant, ["ok"] * len(values))[seed]
            rows.append({"variant": variant, "level": variant, "seed": seed, "status": status, "metric_name": metric,
                         "final_metric": math.nan if status != "ok" else value, "final_loss": 0.0,
                         "log10_grad_ratio": 0.0, "steps_per_s": 1.0, "verdict": "healthy",
                         "verdict_end": "healthy"})  # fmt: skip
    return pd.DataFrame(rows)


def test_paired_differences_pair_finished_seeds_only():
    runs = runs_of({"ref": [0.5, 0.6, 0.7, 0.8], "x": [0.6, 0.9, 0.1, 0.8]},
                   {"ref": ["ok", "ok", "ok", "failed"], "x": ["ok", "ok", "diverged", "ok"]})  # fmt: skip
    differences = paired_differences(runs, "final_metric", "x", "ref")
    assert differences.index.tolist() == [0, 1]
    assert differences.tolist() == pytest.approx([0.1, 0.3])
    assert paired_differences(runs, "no_such_column", "x", "ref").empty


@pytest.mark.parametrize("metric", ["accuracy", "mae"])
def test_page_and_claims_table_agree_on_whether_zero_is_excluded(metric):
    """The suite page's Δ-vs-reference cell and claims.csv come from the same runs.csv: for a claim on the
    pair (variant, reference), in either direction, both intervals exclude 0 or neither does."""
    rng = np.random.default_rng(7)
    excluded_seen = included_seen = 0
    for _ in range(60):
        n = int(rng.integers(2, 7))
        ref = rng.normal(0.6, 0.1, n)
        runs = runs_of({"ref": list(ref), "x": list(ref + rng.normal(rng.normal(0, 0.05), 0.05, n))}, metric=metric)
        statuses = rng.choice(["ok", "ok", "ok", "diverged", "failed"], size=len(runs))
        runs["status"] = statuses
        runs.loc[runs["status"] != "ok", "final_metric"] = math.nan
        row = comparison_table(runs, None, "ref", higher_is_better=metric == "accuracy").set_index("variant").loc["x"]
        low, high = row["diff_vs_reference_low"], row["diff_vs_reference_high"]
        page_excludes = bool(low > 0 or high < 0)
        for better, than in (("x", "ref"), ("ref", "x")):
            claim = {"text": "c", "better": better, "than": than, "source": "s"}
            judged = judge_claim("s", claim, runs)
            assert (judged["status"] in ("reproduced", "not_reproduced")) == page_excludes
            if not math.isnan(low):
                assert sorted(map(abs, (judged["ci_low"], judged["ci_high"]))) == pytest.approx(
                    sorted(map(abs, (low, high)))
                )
        excluded_seen += page_excludes
        included_seen += not page_excludes
    assert excluded_seen and included_seen  # both outcomes were exercised


def test_index_card_line_names_the_interval_and_the_finished_seeds():
    from tfbench.report.html import best_summary

    row = {"variant": "tanh", "seeds": 4, "diverged": 1, "failed": 0, "final_metric_mean": 0.958,
           "final_metric_low": 0.941, "final_metric_high": 0.975}  # fmt: skip
    assert best_summary(row) == "tanh 0.958 (95 % t-interval 0.941 – 0.975 over 3 seeds)"
    one = {**row, "seeds": 1, "diverged": 0, "final_metric_low": math.nan, "final_metric_high": math.nan}
    assert best_summary(one) == "tanh 0.958 (1 seed, no interval)"
    assert best_summary(None) == ""


def test_training_curve_band_is_the_same_t_interval():
    from tfbench.report import plots

    values = {0: [1.0, 1.5, 3.0], 1: [0.5, 0.7, 0.6]}  # step -> one value per seed
    steps = pd.DataFrame([{"variant": "a", "seed": seed, "step": step, "loss": value}
                          for step, per_seed in values.items() for seed, value in enumerate(per_seed)])  # fmt: skip
    figure = plots.new_figure(3, 3)
    ax = figure.subplots()
    plots._seed_lines(ax, steps, "loss", {"a": (0.0, 0.0, 1.0)})
    vertices = ax.collections[0].get_paths()[0].vertices
    for step, per_seed in values.items():
        at = vertices[vertices[:, 0] == step, 1]
        expected = stats.t.interval(0.95, 2, loc=np.mean(per_seed), scale=stats.sem(per_seed))
        assert (at.min(), at.max()) == pytest.approx(expected)
