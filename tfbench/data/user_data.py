"""A user's data: an .npz file or a callable returning the same keys (x_train, y_train[, x_test, y_test]).

The values are used as given, only validated and cast: tfbench never rescales a user's data.
"""

from __future__ import annotations

import functools
import pickle
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tfbench.data.dataset import SPLIT_SEED, TEST_FRACTION, Dataset, classification, data_label, regression
from tfbench.data.npz_check import EXPECTED, NPY_MAGIC, check_members
from tfbench.errors import DataError


@functools.lru_cache(maxsize=32)
def load_npz(spec: str, path: str, mtime_ns: int, size: int) -> Dataset:
    expected = EXPECTED
    try:
        # Our own handle: np.load(path) leaks its file when the archive is corrupt.
        with open(path, "rb") as handle:
            single = handle.read(len(NPY_MAGIC)) == NPY_MAGIC
            handle.seek(0)
            loaded = None if single else np.load(handle, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy file renamed to .npz
                raise DataError(f"data file {spec!r} holds a single array, not an .npz archive: {expected}")
            with loaded:
                check_members(loaded.zip, f"data file {spec!r}")  # before numpy allocates what headers claim
                arrays = {key: loaded[key] for key in loaded.files}  # read now: corruption surfaces here
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, pickle.UnpicklingError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())  # keep the message on one line
        raise DataError(f"data file {spec!r} is not a valid .npz file ({reason}): {expected}") from None
    return _from_mapping(spec, arrays, f"data file {spec!r}")


@functools.lru_cache(maxsize=32)
def load_callable(function: Callable) -> Dataset:
    name = data_label(function)
    arrays = function()
    if not isinstance(arrays, Mapping):
        raise DataError(
            f"data callable {name!r} returned {type(arrays).__name__}: expected a mapping with x_train, y_train "
            "and optionally x_test, y_test"
        )
    return _from_mapping(name, arrays, f"data callable {name!r}")


def _from_mapping(name: str, arrays: Mapping, where: str) -> Dataset:
    """Validate a user's arrays and build the Dataset. The values are used as given, only cast."""
    keys = sorted(str(k) for k in arrays)
    for key in ("x_train", "y_train"):
        if key not in arrays:
            raise DataError(f"{where} has no {key!r}: found keys {keys}; expected x_train, y_train[, x_test, y_test]")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataError(f"{where} has only one of x_test, y_test (found keys {keys}): expected both or neither")
    parts = {
        key: _as_numeric(where, key, arrays[key]) for key in ("x_train", "y_train", "x_test", "y_test") if key in arrays
    }
    for split in ("train", "test"):
        if f"x_{split}" in parts:
            _check_pair(where, split, parts[f"x_{split}"], parts[f"y_{split}"])
    if "x_test" not in parts:
        parts.update(_hold_out(where, parts["x_train"], parts["y_train"]))
    x_train, y_train, x_test, y_test = (parts[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    if x_test.shape[1:] != x_train.shape[1:]:
        raise DataError(
            f"{where}: x_test has example shape {x_test.shape[1:]} but x_train has {x_train.shape[1:]}: "
            "expected the same"
        )
    if _is_integer(y_train) != _is_integer(y_test):
        raise DataError(
            f"{where}: y_train has dtype {y_train.dtype} but y_test has {y_test.dtype}: expected both integer "
            "(classification) or both float (regression)"
        )
    if _is_integer(y_train):
        return _user_classification(name, where, x_train, y_train, x_test, y_test)
    y_train, y_test = (_as_targets(where, key, y) for key, y in (("y_train", y_train), ("y_test", y_test)))
    if y_test.shape[1:] != y_train.shape[1:]:
        raise DataError(
            f"{where}: y_test has {y_test.shape[1]} targets but y_train has {y_train.shape[1]}: expected the same"
        )
    return regression(name, x_train, y_train, x_test, y_test)


def _is_integer(y: np.ndarray) -> bool:
    return np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_


def _as_numeric(where: str, key: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists from a callable
        raise DataError(f"{where}: {key} is not an array ({' '.join(str(error).split())}): expected numbers") from None
    if not (_is_integer(array) or np.issubdtype(array.dtype, np.floating)):
        raise DataError(f"{where}: {key} has dtype {array.dtype}: expected integer or floating-point numbers")
    if array.ndim == 0 or array.size == 0:
        raise DataError(f"{where}: {key} has shape {array.shape}: expected a non-empty array [n, ...]")
    if not _is_integer(array):
        with np.errstate(over="ignore"):  # float64 values beyond float32's range become Inf: caught just below
            bad = ~np.isfinite(array.astype(np.float32))
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"{where}: {key} contains {int(bad.sum())} NaN/Inf value(s) in float32, first at index {first} "
                f"(value {float(array[first])}): expected finite numbers"
            )
    return array


def _check_pair(where: str, split: str, x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim < 2:
        raise DataError(f"{where}: x_{split} has shape {x.shape}: expected [n, features, ...] with one row per example")
    if len(x) != len(y):
        raise DataError(f"{where}: x_{split} has {len(x)} examples but y_{split} has {len(y)}: expected as many")


def _hold_out(where: str, x: np.ndarray, y: np.ndarray) -> dict:
    """No test split given: hold out a fixed, seeded 20 %, keeping the file's order within each part."""
    n = len(x)
    if n < 2:
        raise DataError(f"{where}: x_train has {n} example and no x_test: expected at least 2 to hold out a test split")
    n_test = max(1, int(round(TEST_FRACTION * n)))
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test]}


def _user_classification(name, where, x_train, y_train, x_test, y_test) -> Dataset:
    labels = []
    for key, y in (("y_train", y_train), ("y_test", y_test)):
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(f"{where}: {key} has shape {y.shape}: integer labels must be [n] or [n, 1]")
        y = y.astype(np.int64)
        if y.min() < 0:
            raise DataError(f"{where}: {key} has negative label {int(y.min())}: expected class indices 0..K-1")
        if y.max() > np.iinfo(np.int32).max - 1:
            raise DataError(f"{where}: {key} has label {int(y.max())}: expected class indices below 2**31 - 1")
        labels.append(y)
    num_classes = int(max(labels[0].max(), labels[1].max())) + 1
    return classification(name, x_train, labels[0], x_test, labels[1], num_classes=num_classes)


def _as_targets(where: str, key: str, y: np.ndarray) -> np.ndarray:
    if y.ndim == 1:
        return y[:, None]
    if y.ndim != 2:
        raise DataError(f"{where}: {key} has shape {y.shape}: float targets must be [n] or [n, k]")
    return y
