"""Datasets for tfbench: load one by its spec, and batch it in an order fixed by the seed alone.

A data spec is a built-in name ("digits", "digits:raw", "digits:outliers", "spirals", "teacher",
"adding", "adding:T"), a path to a user's .npz file, or a callable returning the same keys as an
npz. Loaded datasets are cached and read-only, because every variant of a suite loads the same data.
`train_batches` gives every caller with the same seed the same batches: that is what makes the
variants of a suite matched (DESIGN §4).
"""

from __future__ import annotations

import functools
import os
import pickle
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from tfbench.data.keras_datasets import KERAS_DATASETS, load_keras_dataset
from tfbench.errors import DataError
from tfbench.spec.suite import BUILTIN_DATA

# Fixed generator/split seeds: the data must not change with the run seed, or runs would not be paired.
SPLIT_SEED = 0
TEST_FRACTION = 0.2
SPIRALS_SEED = 1
TEACHER_SEED = 2
ADDING_SEED = 3
ADDING_DEFAULT_LENGTH = 50

ACCEPTED = (
    f"{', '.join(BUILTIN_DATA)}, digits:raw, digits:outliers, adding:T (T an integer >= 2), "
    f"{', '.join(KERAS_DATASETS)} (keras.datasets, downloaded), a path to a .npz file, or a callable"
)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split. Arrays are float32 (x, regression y) or int32 (class labels), read-only."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str  # "classification" | "regression"
    num_classes: int | None = None

    @property
    def output_dim(self) -> int:
        return self.num_classes if self.task == "classification" else int(self.y_train.shape[1])

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])


def data_label(spec: Any) -> str:
    """A short name for display and hashing: the string itself, a path as a string, a callable's name."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, os.PathLike):
        return os.fspath(spec)
    if callable(spec):
        return getattr(spec, "__name__", type(spec).__name__)
    return repr(spec)


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
            return _load_npz(spec, path, stat.st_mtime_ns, stat.st_size)
        return _load_builtin(spec)
    if callable(spec):
        try:
            hash(spec)
        except TypeError:  # an unhashable callable object cannot be a cache key; load it uncached
            return _load_callable.__wrapped__(spec)
        return _load_callable(spec)
    raise DataError(f"data={spec!r} is invalid: expected {ACCEPTED}")


# ---------------------------------------------------------------------------------------------
# Built-in datasets


@functools.cache
def _load_builtin(name: str) -> Dataset:
    if name == "digits":
        return _digits()
    if name.startswith("digits:"):
        from tfbench.data.digits import load_digits_scale  # imports this module's helpers

        return load_digits_scale(name)
    if name == "spirals":
        return _spirals()
    if name == "teacher":
        return _teacher()
    if name == "adding" or name.startswith("adding:"):
        return _adding(name, _adding_length(name))
    if name in KERAS_DATASETS:
        return load_keras_dataset(name)
    raise DataError(f"data={name!r} is unknown: expected {ACCEPTED}")


def _adding_length(name: str) -> int:
    if name == "adding":
        return ADDING_DEFAULT_LENGTH
    text = name.split(":", 1)[1]
    try:
        length = int(text)
    except ValueError:
        length = None
    # Two markers, one in each half, need at least two time steps.
    if length is None or length < 2:
        raise DataError(f"data={name!r} is invalid: T={text!r} must be an integer >= 2, as in 'adding:100'")
    return length


def _digits() -> Dataset:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = _stratified_split(x, y)
    x_train, x_test = _standardize(x_train, x_test)
    return _classification("digits", x_train, y_train, x_test, y_test, num_classes=10)


def _spirals(points_per_class: int = 500, classes: int = 3, noise: float = 0.2) -> Dataset:
    """Interleaved 2-D spirals (the CS231n toy problem): not linearly separable, easy for a deep net."""
    rng = np.random.default_rng(SPIRALS_SEED)
    xs, ys = [], []
    for label in range(classes):
        radius = np.linspace(0.05, 1.0, points_per_class)
        angle = np.linspace(4.0 * label, 4.0 * (label + 1), points_per_class)
        angle = angle + rng.normal(0.0, noise, points_per_class)
        xs.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        ys.append(np.full(points_per_class, label))
    x_train, x_test, y_train, y_test = _stratified_split(np.concatenate(xs), np.concatenate(ys))
    x_train, x_test = _standardize(x_train, x_test)
    return _classification("spirals", x_train, y_train, x_test, y_test, num_classes=classes)


def _teacher(n_train: int = 2000, n_test: int = 500, dim: int = 20, hidden: int = 32) -> Dataset:
    """Regression on the output of a fixed random tanh MLP: the student can fit it exactly in principle."""
    rng = np.random.default_rng(TEACHER_SEED)
    # LeCun-scaled weights keep the teacher's tanh units out of saturation, so the target is not flat.
    w1 = rng.normal(0.0, 1.0 / np.sqrt(dim), (dim, hidden))
    w2 = rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, hidden))
    w3 = rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, 1))
    b1, b2 = rng.normal(0.0, 0.1, hidden), rng.normal(0.0, 0.1, hidden)
    x = rng.normal(0.0, 1.0, (n_train + n_test, dim))
    y = np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2) @ w3 + rng.normal(0.0, 0.05, (n_train + n_test, 1))
    return _regression("teacher", x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def _adding(name: str, length: int, n_train: int = 4000, n_test: int = 1000) -> Dataset:
    """The adding problem (Hochreiter & Schmidhuber 1997): a long-range dependency for RNNs."""
    rng = np.random.default_rng(ADDING_SEED)
    n = n_train + n_test
    values = rng.uniform(0.0, 1.0, (n, length))
    half = length // 2
    first = rng.integers(0, half, n)  # one marker in the first half ...
    second = rng.integers(half, length, n)  # ... and one in the second, so they never coincide
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    # Examples are i.i.d., so slicing is as good a split as shuffling.
    return _regression(name, x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def _stratified_split(x: np.ndarray, y: np.ndarray):
    """A fixed split (seed SPLIT_SEED) that keeps class proportions: independent of the run seed."""
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y)


def _standardize(x_train: np.ndarray, x_test: np.ndarray):
    """Scale with training statistics only, so nothing about the test split leaks into training."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0  # constant features (digits' corner pixels) stay at 0 instead of NaN
    return (x_train - mean) / std, (x_test - mean) / std


