"""When a change between two runs counts as a regression: the gates a command line and a suite set, and
the seed-variance test. The gates' vocabulary and syntax are in tfbench/records/tolerances.py.

A numeric change is a regression when it goes the worse way AND it is larger than both
- the half-width of the 95 % confidence interval of the difference of means, from BASE's seeds, and
- an absolute floor, so one-seed runs (no variance) and float noise between CPUs never fail.

The half-width, for BASE values b_1..b_n and CURRENT values c_1..c_m of one (suite, variant):

    s  = sample standard deviation of b (ddof=1)          the seed-to-seed spread, estimated in BASE only
    se = s * sqrt(1/n + 1/m)                              standard error of mean(c) - mean(b), assuming
                                                          CURRENT spreads as BASE did
    half_width = t(0.975, n - 1) * se                     Student's t, n - 1 degrees of freedom because
                                                          only BASE estimates s

With n = 1 there is no spread to estimate: the half-width is 0 and the floor alone decides. The formula
lives with every other interval, in tfbench/analysis/statistics.py.
"""

from __future__ import annotations

from tfbench.analysis.statistics import difference_of_means_half_width
from tfbench.errors import TfbenchError
from tfbench.records.tolerances import ACCEPTED, DEFAULT_FAIL_ON, parse_mapping


def parse_fail_on(spec: str | None) -> dict:
    """`metric:0.02,speed:25%,verdict:off` -> {key: Floor or bool}; empty or None -> {}."""
    pairs = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        key, sep, value = item.partition(":")
        if not sep or not value.strip():
            raise TfbenchError(f"--fail-on item {item!r} is invalid: expected KEY:VALUE with KEY one of {ACCEPTED}")
        pairs[key.strip()] = value
    return parse_mapping(pairs, "--fail-on")


def looser(first, second):
    """The gate that fails less: a larger floor (compared at the BASE mean later), or a switch off."""
    if isinstance(first, bool):
        return first and second
    return (first, second)


def resolve(cli: dict, suite: dict) -> dict:
    """The gates for one suite: defaults, replaced by the suite's own and by --fail-on; where both the
    suite and --fail-on name a key the looser one holds, so a command line cannot make a suite's known
    noise fail and a suite cannot tighten a gate the command line loosened."""
    gates = parse_mapping(DEFAULT_FAIL_ON, "defaults")
    for key in gates:
        if key in cli and key in suite:
            gates[key] = looser(cli[key], suite[key])
        elif key in cli or key in suite:
            gates[key] = cli.get(key, suite.get(key))
    return gates


def floor_at(gate, base_mean: float) -> float:
    """A gate's absolute floor at a BASE mean; a pair (from `looser`) gives the larger of the two."""
    floors = gate if isinstance(gate, tuple) else (gate,)
    return max(f.absolute(base_mean) for f in floors)


def describe(gate) -> str:
    if isinstance(gate, bool):
        return "on" if gate else "off"
    return " or ".join(str(f) for f in gate) if isinstance(gate, tuple) else str(gate)


def half_width(base_std: float, n_base: int, n_current: int) -> float:
    """Half-width of the 95 % CI of mean(CURRENT) - mean(BASE); 0 when BASE has a single seed."""
    return difference_of_means_half_width(base_std, n_base, n_current)
