"""Canonical form of a Setup and its hash, stable across processes so resume and compare can trust it;
and the labels under which a level's value is recorded."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from tfbench.spec.setup import SETUP_FIELDS, Setup


def canonical(value: Any) -> Any:
    """A JSON-able, order-independent description of a Setup value (callables by qualified name)."""
    if isinstance(value, Setup):
        return {f: canonical(getattr(value, f)) for f in SETUP_FIELDS}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if hasattr(value, "get_config"):  # a Keras initializer / regularizer / optimizer instance
        return {"class_name": type(value).__name__, "config": canonical(value.get_config())}
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def setup_hash(setup: Setup, seed: int) -> str:
    """sha256 over the effective Setup and the seed; 16 hex digits are plenty to tell runs apart."""
    text = json.dumps({"setup": canonical(setup), "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def level_label(value: Any) -> str:
    """A short readable label for a level value that is not a string."""
    if isinstance(value, str):
        return value
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        if "class_name" in value and isinstance(value.get("config") or {}, Mapping):
            config = value.get("config") or {}
            args = ",".join(f"{k}={level_label(v)}" for k, v in config.items())
            return f"{value['class_name']}({args})"
        return ",".join(f"{k}={level_label(v)}" for k, v in value.items())
    if hasattr(value, "get_config"):
        return level_label({"class_name": type(value).__name__, "config": value.get_config()})
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return repr(value)


def level_json(value: Any) -> str:
    """The level's value as runs.csv stores it: the string itself, else JSON of its canonical form."""
    return value if isinstance(value, str) else json.dumps(canonical(value), sort_keys=True)


def graph_key(setup, mode: str) -> str | None:
    """What decides the traced graph: the Setup without its initializers and its learning rate (a
    variable of the optimizer, which a reused model's reset assigns), and the monitor mode. None for
    a user's callable model, whose graph tfbench cannot see."""
    if callable(setup.model):
        return None
    graph = canonical(dataclasses.replace(setup, initializer=None, bias_initializer=None))
    graph.pop("learning_rate")
    return json.dumps({"setup": graph, "mode": mode}, sort_keys=True)
