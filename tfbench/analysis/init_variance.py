"""Mean and variance of one entry that a Keras initializer draws, without importing Keras.

The mean-field theory (tfbench.analysis.theory) needs σw² = fan_in · Var(W_ij) of a hidden kernel and the
mean and variance of a bias entry. Initializers arrive as a Keras name ("he_normal", "HeNormal"), a
config dict {"class_name": ..., "config": {...}} (also the form tfbench.spec.suite.canonical stores in the
manifest) or an instance (read through its class name, get_config() and, for the VarianceScaling
family whose subclasses omit them from their config, its scale/mode/distribution attributes). The
table mirrors keras.initializers' built-ins and their defaults; tests check it against samples that
Keras draws. Anything else returns None: no prediction rather than a wrong one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Variance of a standard normal truncated at ±2 (what keras' TruncatedNormal draws): 0.7737… = 0.8796…²,
# the factor VarianceScaling's "truncated_normal" divides its stddev by to restore scale / n.
TRUNCATED_VARIANCE = 1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / math.erf(2.0 / math.sqrt(2.0))

# VarianceScaling and its named subclasses: (scale, mode, distribution) defaults.
VARIANCE_SCALING = {
    "variancescaling": (1.0, "fan_in", "truncated_normal"),
    "glorotuniform": (1.0, "fan_avg", "uniform"),
    "glorotnormal": (1.0, "fan_avg", "truncated_normal"),
    "heuniform": (2.0, "fan_in", "uniform"),
    "henormal": (2.0, "fan_in", "truncated_normal"),
    "lecununiform": (1.0, "fan_in", "uniform"),
    "lecunnormal": (1.0, "fan_in", "truncated_normal"),
}
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
ALIASES = {"normal": "randomnormal", "uniform": "randomuniform", "zero": "zeros", "one": "ones",
           "orthogonalinitializer": "orthogonal"}  # fmt: skip


@dataclass(frozen=True)
class EntryMoments:
    """Mean and variance of one drawn entry."""

    mean: float
    variance: float


def _key(name: str) -> str:
    key = name.rsplit(".", 1)[-1].replace("_", "").lower()
    return ALIASES.get(key, key)


def _name_and_config(spec: Any) -> tuple[str, dict] | None:
    if isinstance(spec, str):
        return _key(spec), {}
    if isinstance(spec, Mapping):
        name, config = spec.get("class_name"), spec.get("config") or {}
        return (_key(name), dict(config)) if isinstance(name, str) and isinstance(config, Mapping) else None
    if hasattr(spec, "get_config"):  # an instance
        config = dict(spec.get_config())
        for attribute in ("scale", "mode", "distribution"):
            if hasattr(spec, attribute):
                config.setdefault(attribute, getattr(spec, attribute))
        return _key(type(spec).__name__), config
    return None


def _variance_scaling(defaults: tuple, config: dict, fan_in: int, fan_out: int) -> EntryMoments | None:
    names = ("scale", "mode", "distribution")
    scale, mode, distribution = (config.get(name, default) for name, default in zip(names, defaults, strict=True))
    fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    if mode not in fans or distribution not in DISTRIBUTIONS:
        return None
    # Each distribution is sized so that Var = scale / n (truncated_normal through Keras' correction).
    return EntryMoments(0.0, float(scale) / fans[mode])


def entry_moments(spec: Any, fan_in: int, fan_out: int) -> EntryMoments | None:
    """Mean and variance of an entry of a (fan_in, fan_out) kernel or bias drawn by `spec`; None if unknown."""
    parsed = _name_and_config(spec)
    if parsed is None:
        return None
    name, config = parsed
    try:
        if name in VARIANCE_SCALING:
            return _variance_scaling(VARIANCE_SCALING[name], config, fan_in, fan_out)
        if name == "randomnormal":
            return EntryMoments(float(config.get("mean", 0.0)), float(config.get("stddev", 0.05)) ** 2)
        if name == "truncatednormal":
            stddev = float(config.get("stddev", 0.05))
            return EntryMoments(float(config.get("mean", 0.0)), stddev**2 * TRUNCATED_VARIANCE)
        if name == "randomuniform":
            low, high = float(config.get("minval", -0.05)), float(config.get("maxval", 0.05))
            return EntryMoments((low + high) / 2, (high - low) ** 2 / 12)
        if name == "orthogonal":
            # Orthonormal rows or columns: each of the longer side's vectors has unit norm.
            return EntryMoments(0.0, float(config.get("gain", 1.0)) ** 2 / max(fan_in, fan_out))
        if name in ("zeros", "ones", "constant"):
            value = {"zeros": 0.0, "ones": 1.0}.get(name, config.get("value", 0.0))
            return EntryMoments(float(value), 0.0)
    except (TypeError, ValueError):  # a non-numeric config value
        return None
    return None


def weight_variance(spec: Any, width: int) -> float | None:
    """σw² = fan_in · Var(W_ij) of a square (width × width) hidden kernel; None unless the initializer
    is known, has mean 0 (the theory's assumption) and draws at random."""
    moments = entry_moments(spec, width, width)
    if moments is None or moments.mean != 0 or not moments.variance > 0:
        return None
    return width * moments.variance
