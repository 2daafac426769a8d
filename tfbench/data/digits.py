"""scikit-learn's bundled digits (no download), standardized, and at other input scales for the
input_scale suite. All use the same stratified split, so only the scale of the inputs differs:

- digits           standardized with training-split statistics.
- digits:raw       pixel intensities 0..16 exactly as scikit-learn ships them, not standardized.
- digits:outliers  the standardized digits with OUTLIER_FRACTION of the entries of each split
                   multiplied by OUTLIER_FACTOR; the positions are drawn without replacement by a
                   generator seeded with OUTLIER_SEED (training split first), so every run sees the
                   same outliers. Entries of constant pixels are 0 and stay 0.
"""

from __future__ import annotations

import numpy as np

from tfbench.data.dataset import Dataset, classification, standardize, stratified_split
from tfbench.errors import DataError

DIGITS_SCALES = ("raw", "outliers")
OUTLIER_FRACTION = 0.01  # about one input in a hundred: 0.64 of the 64 pixels of an example on average
OUTLIER_FACTOR = 50.0  # a standardized value of about 1 becomes about 50: far outside the rest
OUTLIER_SEED = 4


def load_digits() -> Dataset:
    """The standardized digits."""
    x_train, x_test, y_train, y_test = _split()
    x_train, x_test = standardize(x_train, x_test)
    return classification("digits", x_train, y_train, x_test, y_test, num_classes=10)


def _split():
    from sklearn.datasets import load_digits as bundled_digits  # bundled with scikit-learn: no download

    x, y = bundled_digits(return_X_y=True)
    return stratified_split(x, y)


def load_digits_scale(name: str) -> Dataset:
    """The Dataset for "digits:raw" or "digits:outliers"."""
    scale = name.split(":", 1)[1]
    if scale not in DIGITS_SCALES:
        accepted = ", ".join(f"digits:{s}" for s in DIGITS_SCALES)
        raise DataError(f"data={name!r} is unknown: expected digits, {accepted}")
    x_train, x_test, y_train, y_test = _split()
    if scale == "outliers":
        x_train, x_test = standardize(x_train, x_test)
        rng = np.random.default_rng(OUTLIER_SEED)
        x_train, x_test = with_outliers(x_train, rng), with_outliers(x_test, rng)
    return classification(name, x_train, y_train, x_test, y_test, num_classes=10)


def with_outliers(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of x with round(OUTLIER_FRACTION · x.size) entries, chosen by rng, times OUTLIER_FACTOR."""
    x = np.array(x, dtype=np.float64, copy=True)
    count = int(round(OUTLIER_FRACTION * x.size))
    flat = x.reshape(-1)
    flat[rng.choice(x.size, size=count, replace=False)] *= OUTLIER_FACTOR
    return x
