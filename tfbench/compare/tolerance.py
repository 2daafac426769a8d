"""When a change between two runs counts as a regression: the floors, their syntax, and the seed-variance test.

A numeric change is a regression when it goes the worse way AND it is larger than both
- the half-width of the 95 % confidence interval of the difference of means, from BASE's seeds, and
- an absolute floor, so one-seed runs (no variance) and float noise between CPUs never fail.

The half-width, for BASE values b_1..b_n and CURRENT values c_1..c_m of one (suite, variant):

    s  = sample standard deviation of b (ddof=1)          the seed-to-seed spread, estimated in BASE only
    se = s * sqrt(1/n + 1/m)                              standard error of mean(c) - mean(b), assuming
                                                          CURRENT spreads as BASE did
    half_width = t(0.975, n - 1) * se                     Student's t, n - 1 degrees of freedom because
                                                          only BASE estimates s

With n = 1 there is no spread to estimate: the half-width is 0 and the floor alone decides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tfbench.errors import TfbenchError

CONFIDENCE = 0.95

# What each gate compares, and its default floor. Why these numbers:
# - metric 0.02: two points of accuracy (or 0.02 MAE) in held-out final and best metric. Float
#   differences between CPUs move a 30-step quick run by well under one point; a real harm to
#   training (a broken initializer, a lost normalization) costs far more.
# - grad 0.25 decades: log10_grad_ratio is measured at step 0, fixed by the seed and the architecture,
#   so it differs across CPUs only in the last float digits; a quarter decade is a real change in
#   how the gradient crosses depth (a verdict needs 2 decades).
# - speed 25 %: normalized steps/s of one run is noisy on shared machines; a quarter is a real slowdown.
# - missing on: a suite or variant in BASE but not in CURRENT (renamed, or its file broke) fails, so a
#   gate cannot pass by losing what it should judge.
DEFAULT_FAIL_ON = {"metric": "0.02", "grad": "0.25", "speed": "25%", "verdict": "on", "missing": "on"}
NUMERIC_KEYS = ("metric", "grad", "speed")
SWITCH_KEYS = ("verdict", "missing")
ACCEPTED = "metric, grad, speed (a number, a percentage like 25%, or off), verdict and missing (on or off)"
_NUMBER = re.compile(r"^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?(%?)$")


@dataclass(frozen=True)
class Floor:
    """An absolute floor (value in the quantity's unit) or a relative one (a fraction of |BASE mean|)."""

    value: float
    relative: bool = False

    def absolute(self, base_mean: float) -> float:
        return self.value * abs(base_mean) if self.relative else self.value

    def __str__(self) -> str:
        if math.isinf(self.value):
            return "off"
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


OFF = Floor(math.inf)


def parse_value(key: str, text, source: str):
    """One gate's value: a Floor for numeric keys, a bool for verdict and missing."""
    text = str(text).strip().lower()
    if key in SWITCH_KEYS:
        if text not in ("on", "off"):
            raise TfbenchError(f"{source}: {key}:{text!r} is invalid: expected {key}:on or {key}:off")
        return text == "on"
    if text == "off":
        return OFF
    match = _NUMBER.match(text)
    if not match:
        raise TfbenchError(f"{source}: {key}:{text!r} is invalid: expected a number, a percentage like 25%, or off")
    number = float(text.rstrip("%"))
    return Floor(number / 100, relative=True) if match.group(4) else Floor(number)


def parse_mapping(mapping, source: str) -> dict:
    """Validate {key: value} (Suite.tolerances or a parsed --fail-on): unknown keys and bad values fail."""
    if not hasattr(mapping, "items"):
        raise TfbenchError(f"{source}: {mapping!r} is invalid: expected a dict of {ACCEPTED}")
    parsed = {}
    for key, value in mapping.items():
        if key not in DEFAULT_FAIL_ON:
            raise TfbenchError(f"{source}: unknown key {key!r}: expected {ACCEPTED}")
        parsed[key] = parse_value(key, value, source)
    return parsed


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


def t_quantile(probability: float, dof: int) -> float:
    from scipy.stats import t  # Student t quantiles

    return float(t.ppf(probability, dof))


def half_width(base_std: float, n_base: int, n_current: int) -> float:
    """Half-width of the 95 % CI of mean(CURRENT) - mean(BASE); 0 when BASE has a single seed."""
    if n_base < 2 or n_current < 1 or not math.isfinite(base_std):
        return 0.0
    standard_error = base_std * math.sqrt(1 / n_base + 1 / n_current)
    return t_quantile(0.5 + CONFIDENCE / 2, n_base - 1) * standard_error
