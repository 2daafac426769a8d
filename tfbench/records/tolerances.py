"""The vocabulary of regression gates: which recorded quantities `compare` judges, their default floors,
and the syntax of a floor. A suite declares its own (`Suite.tolerances`) in this vocabulary, and the
regression gate (tfbench/compare/) applies them; both read it from here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tfbench.errors import TfbenchError

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
# - claims on: a suite's claim whose status got worse (reproduced -> inconclusive, ...) fails.
DEFAULT_FAIL_ON = {"metric": "0.02", "grad": "0.25", "speed": "25%", "verdict": "on", "missing": "on", "claims": "on"}
NUMERIC_KEYS = ("metric", "grad", "speed")
SWITCH_KEYS = ("verdict", "missing", "claims")
ACCEPTED = "metric, grad, speed (a number, a percentage like 25%, or off), verdict, missing and claims (on or off)"
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
