"""tfbench.data: built-in datasets, a user's .npz/callable data, and seed-determined batching.

Expected values are recomputed here from first principles (scikit-learn's raw digits, numpy
statistics, the documented permutation stream), never copied back from the code under test.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from tfbench.data.batches import train_batches
from tfbench.data.dataset import Dataset, data_label
from tfbench.data.loading import load_data
from tfbench.errors import DataError, TfbenchError

# ---------------------------------------------------------------------------------------------
# digits


def _raw_digits_split():
    """The documented split: stratified, 20 % test, split seed 0 — recomputed on row indices."""
    x, y = load_digits(return_X_y=True)
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    return x, y, train, test


def test_digits_train_split_has_mean_0_and_std_1_per_non_constant_feature():
    data = load_data("digits")
    x = data.x_train.astype(np.float64)
    std = x.std(axis=0)
    varying = std > 0
    assert varying.sum() > 50  # digits has a few constant corner pixels, the rest vary
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(std[varying], 1.0, atol=1e-5)
    np.testing.assert_array_equal(x[:, ~varying], 0.0)  # std 0 -> divided by 1, stays finite


def test_digits_both_splits_are_scaled_with_training_statistics_only():
    x, y, train, test = _raw_digits_split()
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std[std == 0] = 1.0
    data = load_data("digits")
    np.testing.assert_allclose(data.x_train, (x[train] - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(data.x_test, (x[test] - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(data.y_train, y[train])
    np.testing.assert_array_equal(data.y_test, y[test])
    # Test statistics did not leak: the test split itself is not exactly standardized.
    assert np.abs(data.x_test.mean(axis=0)).max() > 1e-2


def test_digits_is_a_fixed_stratified_10_class_split_shared_by_every_caller():
    data = load_data("digits")
    assert (data.task, data.num_classes, data.output_dim, data.input_shape) == ("classification", 10, 10, (64,))
    assert (len(data.x_train), len(data.x_test)) == (1437, 360)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert load_data("digits") is data  # cached: every variant sees the very same arrays
    assert np.abs(np.bincount(data.y_test) / 360 - np.bincount(data.y_train) / 1437).max() < 0.01


def test_loaded_arrays_are_read_only_so_the_cache_cannot_be_corrupted():
    data = load_data("digits")
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        with pytest.raises(ValueError):
            array[0] = 1


# ---------------------------------------------------------------------------------------------
# spirals, teacher, adding, recall


def test_spirals_are_three_balanced_interleaved_classes():
    data = load_data("spirals")
    assert (data.task, data.num_classes, data.input_shape) == ("classification", 3, (2,))
    assert np.bincount(np.concatenate([data.y_train, data.y_test])).tolist() == [500, 500, 500]
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1.0, atol=1e-5)
    # Interleaved: a linear classifier fails; small noise: neighbours share their class.
    linear = LogisticRegression().fit(data.x_train, data.y_train).score(data.x_test, data.y_test)
    knn = KNeighborsClassifier(5).fit(data.x_train, data.y_train).score(data.x_test, data.y_test)
    assert linear < 0.7 < 0.95 < knn


def test_teacher_is_a_nonlinear_regression_with_float32_column_targets():
    data = load_data("teacher")
    assert (data.task, data.num_classes, data.output_dim, data.input_shape) == ("regression", None, 1, (20,))
    assert data.y_train.shape == (len(data.x_train), 1) and data.y_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train.mean(), 0.0, atol=0.02)  # x ~ N(0, 1)
    np.testing.assert_allclose(data.x_train.std(), 1.0, atol=0.02)
    features = np.c_[data.x_train, np.ones(len(data.x_train))]
    _, residual, *_ = np.linalg.lstsq(features, data.y_train, rcond=None)
    r2 = 1 - residual[0] / (len(data.y_train) * data.y_train.var())
    assert 0.0 < r2 < 0.95  # partly linear, but a tanh teacher is not a linear function


@pytest.mark.parametrize(("spec", "length"), [("adding", 50), ("adding:100", 100), ("adding:7", 7)])
def test_adding_problem_target_is_the_sum_of_the_two_marked_values(spec, length):
    data = load_data(spec)
    assert data.name == spec and data.task == "regression" and data.output_dim == 1
    assert (data.x_train.shape, data.x_test.shape) == ((4000, length, 2), (1000, length, 2))
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        values, markers = x[..., 0], x[..., 1]
        assert values.min() >= 0.0 and values.max() <= 1.0
        assert set(np.unique(markers).tolist()) == {0.0, 1.0}
        half = length // 2
        assert (markers[:, :half].sum(axis=1) == 1).all() and (markers[:, half:].sum(axis=1) == 1).all()
        expected = np.array([v[m == 1].sum() for v, m in zip(values, markers, strict=True)], dtype=np.float32)
        np.testing.assert_allclose(y[:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("spec", ["adding:0", "adding:1", "adding:-5", "adding:abc", "adding:1.5", "adding:"])
def test_bad_adding_length_names_the_value(spec):
    with pytest.raises(DataError, match="adding:") as error:
        load_data(spec)
    assert spec.split(":")[1] in str(error.value) and "integer" in str(error.value)


@pytest.mark.parametrize(("spec", "length"), [("recall", 50), ("recall:20", 20), ("recall:1", 1)])
def test_recall_label_is_the_sign_of_the_one_marked_input(spec, length):
    data = load_data(spec)
    assert (data.name, data.task, data.num_classes) == (spec, "classification", 2)
    assert (data.x_train.shape, data.x_test.shape) == ((4000, length, 2), (1000, length, 2))
    x = np.concatenate([data.x_train, data.x_test]).astype(np.float64)
    y = np.concatenate([data.y_train, data.y_test])
    values, markers = x[..., 0], x[..., 1]
    assert set(np.unique(markers).tolist()) <= {0.0, 1.0} and (markers.sum(axis=1) == 1).all()
    marked = values[markers == 1]  # one per sequence, in sequence order
    assert set(np.unique(marked).tolist()) == {-1.0, 1.0}
    np.testing.assert_array_equal(y, (marked > 0).astype(int))
    assert abs(y.mean() - 0.5) < 0.03  # two balanced classes: 5000 draws, sd 0.007
    if length > 1:
        noise = values[markers == 0]  # N(0, 0.2), the same for both classes: no clue outside the marker
        assert abs(noise.mean()) < 0.01 and abs(noise.var() - 0.2) < 0.01
        per_class = [values[(markers == 0) & (y[:, None] == label)].mean() for label in (0, 1)]
        assert abs(per_class[0] - per_class[1]) < 0.015


def test_recall_marks_every_step_alike_so_the_lag_spans_the_whole_sequence():
    markers = load_data("recall:10").x_train[..., 1]
    counts = markers.sum(axis=0)  # uniform: 400 per step, binomial sd ~19
    assert counts.shape == (10,) and (np.abs(counts - 400) < 80).all()


@pytest.mark.parametrize("spec", ["recall:0", "recall:-3", "recall:abc", "recall:2.5", "recall:"])
def test_bad_recall_length_names_the_value(spec):
    with pytest.raises(DataError, match="recall:") as error:
        load_data(spec)
    message = str(error.value)
    assert spec.split(":")[1] in message and "integer >= 1" in message and "\n" not in message


@pytest.mark.parametrize("spec", ["imagenet", "Digits", "", 5, None, 1.5])
def test_unknown_data_names_the_value_and_lists_what_is_accepted(spec):
    with pytest.raises(DataError) as error:
        load_data(spec)
    message = str(error.value)
    assert repr(spec) in message and "\n" not in message
    for accepted in ("digits", "spirals", "teacher", "adding", "recall", ".npz"):
        assert accepted in message
    assert isinstance(error.value, TfbenchError)  # the CLI maps it to exit code 2


# ---------------------------------------------------------------------------------------------
# train_batches


def _indexed(n: int) -> Dataset:
    """A dataset whose x and y are the example's own index, so batches reveal the order."""
    index = np.arange(n)
    return Dataset(
        "toy",
        index[:, None].astype(np.float32),
        index.astype(np.int32),
        index[:2, None].astype(np.float32),
        index[:2].astype(np.int32),
        "classification",
        n,
    )


