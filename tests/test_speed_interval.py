"""The speed gate's statistic and decision: the t-interval of the mean log ratio against scipy and a closed
form, its coverage on simulated pairs, and the four decisions at their bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tfbench.errors import TfbenchError
from tfbench.speed.decision import FASTER, SAME, SLOWER, UNDECIDED, decide, parse_fail_on
from tfbench.speed.interval import centre, t_interval


def test_two_values_give_the_closed_form_interval():
    # n = 2: mean -/+ t_{0.995, 1} * |d1 - d2| / sqrt(2) / sqrt(2); t_{0.995, 1} = tan(pi * 0.49)
    low, high = t_interval([0.1, 0.3], 0.99)
    half = math.tan(math.pi * (0.995 - 0.5)) * (0.2 / math.sqrt(2)) / math.sqrt(2)
    assert low == pytest.approx(0.2 - half) and high == pytest.approx(0.2 + half)


@pytest.mark.parametrize("n", [3, 8, 40])
def test_the_interval_agrees_with_scipys_one_sample_t_test(n):
    d = np.random.default_rng(n).normal(0.05, 0.1, n)
    expected = stats.ttest_1samp(d, 0.0).confidence_interval(0.99)
    assert t_interval(d, 0.99) == pytest.approx((expected.low, expected.high))
    assert centre(d) == pytest.approx(d.mean())


def test_fewer_than_two_pairs_give_an_infinite_interval():
    assert t_interval([], 0.99) == (-math.inf, math.inf)
    assert t_interval([0.4], 0.99) == (-math.inf, math.inf)


def test_the_interval_covers_the_true_centre_about_99_percent_of_the_time():
    rng = np.random.default_rng(0)
    trials, covered = 4000, 0
    for _ in range(trials):
        low, high = t_interval(rng.normal(0.1, 0.2, 6), 0.99)
        covered += low <= 0.1 <= high
    # binomial sd at p = 0.99, 4000 trials: 0.0016; four of them either side
    assert abs(covered / trials - 0.99) < 0.0064


BOUND = math.log(1.1)


@pytest.mark.parametrize(
    "low, high, decision",
    [
        (BOUND + 1e-9, 2.0, SLOWER),
        (-2.0, -BOUND - 1e-9, FASTER),
        (-BOUND, BOUND, SAME),
        (-0.01, 0.02, SAME),
        (0.0, BOUND + 1e-9, UNDECIDED),
        (BOUND - 1e-9, 1.0, UNDECIDED),
        (-math.inf, math.inf, UNDECIDED),
    ],
)
def test_decisions_at_ten_percent(low, high, decision):
    assert decide(low, high, 10.0) == decision


@pytest.mark.parametrize("text, percent", [(None, 10.0), ("speed:5", 5.0), ("speed:12.5%", 12.5)])
def test_fail_on_reads_a_percentage(text, percent):
    assert parse_fail_on(text) == percent


@pytest.mark.parametrize("text", ["speed:0", "speed:-5", "metric:0.1", "speed:", "10", "speed:ten"])
def test_a_bad_fail_on_names_itself(text):
    with pytest.raises(TfbenchError, match="--fail-on"):
        parse_fail_on(text)
