"""The largest count a user may give, each with its reason; a larger one is a one-line refusal.

A mistyped count must fail at once with a message, never as MemoryError, OverflowError, or a machine
that starts thousands of processes or loops for hours.
"""

from __future__ import annotations

from tfbench.errors import TfbenchError

# Seeds beyond a thousand tell nothing a thousand do not (a 95 % CI is then ~3 % of the spread).
MAX_SEEDS = 1000
# More processes than this would each get a sliver of a core and a TensorFlow import of its own.
MAX_WORKERS = 256
# Updates of one run (also pretraining and eval_every), after the profile's scaling (full: 3 x steps):
# ten million is weeks of CPU for the smallest model.
MAX_STEPS = 10_000_000
# Layers and units: far beyond every architecture the suites study, small enough to build.
MAX_DEPTH = 1000
MAX_WIDTH = 65_536
MAX_BATCH_SIZE = 65_536
# Levels of one suite's factor: each is a variant trained for every seed.
MAX_LEVELS = 1000
# Batches `diagnose` averages over: more only repeat what the data already said.
MAX_BATCHES = 10_000
# A seed is a NumPy / TensorFlow seed, which must fit in 32 bits.
MAX_SEED_VALUE = 2**32 - 1


def check_count(name: str, value, maximum: int, minimum: int = 1):
    """`value` when it is an integer from `minimum` to `maximum` (None passes); else a TfbenchError
    naming the value and the accepted range. `name` is how the user wrote it (--seeds, Setup.steps=)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        separator = "" if name.endswith("=") else " "
        raise TfbenchError(f"{name}{separator}{value!r} is invalid: expected an integer from {minimum} to {maximum}")
    return value