def _batches(data: Dataset, batch_size: int, steps: int, seed: int):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in train_batches(data, batch_size, steps, seed)], strict=True)
    return np.stack(xs), np.stack(ys)


def test_train_batches_gives_exactly_steps_full_batches():
    xs, ys = _batches(_indexed(10), batch_size=3, steps=7, seed=0)  # 21 examples: 2 epochs and a bit
    assert xs.shape == (7, 3, 1) and ys.shape == (7, 3)
    np.testing.assert_array_equal(xs[..., 0], ys)  # x and y rows stay paired


def test_train_batches_follow_one_seeded_permutation_per_epoch():
    n, batch_size, steps, seed = 10, 4, 9, 42
    _, ys = _batches(_indexed(n), batch_size, steps, seed)
    rng = np.random.default_rng(seed)  # the documented order, computed independently
    expected = np.concatenate([rng.permutation(n) for _ in range(4)])[: steps * batch_size]
    np.testing.assert_array_equal(ys.ravel(), expected)
    stream = ys.ravel()
    for start in range(0, len(stream) - n + 1, n):  # each full epoch visits every example once
        assert sorted(stream[start : start + n].tolist()) == list(range(n))
    assert len(set(stream[3 * n :].tolist())) == len(stream[3 * n :])  # the partial epoch has no repeats


