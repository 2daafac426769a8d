"""Verdict thresholds (docs/design.md §7) against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tfbench.analysis.verdict import (
    DECADES,
    DIVERGENCE_LOSS_FACTOR,
    first_divergent_step,
    judge,
    judge_step,
    log10_ratio,
)

# --------------------------------------------------------------------------------------------- divergence


def test_thresholds_are_the_documented_ones():
    assert DECADES == 2.0  # ±2 decades, docs/design.md §7
    assert DIVERGENCE_LOSS_FACTOR > 1


def test_no_divergence_in_a_finite_decreasing_run():
    assert first_divergent_step([2.3, 2.0, 1.5, 1.2], [1.0, 0.9, 0.8, 0.7], start_loss=2.3) is None


def test_first_nan_loss_is_found():
    assert first_divergent_step([2.3, 2.0, np.nan, 1.0, np.nan], [1.0] * 5, start_loss=2.3) == 2


def test_first_infinite_gradient_norm_is_found_even_with_finite_loss():
    assert first_divergent_step([2.3, 2.2, 2.1, 2.0], [1.0, 5.0, np.inf, 1.0], start_loss=2.3) == 2
    assert first_divergent_step([2.3, 2.2], [1.0, -np.inf], start_loss=2.3) == 1


def test_loss_beyond_the_factor_times_the_start_is_divergence():
    start = 0.5
    limit = DIVERGENCE_LOSS_FACTOR * start
    losses = [start, limit * 0.99, limit, limit * 1.01, 1.0]
    assert first_divergent_step(losses, [1.0] * 5, start_loss=start) == 3  # strictly beyond, not at


def test_the_earliest_of_several_causes_wins():
    losses = [1.0, 1.0, 1.0, np.inf, 1.0]
    grads = [1.0, 1.0, np.nan, 1.0, 1.0]
    assert first_divergent_step(losses, grads, start_loss=1.0) == 2


@pytest.mark.parametrize("start", [0.0, np.nan, np.inf])
def test_loss_factor_is_not_applied_without_a_positive_finite_start(start):
    assert first_divergent_step([1e9, 1e12], [1.0, 1.0], start_loss=start) is None
    assert first_divergent_step([1e9, np.nan], [1.0, 1.0], start_loss=start) == 1


# --------------------------------------------------------------------------------------------- ratios


@pytest.mark.parametrize(
    "first, last, expected",
    [
        (1e-3, 1e-1, -2.0),
        (1.0, 1.0, 0.0),
        (5e2, 5e-1, 3.0),
        (2.0, 1.0, math.log10(2.0)),
    ],
)
def test_log10_ratio_closed_form(first, last, expected):
    assert log10_ratio(first, last) == pytest.approx(expected, abs=1e-12)


def test_log10_ratio_with_zero_gradients():
    assert log10_ratio(0.0, 0.3) == -math.inf  # vanished completely at the first layer
    assert log10_ratio(0.3, 0.0) == math.inf
    assert math.isnan(log10_ratio(0.0, 0.0))  # nothing to compare


# --------------------------------------------------------------------------------------------- judge


@pytest.mark.parametrize(
    "ratio, verdict",
    [
        (-2.0, "healthy"),  # at the boundary: not beyond ±2 decades
        (-2.0001, "vanishing"),
        (-1.9999, "healthy"),
        (2.0, "healthy"),
        (2.0001, "exploding"),
        (0.0, "healthy"),
        (-math.inf, "vanishing"),
        (math.inf, "exploding"),
    ],
)
def test_judge_at_the_decade_boundaries(ratio, verdict):
    assert judge(ratio, 0.0)[0] == verdict  # the kernel ratio decides
    assert judge(0.0, ratio)[0] == verdict  # the δ ratio decides


@pytest.mark.parametrize(
    "kernel, delta, verdict, named",
    [
        (-1.0, 3.0, "exploding", "δ"),  # |3| > |-1|
        (-3.0, 2.5, "vanishing", "kernel"),  # |-3| > |2.5|
        (2.5, -2.4, "exploding", "kernel"),
        (-2.1, -5.0, "vanishing", "δ"),
        (1.5, -1.9, "healthy", "δ"),
    ],
)
def test_the_larger_magnitude_decides(kernel, delta, verdict, named):
    got, reason = judge(kernel, delta)
    assert got == verdict
    assert reason.startswith(named)


def test_nan_ratios_are_ignored_and_no_signal_at_all_is_vanishing():
    assert judge(math.nan, -3.0)[0] == "vanishing"
    assert judge(2.5, math.nan)[0] == "exploding"
    assert judge(math.nan, math.nan)[0] == "vanishing"


def test_nonfinite_gradients_are_divergence_whatever_the_ratios():
    assert judge(0.0, 0.0, nonfinite=True)[0] == "diverged"


def test_reason_reports_the_decades():
    assert "-3.0 decades" in judge(-3.0, 0.5)[1]
    assert "-inf" in judge(-math.inf, 0.5)[1]


# --------------------------------------------------------------------------------------------- judge_step


def layers(kernel, delta, nonfinite=(0, 0, 0, 0), order=(0, 1, 2, 3)):
    """Layer rows of one step: depths 1..4, where 4 is the output layer (Setup.depth = 3)."""
    table = pd.DataFrame(
        {
            "depth": [1, 2, 3, 4],
            "layer": ["dense_1", "dense_2", "dense_3", "output"],
            "kernel_grad_norm": kernel,
            "act_grad_norm": delta,
            "nonfinite": [float(n) for n in nonfinite],
        }
    )
    return table.iloc[list(order)]


def test_judge_step_compares_depth_1_with_the_last_hidden_layer_not_the_output():
    # depth 1 vs depth 3: log10(1e-4 / 1e-1) = -3 (vanishing); against the output (depth 4) it would be -0.3
    rows = layers(kernel=[1e-4, 1e-2, 1e-1, 2e-4], delta=[1e-3, 1e-3, 1e-3, 1e-3])
    verdict, _, kernel_ratio, delta_ratio = judge_step(rows)
    assert verdict == "vanishing"
    assert kernel_ratio == pytest.approx(-3.0)
    assert delta_ratio == pytest.approx(0.0)


def test_judge_step_does_not_depend_on_row_order():
    rows = layers(kernel=[1.0, 1.0, 1e-3, 1e-3], delta=[1.0, 1.0, 1.0, 1.0], order=(3, 1, 0, 2))
    verdict, _, kernel_ratio, _ = judge_step(rows)
    assert (verdict, kernel_ratio) == ("exploding", pytest.approx(3.0))


def test_judge_step_uses_the_delta_when_it_is_larger():
    rows = layers(kernel=[1.0, 1.0, 1.0, 1.0], delta=[1e-5, 1e-3, 1e-2, 1.0])
    verdict, _, kernel_ratio, delta_ratio = judge_step(rows)
    assert verdict == "vanishing"
    assert (kernel_ratio, delta_ratio) == (pytest.approx(0.0), pytest.approx(-3.0))


def test_judge_step_healthy_within_two_decades():
    rows = layers(kernel=[0.02, 0.05, 0.1, 0.3], delta=[0.01, 0.03, 0.1, 0.2])
    assert judge_step(rows)[0] == "healthy"


def test_judge_step_with_nonfinite_entries_is_divergence():
    rows = layers(kernel=[1.0] * 4, delta=[1.0] * 4, nonfinite=(0, 3, 0, 0))
    assert judge_step(rows)[0] == "diverged"


def test_judge_step_with_no_rows_is_divergence():
    verdict, _, kernel_ratio, delta_ratio = judge_step(layers([1.0] * 4, [1.0] * 4).iloc[[]])
    assert verdict == "diverged" and math.isnan(kernel_ratio) and math.isnan(delta_ratio)
