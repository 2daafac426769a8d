"""The registry of built-in data sets: the one place that says which names `Setup.data` accepts.

A name may carry a parameter after a colon ("digits:raw", "adding:100", "recall:20"); the entry's loader receives
the whole name. Adding a data set is one entry here and a loader in its own module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from tfbench.data import synthetic
from tfbench.data.dataset import Dataset
from tfbench.data.digits import load_digits, load_digits_scale
from tfbench.data.keras_datasets import KERAS_DATASETS, load_keras_dataset
from tfbench.errors import DataError


@dataclass(frozen=True)
class BuiltinData:
    load: Callable[[str], Dataset]  # called with the whole name, parameter included
    forms: tuple[str, ...] = ()  # the "name:parameter" forms it accepts, as error messages list them
    downloads: bool = False  # keras.datasets: fetched from the internet on first use


def _digits(name: str) -> Dataset:
    return load_digits() if name == "digits" else load_digits_scale(name)


def _adding(name: str) -> Dataset:
    # Two markers, one in each half, need at least two time steps.
    return synthetic.adding(name, synthetic.sequence_length(name, minimum=2))


def _recall(name: str) -> Dataset:
    return synthetic.recall(name, synthetic.sequence_length(name, minimum=1))


BUILTIN_DATA = {
    "digits": BuiltinData(_digits, forms=("digits:raw", "digits:outliers")),
    "spirals": BuiltinData(lambda name: synthetic.spirals()),
    "teacher": BuiltinData(lambda name: synthetic.teacher()),
    "adding": BuiltinData(_adding, forms=("adding:T (T an integer >= 2)",)),
    "recall": BuiltinData(_recall, forms=("recall:T (T an integer >= 1)",)),
    **{name: BuiltinData(load_keras_dataset, downloads=True) for name in KERAS_DATASETS},
}

ACCEPTED = ", ".join(
    [
        *(name for name, entry in BUILTIN_DATA.items() if not entry.downloads),
        *(form for entry in BUILTIN_DATA.values() for form in entry.forms),
        ", ".join(name for name, entry in BUILTIN_DATA.items() if entry.downloads) + " (keras.datasets, downloaded)",
        "a path to a .npz file, or a callable",
    ]
)


@functools.cache
def load_builtin(name: str) -> Dataset:
    """The built-in data set `name`, made once per process (every variant of a suite loads the same)."""
    base, parameterised, _ = name.partition(":")
    entry = BUILTIN_DATA.get(base)
    if entry is None or (parameterised and not entry.forms):
        raise DataError(f"data={name!r} is unknown: expected {ACCEPTED}")
    return entry.load(name)
