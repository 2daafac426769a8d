"""`load_data`: the Dataset for a data spec (a built-in name, a path to a user's .npz, or a callable).

Loaded data sets are cached and read-only, because every variant of a suite loads the same data.
"""

from __future__ import annotations

import os
from typing import Any

from tfbench.data.builtin import ACCEPTED, load_builtin
from tfbench.data.dataset import Dataset
from tfbench.data.user_data import load_callable, load_npz
from tfbench.errors import DataError


def load_data(spec: Any) -> Dataset:
    """The Dataset for `spec`; the same spec returns the same cached, read-only object."""
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if isinstance(spec, str):
        if spec.lower().endswith(".npz"):
            path = os.path.abspath(os.path.expanduser(spec))
            if not os.path.isfile(path):
                raise DataError(f"data file {spec!r} does not exist: expected a path to an existing .npz file")
            stat = os.stat(path)
            # mtime and size in the key: a file rewritten between runs in one process is read again.
            return load_npz(spec, path, stat.st_mtime_ns, stat.st_size)
        return load_builtin(spec)
    if callable(spec):
        try:
            hash(spec)
        except TypeError:  # an unhashable callable object cannot be a cache key; load it uncached
            return load_callable.__wrapped__(spec)
        return load_callable(spec)
    raise DataError(f"data={spec!r} is invalid: expected {ACCEPTED}")
