"""digits:raw and digits:outliers against scikit-learn's raw digits and the documented recipe
(tfbench/data/digits.py), recomputed here with numpy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from tfbench.data.digits import OUTLIER_FACTOR, OUTLIER_FRACTION, load_digits_scale
from tfbench.data.loading import load_data
from tfbench.errors import DataError


def _raw_split():
    x, y = load_digits(return_X_y=True)
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    return x[train], x[test], y[train], y[test]


def test_raw_digits_are_scikit_learns_pixels_0_to_16_on_the_digits_split():
    x_train, x_test, y_train, y_test = _raw_split()
    raw = load_data("digits:raw")
    np.testing.assert_array_equal(raw.x_train, x_train.astype(np.float32))
    np.testing.assert_array_equal(raw.x_test, x_test.astype(np.float32))
    np.testing.assert_array_equal(raw.y_train, y_train)
    np.testing.assert_array_equal(raw.y_test, y_test)
    assert raw.x_train.min() == 0 and raw.x_train.max() == 16
    assert (raw.task, raw.num_classes, raw.input_shape) == ("classification", 10, (64,))
    np.testing.assert_array_equal(load_data("digits").y_train, raw.y_train)  # same examples, same order


@pytest.mark.parametrize("split", ["train", "test"])
def test_outliers_multiply_the_documented_fraction_of_standardized_entries_by_the_factor(split):
    standardized = getattr(load_data("digits"), f"x_{split}").astype(np.float64)
    outliers = getattr(load_data("digits:outliers"), f"x_{split}").astype(np.float64)
    nonzero = standardized != 0
    np.testing.assert_array_equal(outliers[~nonzero], 0.0)
    ratio = outliers[nonzero] / standardized[nonzero]
    hit = np.isclose(ratio, OUTLIER_FACTOR, rtol=1e-5)
    assert np.all(hit | np.isclose(ratio, 1.0, rtol=1e-5))
    # Positions are drawn among all entries; those on constant (zero) pixels cannot be seen.
    expected = OUTLIER_FRACTION * standardized.size * nonzero.mean()
    assert abs(hit.sum() - expected) < 4 * np.sqrt(expected)
    assert hit.sum() > 0.5 * expected
    # spread over the examples (about 0.64 per example), not a block of rows
    rows = np.unique(np.nonzero(outliers != standardized)[0])
    assert len(rows) > 0.5 * hit.sum()


def test_outliers_are_seeded_so_every_uncached_load_places_them_identically():
    first, second = load_digits_scale("digits:outliers"), load_digits_scale("digits:outliers")
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.x_test, second.x_test)
    assert (first.task, first.num_classes) == ("classification", 10)


def test_unknown_digits_scale_names_the_value_and_what_is_accepted():
    with pytest.raises(DataError) as info:
        load_data("digits:huge")
    message = str(info.value)
    assert "'digits:huge'" in message and "digits:raw" in message and "digits:outliers" in message
    assert "\n" not in message