def test_same_seed_gives_identical_batches_and_another_seed_another_order():
    data = load_data("digits")
    x1, y1 = _batches(data, 64, 5, seed=3)
    x2, y2 = _batches(data, 64, 5, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.dtype == np.float32 and y1.dtype == np.int32 and x1.shape == (5, 64, 64)
    _, y3 = _batches(data, 64, 5, seed=4)
    assert not np.array_equal(y1, y3)


def test_batch_size_larger_than_the_training_set_names_both_numbers():
    with pytest.raises(DataError, match=r"batch_size=11.*10 training examples"):
        train_batches(_indexed(10), batch_size=11, steps=1, seed=0)


# ---------------------------------------------------------------------------------------------
# a user's .npz file or callable


def _save(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def test_integer_labels_mean_classification_with_classes_counted_over_both_splits(tmp_path):
    x = np.arange(40, dtype=np.uint8).reshape(20, 2) * 6  # pixel-like values: must not be rescaled
    path = _save(
        tmp_path,
        x_train=x,
        y_train=np.zeros((20, 1), np.uint8) + np.arange(20)[:, None] % 3,
        x_test=x[:4],
        y_test=np.array([0, 1, 2, 5], np.int64),
    )
    data = load_data(path)
    assert (data.task, data.num_classes, data.output_dim, data.name) == ("classification", 6, 6, path)
    assert data.y_train.shape == (20,) and data.y_train.dtype == np.int32
    np.testing.assert_array_equal(data.y_train, np.arange(20) % 3)
    assert data.x_train.dtype == np.float32
    np.testing.assert_array_equal(data.x_train, x.astype(np.float32))  # used as given


def test_float_targets_mean_regression_and_1d_targets_become_a_column(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(5.0, 3.0, (30, 4)), rng.normal(size=30)
    data = load_data(_save(tmp_path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5]))
    assert (data.task, data.num_classes, data.output_dim) == ("regression", None, 1)
    assert data.y_train.shape == (30, 1) and data.y_test.shape == (5, 1)
    np.testing.assert_array_equal(data.x_train, x.astype(np.float32))  # not standardized
    np.testing.assert_array_equal(data.y_train[:, 0], y.astype(np.float32))


def test_without_a_test_split_a_fixed_fifth_is_held_out(tmp_path):
    x = np.arange(100, dtype=np.float64).reshape(50, 2)  # row i is (2i, 2i + 1): identifiable
    path = _save(tmp_path, x_train=x, y_train=np.arange(50) % 4)
    data = load_data(path)
    assert (len(data.x_train), len(data.x_test)) == (40, 10)
    rows = np.concatenate([data.x_train[:, 0], data.x_test[:, 0]]) / 2
    assert sorted(rows.tolist()) == list(range(50))  # a partition of the file's rows
    for xs, ys in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        np.testing.assert_array_equal(ys, (xs[:, 0] / 2).astype(int) % 4)  # labels stay with their rows
    other = load_data(_save(tmp_path, "copy.npz", x_train=x, y_train=np.arange(50) % 4))
    np.testing.assert_array_equal(other.x_test, data.x_test)  # the split does not depend on the call


def test_a_rewritten_file_is_read_again(tmp_path):
    path = _save(tmp_path, x_train=np.zeros((4, 1)), y_train=np.zeros(4))
    assert load_data(path).x_train.sum() == 0
    _save(tmp_path, x_train=np.ones((6, 1)), y_train=np.zeros(6))
    assert load_data(path).x_train.sum() > 0


def test_a_callable_is_treated_like_an_npz_and_its_arrays_are_copied():
    arrays = {"x_train": np.ones((10, 3)), "y_train": np.arange(10) % 2}

    def my_data():
        return arrays

    data = load_data(my_data)
    assert (data.name, data.task, data.num_classes, len(data.x_test)) == ("my_data", "classification", 2, 2)
    arrays["x_train"][:] = 7  # the user's later edit must not reach the cached dataset
    assert load_data(my_data).x_train.max() == 1


def test_a_callable_that_returns_no_mapping_is_rejected():
    def bad():
        return [1, 2, 3]

    with pytest.raises(DataError, match=r"'bad' returned list"):
        load_data(bad)


def test_data_label_is_the_string_or_the_callables_name(tmp_path):
    def my_data():
        return {}

    assert data_label("adding:100") == "adding:100"
    assert data_label(my_data) == "my_data"
    assert data_label(tmp_path / "d.npz") == str(tmp_path / "d.npz")


def _write_bytes(content: bytes):
    def write(tmp_path):
        path = tmp_path / "bad.npz"
        path.write_bytes(content)
        return str(path)

    return write


def _write_arrays(**arrays):
    return lambda tmp_path: _save(tmp_path, "bad.npz", **arrays)


def _truncated_zip(tmp_path):
    path = _save(tmp_path, "bad.npz", x_train=np.ones((50, 5)), y_train=np.arange(50))
    with open(path, "rb") as handle:
        content = handle.read()
    with open(path, "wb") as handle:
        handle.write(content[: len(content) // 2])
    return path


def _npy_renamed(tmp_path):
    path = tmp_path / "bad.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.ones(3))
    return str(path)


X, Y = np.ones((8, 3)), np.arange(8) % 2
BAD_FILES = {
    "missing": (lambda tmp_path: str(tmp_path / "nowhere.npz"), ["nowhere.npz", "does not exist"]),
    "corrupt bytes": (_write_bytes(b"this is not a zip archive"), ["bad.npz", "not a valid .npz"]),
    "empty file": (_write_bytes(b""), ["bad.npz", "EOFError"]),
    "truncated zip": (_truncated_zip, ["bad.npz", zipfile.BadZipFile.__name__]),
    "a .npy file": (_npy_renamed, ["bad.npz", "single array"]),
    "no y_train": (_write_arrays(x_train=X, labels=Y), ["'y_train'", "['labels', 'x_train']"]),
    "no x_train": (_write_arrays(X=X, y_train=Y), ["'x_train'", "['X', 'y_train']"]),
    "x_test without y_test": (_write_arrays(x_train=X, y_train=Y, x_test=X), ["x_test", "both or neither"]),
    "NaN in x": (_write_arrays(x_train=np.where(np.eye(8, 3) > 0, np.nan, 1.0), y_train=Y), ["x_train", "NaN"]),
    "Inf in y": (_write_arrays(x_train=X, y_train=np.array([0.0, np.inf] * 4)), ["y_train", "(1,)", "inf"]),
    "float64 overflow": (_write_arrays(x_train=X * 1e300, y_train=Y), ["x_train", "1e+300"]),
    "length mismatch": (_write_arrays(x_train=X, y_train=Y[:7]), ["x_train has 8", "y_train has 7"]),
    "negative labels": (_write_arrays(x_train=X, y_train=Y - 3), ["negative label -3"]),
    "empty arrays": (_write_arrays(x_train=np.ones((0, 3)), y_train=Y[:0]), ["x_train", "(0, 3)", "non-empty"]),
    "x_test features": (
        _write_arrays(x_train=X, y_train=Y, x_test=np.ones((4, 2)), y_test=Y[:4]),
        ["x_test", "(2,)", "(3,)"],
    ),
    "mixed label kinds": (_write_arrays(x_train=X, y_train=Y, x_test=X, y_test=Y * 1.0), ["int64", "float64"]),
    "string labels": (_write_arrays(x_train=X, y_train=np.array(["a"] * 8)), ["y_train", "<U1"]),
    "1-d x": (_write_arrays(x_train=np.ones(8), y_train=Y), ["x_train", "(8,)"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_data_file_raises_one_line_naming_the_bad_value(tmp_path, case):
    write, fragments = BAD_FILES[case]
    path = write(tmp_path)
    with pytest.raises(DataError) as error:
        load_data(path)
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_keras_dataset_offline_is_one_clear_data_error(monkeypatch):
    """keras.datasets downloads; a failed download is a DataError naming the dataset, not a traceback."""
    import keras

    from tfbench.data import builtin

    def unreachable():
        raise OSError("URL fetch failure on https://storage.example/mnist.npz: [Errno -3] name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", unreachable)
    builtin.load_builtin.cache_clear()
    with pytest.raises(DataError, match=r"data='mnist' could not be loaded by keras\.datasets .*'digits'") as info:
        load_data("mnist")
    assert "\n" not in str(info.value)
