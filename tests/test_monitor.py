"""tfbench.harness.monitor: each measured quantity against numpy or a closed form (docs/design.md §5).

Every expected value is computed here from its definition (numpy in float64, or counted by hand on
crafted arrays), never taken from the function under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tfbench.harness import monitor

# TensorFlow on CPU flushes subnormal floats to zero, so the generated data leaves them out.
FINITE = st.floats(
    min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32
)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6)


def value(tensor) -> float:
    result = tensor.numpy()
    assert result.shape == ()  # every monitor quantity is a scalar
    return float(result)


# ---------------------------------------------------------------------------------------------
# norms and extremes


def test_l2_norm_of_3_4_is_5():
    assert value(monitor.l2_norm(tf.constant([3.0, -4.0]))) == pytest.approx(5.0)


def test_l2_norm_of_a_matrix_is_its_frobenius_norm():
    x = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5
    assert value(monitor.l2_norm(x)) == pytest.approx(math.sqrt(float((x.astype(np.float64) ** 2).sum())), rel=1e-6)


def test_l2_norm_of_an_empty_tensor_is_0():
    assert value(monitor.l2_norm(tf.zeros([0, 3]))) == 0.0


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=FINITE))
def test_l2_norm_equals_numpys_norm_of_the_flattened_array(x):
    expected = np.linalg.norm(x.astype(np.float64).ravel())
    assert value(monitor.l2_norm(x)) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_l2_norm_accepts_float64_and_returns_float32():
    result = monitor.l2_norm(tf.constant([1.0, 2.0, 2.0], tf.float64))
    assert result.dtype == tf.float32
    assert value(result) == pytest.approx(3.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(hnp.arrays(np.float32, SHAPES, elements=FINITE), min_size=1, max_size=4))
def test_global_norm_is_the_norm_of_all_entries_concatenated(arrays):
    flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    assert value(monitor.global_norm([tf.constant(a) for a in arrays])) == pytest.approx(
        np.linalg.norm(flat), rel=1e-5, abs=1e-6
    )


def test_global_norm_agrees_with_tensorflows_global_norm():
    tensors = [tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([-5.0]), tf.constant([[[6.0]]])]
    assert value(monitor.global_norm(tensors)) == pytest.approx(float(tf.linalg.global_norm(tensors)), rel=1e-6)
    assert value(monitor.global_norm(tensors)) == pytest.approx(math.sqrt(1 + 4 + 9 + 16 + 25 + 36), rel=1e-6)


def test_max_abs_finds_the_largest_magnitude_even_when_negative():
    assert value(monitor.max_abs(tf.constant([[0.5, -7.25], [3.0, 7.0]]))) == 7.25


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=FINITE))
def test_max_abs_equals_numpys_max_of_abs(x):
    assert value(monitor.max_abs(x)) == float(np.abs(x).max())


# ---------------------------------------------------------------------------------------------
# non-finite entries


def test_count_nonfinite_counts_nan_and_both_infinities():
    x = tf.constant([1.0, np.nan, np.inf, -np.inf, 0.0, np.nan, -3.0, 1e38])
    assert value(monitor.count_nonfinite(x)) == 4.0


def test_count_nonfinite_of_a_finite_tensor_is_0():
    assert value(monitor.count_nonfinite(tf.constant([[1e-38, -1e38], [0.0, 2.0]]))) == 0.0


def test_count_nonfinite_over_a_4d_tensor_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    x.ravel()[[0, 7, 30, 119]] = [np.nan, np.inf, -np.inf, np.nan]
    assert value(monitor.count_nonfinite(x)) == float((~np.isfinite(x)).sum()) == 4.0


def test_max_abs_of_a_tensor_with_inf_is_inf():
    assert value(monitor.max_abs(tf.constant([1.0, -np.inf]))) == math.inf


# ---------------------------------------------------------------------------------------------
# update ratio


def test_update_ratio_is_the_relative_size_of_the_change():
    old = np.array([[3.0, 0.0], [0.0, 4.0]], np.float32)  # ‖old‖ = 5
    new = old + np.array([[0.0, 0.3], [-0.4, 0.0]], np.float32)  # ‖Δ‖ = 0.5
    assert value(monitor.update_ratio(new, old)) == pytest.approx(0.1, rel=1e-6)


def test_update_ratio_of_no_change_is_0():
    old = tf.constant([1.0, -2.0, 3.0])
    assert value(monitor.update_ratio(old, old)) == 0.0


def test_update_ratio_of_sgd_step_is_lr_times_grad_norm_over_weight_norm():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(8, 5))
    g = rng.normal(size=(8, 5))
    lr = 0.3
    expected = lr * np.linalg.norm(g) / np.linalg.norm(w)
    assert value(monitor.update_ratio((w - lr * g).astype(np.float32), w.astype(np.float32))) == pytest.approx(
        expected, rel=1e-5
    )


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.float32, (3, 4), elements=st.floats(0.5, 2.0, width=32)),
    hnp.arrays(np.float32, (3, 4), elements=st.floats(-1.0, 1.0, width=32)),
    st.floats(min_value=1e-3, max_value=1e3),
)
def test_update_ratio_is_invariant_to_rescaling_both_weights(old, delta, scale):
    new = old + delta
    base = value(monitor.update_ratio(new, old))
    scaled = value(monitor.update_ratio(new * np.float32(scale), old * np.float32(scale)))
    expected = np.linalg.norm(new.astype(np.float64) - old) / np.linalg.norm(old.astype(np.float64))
    assert base == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert scaled == pytest.approx(base, rel=1e-4, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# dead units


def test_a_unit_zero_for_every_example_is_dead_and_one_alive_for_a_single_example_is_not():
    a = np.array(
        [
            # unit 0 dead, unit 1 alive only in the last example, unit 2 alive, unit 3 dead
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 2.0, 0.0],
            [0.0, 0.0, 0.5, 0.0],
            [0.0, 1e-6, 0.0, 0.0],
        ],
        np.float32,
    )
    assert value(monitor.dead_fraction(a)) == pytest.approx(2 / 4)


def test_negative_outputs_are_not_dead():
    # A leaky ReLU unit with negative outputs still passes gradient: only exact zeros count.
    a = np.array([[-0.01, 0.0], [-0.02, 0.0]], np.float32)
    assert value(monitor.dead_fraction(a)) == pytest.approx(1 / 2)


def test_dead_fraction_of_conv_activations_counts_channels_over_batch_and_space():
    rng = np.random.default_rng(2)
    a = np.abs(rng.normal(size=(3, 4, 4, 5))).astype(np.float32) + 0.1  # [batch, h, w, channels]
    a[..., 0] = 0.0  # channel 0: zero everywhere -> dead
    a[..., 1] = 0.0
    a[2, 3, 1, 1] = 0.7  # channel 1: one pixel of one example fires -> alive
    a[..., 3] = 0.0  # channel 3 dead
    a[0, :, :, 4] = 0.0  # channel 4: zero for one example only -> alive
    expected = np.mean([np.all(a[..., c] == 0) for c in range(a.shape[-1])])
    assert expected == pytest.approx(2 / 5)
    assert value(monitor.dead_fraction(a)) == pytest.approx(expected)


def test_dead_fraction_of_sequence_activations_uses_the_last_axis():
    a = np.ones((2, 7, 4), np.float32)  # [batch, time, units]
    a[..., 2] = 0.0
    assert value(monitor.dead_fraction(a)) == pytest.approx(1 / 4)


def test_no_dead_units_and_all_dead_units():
    assert value(monitor.dead_fraction(np.ones((5, 3), np.float32))) == 0.0
    assert value(monitor.dead_fraction(np.zeros((5, 3), np.float32))) == 1.0


# ---------------------------------------------------------------------------------------------
# saturation


def test_sigmoid_saturation_counts_outputs_within_1_percent_of_either_bound():
    # Sigmoid range 1: saturated below 0.01 or above 0.99, bounds themselves included.
    a = np.array(
        [
            [0.0, 0.005, 0.01, 0.0101, 0.5],  # 3 saturated: 0, 0.005, exactly-at-margin 0.01
            [0.98, 0.9899, 0.99, 0.999, 1.0],  # 3 saturated: exactly-at-margin 0.99, 0.999, 1
        ],
        np.float32,
    )
    assert value(monitor.saturated_fraction(a, 0.0, 1.0)) == pytest.approx(6 / 10)


def test_tanh_saturation_margin_is_1_percent_of_the_range_of_2():
    # Tanh range 2: margin 0.02, saturated at or below -0.98 and at or above 0.98.
    # Saturated: -1, -0.99, -0.98 (exactly at the margin), 0.98 (exactly at the margin), 1.
    a = np.array([-1.0, -0.99, -0.98, -0.97, 0.0, 0.5, 0.97, 0.9799, 0.98, 1.0], np.float32)
    assert value(monitor.saturated_fraction(a, -1.0, 1.0)) == pytest.approx(5 / 10)


def test_just_inside_the_margin_is_not_saturated():
    inside = np.array(
        [np.nextafter(np.float32(0.01), np.float32(1)), np.nextafter(np.float32(0.99), np.float32(0))], np.float32
    )
    assert value(monitor.saturated_fraction(inside, 0.0, 1.0)) == 0.0


def test_saturated_fraction_counts_entries_not_units():
    rng = np.random.default_rng(3)
    a = rng.uniform(-1.0, 1.0, size=(16, 4, 3)).astype(np.float32)
    a.ravel()[:5] = [1.0, -1.0, 0.999, -0.9999, 0.985]  # make sure a few are saturated
    expected = np.mean((a <= np.float32(-0.98)) | (a >= np.float32(0.98)))
    assert expected > 0
    assert value(monitor.saturated_fraction(a, -1.0, 1.0)) == pytest.approx(expected)


def test_saturated_fraction_of_real_sigmoid_outputs_matches_a_count_on_the_preactivations():
    # sigmoid(z) <= 0.01  <=>  z <= -log(99);  sigmoid(z) >= 0.99  <=>  z >= log(99).
    z = np.linspace(-8.0, 8.0, 401)
    z = z[np.abs(np.abs(z) - np.log(99.0)) > 1e-3]  # keep clear of the boundary for float32 rounding
    expected = np.mean(np.abs(z) >= np.log(99.0))
    a = tf.sigmoid(tf.constant(z, tf.float32))
    assert value(monitor.saturated_fraction(a, 0.0, 1.0)) == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# batch metric


def test_accuracy_is_the_fraction_of_argmax_hits():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.4, 0.35, 0.25]], np.float32)
    labels = np.array([0, 2, 0, 1], np.int32)  # hits: yes, yes, no, no
    assert value(monitor.batch_metric(labels, probs, "classification")) == pytest.approx(0.5)


def test_accuracy_accepts_labels_shaped_n_by_1():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], np.float32)
    labels = np.array([[0], [1], [1]], np.int64)
    assert value(monitor.batch_metric(labels, probs, "classification")) == pytest.approx(2 / 3)


def test_accuracy_takes_one_hot_and_probability_labels_by_their_argmax():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.4, 0.35, 0.25]], np.float32)
    one_hot = np.eye(3, dtype=np.float32)[[0, 2, 0, 1]]  # hits: yes, yes, no, no
    soft = 0.7 * one_hot + 0.1  # soft targets: the same argmax
    for labels in (one_hot, soft):
        assert value(monitor.batch_metric(labels, probs, "classification")) == pytest.approx(0.5)


def test_mae_for_regression_matches_numpy():
    rng = np.random.default_rng(4)
    y = rng.normal(size=(10, 2)).astype(np.float32)
    pred = rng.normal(size=(10, 2)).astype(np.float32)
    expected = np.abs(y.astype(np.float64) - pred).mean()
    assert value(monitor.batch_metric(y, pred, "regression")) == pytest.approx(expected, rel=1e-6)


def test_mae_of_a_perfect_prediction_is_0():
    y = np.array([[1.5], [-2.0]], np.float32)
    assert value(monitor.batch_metric(y, y, "regression")) == 0.0


def test_column_names_are_the_documented_ones():
    assert monitor.LAYER_MEASURES == (
        "kernel_grad_norm",
        "bias_grad_norm",
        "act_grad_norm",
        "kernel_norm",
        "update_ratio",
        "grad_max_abs",
        "nonfinite",
        "dead_fraction",
        "saturated_fraction",
    )
    assert monitor.STEP_MEASURES == ("loss", "reg_loss", "metric", "global_grad_norm", "learning_rate")


# ---------------------------------------------------------------------------------------------
# building blocks the harness combines for all layers at once


def test_squared_norm_is_the_sum_of_squares():
    assert value(monitor.squared_norm(tf.constant([[3.0, -4.0], [1.0, 2.0]], tf.float64))) == pytest.approx(30.0)
    assert monitor.squared_norm(tf.constant([1.0], tf.float64)).dtype == tf.float32


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=FINITE))
def test_squared_norm_equals_numpys_sum_of_squares(x):
    expected = float((x.astype(np.float64) ** 2).sum())
    assert value(monitor.squared_norm(x)) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_group_sum_adds_the_members_of_each_group():
    values = tf.constant([1.0, 2.0, 4.0, 8.0, 16.0])
    membership = tf.constant([[1, 0, 1, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], tf.float32)
    np.testing.assert_array_equal(monitor.group_sum(values, membership).numpy(), [5.0, 2.0, 24.0, 0.0])


@settings(max_examples=30, deadline=None)
@given(st.lists(hnp.arrays(np.float32, SHAPES, elements=FINITE), min_size=1, max_size=6), st.data())
def test_group_sum_of_squared_norms_gives_each_layers_global_norm(arrays, data):
    # Assign every tensor to one of 3 layers: a layer's norm is the global norm of its own tensors.
    owners = data.draw(st.lists(st.integers(0, 2), min_size=len(arrays), max_size=len(arrays)))
    membership = np.zeros((3, len(arrays)), np.float32)
    membership[owners, np.arange(len(arrays))] = 1.0
    squares = tf.stack([monitor.squared_norm(a) for a in arrays])
    norms = np.sqrt(monitor.group_sum(squares, tf.constant(membership)).numpy())
    for layer in range(3):
        mine = [a.astype(np.float64).ravel() for a, o in zip(arrays, owners, strict=True) if o == layer]
        expected = np.linalg.norm(np.concatenate(mine)) if mine else 0.0
        assert norms[layer] == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_unit_peaks_is_each_units_output_norm_and_zero_exactly_for_dead_units():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(3, 4, 4, 5)).astype(np.float32)  # [batch, h, w, channels]
    a[..., 0] = 0.0
    a[..., 2] = 0.0
    a[1, 2, 3, 2] = -1e-3  # one negative output anywhere keeps a unit alive
    peaks = monitor.unit_peaks(tf.constant(a)).numpy()
    np.testing.assert_allclose(peaks, np.sqrt((a.astype(np.float64) ** 2).reshape(-1, 5).sum(axis=0)), rtol=1e-6)
    np.testing.assert_array_equal(peaks == 0, [True, False, False, False, False])
    dense = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]], np.float32)
    np.testing.assert_allclose(monitor.unit_peaks(tf.constant(dense)).numpy(), [0.0, 1.0, 2.0])
