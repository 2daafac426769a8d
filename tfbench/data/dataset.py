"""`Dataset` (a frozen train/test split) and the helpers every data source shares to make one.

Arrays are cast and frozen here, once, so a cached Dataset can be handed to every variant of a suite
without any of them being able to change what the others see.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

# Fixed split seed: the data must not change with the run seed, or runs would not be paired.
SPLIT_SEED = 0
TEST_FRACTION = 0.2


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


def stratified_split(x: np.ndarray, y: np.ndarray):
    """A fixed split (seed SPLIT_SEED) that keeps class proportions: independent of the run seed."""
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y)


def standardize(x_train: np.ndarray, x_test: np.ndarray):
    """Scale with training statistics only, so nothing about the test split leaks into training."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0  # constant features (digits' corner pixels) stay at 0 instead of NaN
    return (x_train - mean) / std, (x_test - mean) / std


def frozen(array: np.ndarray, dtype) -> np.ndarray:
    """A read-only copy: freezing it cannot freeze a caller's array, and a caller's later edits cannot
    reach the cache."""
    array = np.array(array, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


def classification(name, x_train, y_train, x_test, y_test, num_classes: int) -> Dataset:
    return Dataset(
        name=name,
        x_train=frozen(x_train, np.float32),
        y_train=frozen(y_train, np.int32),
        x_test=frozen(x_test, np.float32),
        y_test=frozen(y_test, np.int32),
        task="classification",
        num_classes=int(num_classes),
    )


def regression(name, x_train, y_train, x_test, y_test) -> Dataset:
    return Dataset(
        name=name,
        x_train=frozen(x_train, np.float32),
        y_train=frozen(y_train, np.float32),
        x_test=frozen(x_test, np.float32),
        y_test=frozen(y_test, np.float32),
        task="regression",
    )