# ---------------------------------------------------------------------------------------------
# Assembling a Dataset: cast, freeze


def _frozen(array: np.ndarray, dtype) -> np.ndarray:
    # A fresh copy: freezing it cannot freeze a caller's array, and a caller's later edits cannot reach the cache.
    array = np.array(array, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


def _classification(name, x_train, y_train, x_test, y_test, num_classes: int) -> Dataset:
    return Dataset(
        name=name,
        x_train=_frozen(x_train, np.float32),
        y_train=_frozen(y_train, np.int32),
        x_test=_frozen(x_test, np.float32),
        y_test=_frozen(y_test, np.int32),
        task="classification",
        num_classes=int(num_classes),
    )


def _regression(name, x_train, y_train, x_test, y_test) -> Dataset:
    return Dataset(
        name=name,
        x_train=_frozen(x_train, np.float32),
        y_train=_frozen(y_train, np.float32),
        x_test=_frozen(x_test, np.float32),
        y_test=_frozen(y_test, np.float32),
        task="regression",
    )


# ---------------------------------------------------------------------------------------------
# A user's data: an .npz file or a callable returning the same keys


@functools.lru_cache(maxsize=32)
def _load_npz(spec: str, path: str, mtime_ns: int, size: int) -> Dataset:
    expected = "expected an archive written by numpy.savez holding x_train and y_train"
    try:
        # Our own handle: np.load(path) leaks its file when the archive is corrupt.
        with open(path, "rb") as handle:
            loaded = np.load(handle, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy file renamed to .npz
                raise DataError(f"data file {spec!r} holds a single array, not an .npz archive: {expected}")
            with loaded:
                arrays = {key: loaded[key] for key in loaded.files}  # read now: corruption surfaces here
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, pickle.UnpicklingError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())  # keep the message on one line
        raise DataError(f"data file {spec!r} is not a valid .npz file ({reason}): {expected}") from None
    return _from_mapping(spec, arrays, f"data file {spec!r}")


@functools.lru_cache(maxsize=32)
def _load_callable(function: Callable) -> Dataset:
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
    return _regression(name, x_train, y_train, x_test, y_test)


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
    return _classification(name, x_train, labels[0], x_test, labels[1], num_classes=num_classes)


def _as_targets(where: str, key: str, y: np.ndarray) -> np.ndarray:
    if y.ndim == 1:
        return y[:, None]
    if y.ndim != 2:
        raise DataError(f"{where}: {key} has shape {y.shape}: float targets must be [n] or [n, k]")
    return y


# ---------------------------------------------------------------------------------------------
# Batching


def batch_indices(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """[steps, batch_size] example indices: one fresh permutation of range(n) per epoch, order fixed by seed."""
    rng = np.random.default_rng(seed)
    epochs = -(-steps * batch_size // n)  # ceiling division
    stream = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    return stream[: steps * batch_size].reshape(steps, batch_size)


def train_batches(data: Dataset, batch_size: int, steps: int, seed: int) -> tf.data.Dataset:
    """Exactly `steps` full batches of (x, y); every caller with the same seed gets identical batches."""
    n = len(data.x_train)
    for name, value in (("batch_size", batch_size), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{name}={value!r} is invalid: expected a positive integer")
    if batch_size > n:
        raise DataError(
            f"batch_size={batch_size} is larger than the {n} training examples of {data.name!r}: "
            f"expected batch_size <= {n}"
        )
    # Only the index matrix is materialized; examples are gathered per batch from constants made once.
    x = tf.constant(data.x_train)
    y = tf.constant(data.y_train)
    indices = tf.data.Dataset.from_tensor_slices(batch_indices(n, batch_size, steps, seed))
    return indices.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx))).prefetch(tf.data.AUTOTUNE)
