"""The image datasets of `keras.datasets` (mnist, fashion_mnist, cifar10) as tfbench data.

Keras downloads them on first use, so offline they fail with a clear DataError; tests and the
built-in suites use bundled or synthetic data instead.
"""

from __future__ import annotations

import numpy as np

from tfbench.data.dataset import Dataset, classification, standardize
from tfbench.errors import DataError

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def load_keras_dataset(name: str) -> Dataset:
    """Train/test split as Keras ships it, standardized per pixel with training statistics."""
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # urllib, socket, SSL and partial-file errors all mean "not available"
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise DataError(
            f"data={name!r} could not be loaded by keras.datasets ({reason}): it downloads on first use, so "
            "expected network access or a copy in ~/.keras/datasets; offline, use 'digits' or an .npz file"
        ) from None
    x_train, x_test = (np.asarray(x, np.float32) for x in (x_train, x_test))
    x_train, x_test = standardize(x_train, x_test)
    y_train, y_test = (np.asarray(y).reshape(-1) for y in (y_train, y_test))
    return classification(name, x_train, y_train, x_test, y_test, num_classes=int(y_train.max()) + 1)
