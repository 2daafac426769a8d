"""Mean-field theory (tfbench.analysis.theory) and the initializer moments it reads (tfbench.analysis.init_variance).

Checked against closed forms, against scipy's adaptive integration, against Keras' own activations and
the samples Keras' initializers draw, and finally against the δ gradients of real tfbench MLPs.
"""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

from tfbench import Setup
from tfbench.analysis import init_variance, theory
from tfbench.data.loading import load_data
from tfbench.harness.build import build_model
from tfbench.report.theory_overlay import prediction, slope_toward_input
from tfbench.spec.canonical import canonical

# ----------------------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("q0", [0.1, 1.0, 7.0])
def test_relu_at_he_scale_is_critical_chi1_is_one(q0):
    result = theory.predict("relu", sigma_w2=2.0, sigma_b2=0.0, q0=q0)
    assert result.chi1 == pytest.approx(1.0, abs=1e-12)
    assert result.decades_per_layer == pytest.approx(0.0, abs=1e-12)
    assert result.q_star == pytest.approx(q0, rel=1e-12)  # every q is a fixed point of q -> 2 · q / 2


@pytest.mark.parametrize("sigma_w2", [0.5, 1.0, 1.3])
def test_relu_chi1_is_half_sigma_w2_and_q_star_is_closed_form(sigma_w2):
    relu = theory.activation_functions("relu")
    assert theory.chi1(relu, 0.7, sigma_w2) == pytest.approx(sigma_w2 / 2, abs=1e-12)
    point = theory.fixed_point(relu, sigma_w2, 0.1)  # q = σw² q / 2 + σb²  ->  q* = σb² / (1 − σw²/2)
    assert point.q == pytest.approx(0.1 / (1 - sigma_w2 / 2), rel=1e-8)


@pytest.mark.parametrize(("sigma_w2", "sigma_b2"), [(0.5, 0.0), (0.5, 0.2), (2.0, 0.0), (3.0, 0.1)])
def test_linear_chi1_is_sigma_w2(sigma_w2, sigma_b2):
    result = theory.predict("linear", sigma_w2, sigma_b2)
    assert result.chi1 == pytest.approx(sigma_w2, rel=1e-12)
    assert result.decades_per_layer == pytest.approx(0.5 * math.log10(sigma_w2), rel=1e-12)
    if sigma_w2 < 1:  # q = σw² q + σb²
        assert result.q_star == pytest.approx(sigma_b2 / (1 - sigma_w2), abs=1e-9)
    else:
        assert result.fixed_point.limit == "infinite" and result.q_star == math.inf


@pytest.mark.parametrize("sigma_w2", [0.3, 0.8, 0.95])
def test_tanh_in_the_ordered_phase_has_q_star_zero_and_chi1_sigma_w2(sigma_w2):
    result = theory.predict("tanh", sigma_w2, 0.0)
    assert result.q_star == 0.0 and result.fixed_point.limit == "zero"
    assert result.chi1 == pytest.approx(sigma_w2, rel=1e-9)  # tanh′(0) = 1


def test_tanh_at_the_edge_converges_slowly_and_is_reported_as_such():
    result = theory.predict("tanh", 1.0, 0.0)
    assert not result.fixed_point.converged  # q_l ~ 1/(2l): algebraic, not geometric
    assert result.q_star < 1e-3 and result.chi1 == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("activation", "sigma_w2", "sigma_b2", "bias_mean"),
    [("tanh", 1.5, 0.0, 0.0), ("tanh", 2.0, 0.05, 0.0), ("sigmoid", 1.0, 0.0, 0.0), ("elu", 1.5, 0.1, 0.0),
     ("softplus", 1.0, 0.0, 0.0), ("selu", 1.0, 0.0, 0.0), ("gelu", 1.8, 0.3, 0.0), ("relu", 1.5, 0.2, 0.1),
     ("hard_sigmoid", 4.0, 0.0, 0.0), ("tanh", 1.2, 0.0, 0.3)],
)  # fmt: skip
def test_fixed_point_satisfies_the_map_computed_by_scipy(activation, sigma_w2, sigma_b2, bias_mean):
    functions = theory.activation_functions(activation)
    phi, dphi = functions.phi, functions.dphi
    point = theory.fixed_point(functions, sigma_w2, sigma_b2, bias_mean)
    assert point.converged and point.limit == "finite"

    def expect(f, q):  # E[f(μ + √q z)] by adaptive integration against the normal density
        integrand = lambda z: f(np.array(bias_mean + math.sqrt(q) * z)) * stats.norm.pdf(z)  # noqa: E731
        return sum(integrate.quad(integrand, low, high, epsabs=1e-13)[0] for low, high in ((-12, 0), (0, 12)))

    mapped = sigma_w2 * expect(lambda x: phi(x) ** 2, point.q) + sigma_b2
    assert mapped == pytest.approx(point.q, rel=1e-6)  # the iteration stops at a change of 1e-10 per step
    chi = theory.chi1(functions, point.q, sigma_w2, bias_mean)
    assert chi == pytest.approx(sigma_w2 * expect(lambda x: dphi(x) ** 2, point.q), rel=1e-8)


@pytest.mark.parametrize(
    ("activation", "sigma_w2", "forward"),
    [("relu", 1.0, 0.5), ("linear", 2.0, 2.0), ("tanh", 0.5, 0.5), ("leaky_relu", 1.0, (1 + 0.3**2) / 2)],
)
def test_kernel_slope_removes_the_forward_decay_where_q_star_is_zero_or_infinite(activation, sigma_w2, forward):
    # q_{l+1} = ρ q_l with ρ in closed form: σw² E[φ(√q z)²] / q for homogeneous φ, or tanh as q -> 0
    result = theory.predict(activation, sigma_w2)
    assert result.fixed_point.limit in ("zero", "infinite")
    assert result.kernel_decades_per_layer == pytest.approx(result.decades_per_layer - 0.5 * math.log10(forward))
    assert result.kernel_decades_per_layer == pytest.approx(0.0, abs=1e-9)  # χ1 = ρ for these


def test_kernel_and_delta_slopes_agree_at_a_finite_fixed_point():
    result = theory.predict("sigmoid", 1.0)
    assert result.fixed_point.limit == "finite" and result.kernel_decades_per_layer == result.decades_per_layer


def _scipy_mean(f, q: float, mean: float = 0.0, kinks=(0.0,)) -> float:
    """E[f(mean + √q z)] by scipy's adaptive quadrature, split where x = mean + √q z crosses a kink."""
    integrand = lambda z: f(np.array(mean + math.sqrt(q) * z)) * stats.norm.pdf(z)  # noqa: E731
    cuts = sorted({-12.0, 12.0, *(c for c in ((k - mean) / math.sqrt(q) for k in kinks) if -12 < c < 12)})
    pieces = (integrate.quad(integrand, a, b, epsabs=1e-14, limit=200)[0] for a, b in itertools.pairwise(cuts))
    return sum(pieces)


@pytest.mark.parametrize("name", sorted(theory.ACTIVATIONS))
@pytest.mark.parametrize("q", [1e-4, 0.5, 2.0, 5.0, 64.0, 1e4])
def test_gaussian_mean_of_phi_and_derivative_squared_matches_scipy(name, q):
    activation = theory.ACTIVATIONS[name]
    for f in (lambda x: activation.phi(x) ** 2, lambda x: activation.dphi(x) ** 2):
        expected = _scipy_mean(f, q, mean=0.1, kinks=(0.0, *activation.kinks))
        assert theory.gaussian_mean(f, q, 0.1, activation.kinks) == pytest.approx(expected, rel=1e-7, abs=1e-13)


def test_unsupported_activation_or_zero_weight_variance_gives_no_prediction():
    assert theory.predict("mish", 1.0) is None
    assert theory.predict(lambda x: x, 1.0) is None  # a lambda's __name__ is "<lambda>"
    assert theory.predict(None, 1.0) is None
    assert theory.predict("tanh", 0.0) is None


# ----------------------------------------------------------------------------------- φ, φ′ against Keras

GRID = np.linspace(-5.0, 5.0, 401) + 1e-3  # off the kinks at 0, 6 and ±3


def _keras_activation(name: str):
    if name == "leaky_relu":
        return keras.layers.LeakyReLU()  # what tfbench.models.layers builds
    if name == "prelu":
        layer = keras.layers.PReLU()
        layer.build((None, GRID.size))
        return layer
    return keras.activations.get(name)


@pytest.mark.parametrize("name", sorted(theory.ACTIVATIONS))
def test_phi_and_its_derivative_match_keras_and_autodiff(name):
    phi, dphi = theory.ACTIVATIONS[name].phi, theory.ACTIVATIONS[name].dphi
    x = tf.constant(GRID[None, :], tf.float64 if name not in ("leaky_relu", "prelu") else tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = _keras_activation(name)(x)
    derivative = tape.gradient(y, x).numpy()[0]
    np.testing.assert_allclose(phi(GRID), y.numpy()[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dphi(GRID), derivative, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------- initializer moments


@pytest.mark.parametrize(
    ("spec", "width", "expected"),
    [("glorot_uniform", 64, 1.0), ("GlorotNormal", 64, 1.0), ("he_normal", 64, 2.0), ("he_uniform", 10, 2.0),
     ("lecun_normal", 32, 1.0), ({"class_name": "RandomNormal", "config": {"stddev": 0.05}}, 256, 0.64),
     ({"class_name": "VarianceScaling", "config": {"scale": 1.5, "mode": "fan_out", "distribution": "uniform"}},
      50, 1.5), ({"class_name": "Orthogonal", "config": {"gain": 1.5}}, 64, 2.25),
     ({"class_name": "RandomUniform", "config": {"minval": -0.1, "maxval": 0.1}}, 300, 300 * 0.04 / 12)],
)  # fmt: skip
def test_weight_variance_closed_forms(spec, width, expected):
    assert init_variance.weight_variance(spec, width) == pytest.approx(expected, rel=1e-12)


def test_truncated_normal_variance_is_keras_correction_squared():
    keras_stddev_correction = 0.87962566103423978  # keras.initializers.VarianceScaling's constant
    assert abs(init_variance.TRUNCATED_VARIANCE - keras_stddev_correction**2) < 1e-12


KERAS_SPECS = [
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal",
    "random_normal", "normal", "truncated_normal", "random_uniform", "uniform",
    {"class_name": "VarianceScaling", "config": {"scale": 3.0, "mode": "fan_avg", "distribution": "truncated_normal"}},
    {"class_name": "VarianceScaling", "config": {"scale": 0.5, "mode": "fan_in", "distribution": "untruncated_normal"}},
    {"class_name": "TruncatedNormal", "config": {"stddev": 0.2}},
    {"class_name": "RandomUniform", "config": {"minval": 0.0, "maxval": 0.3}},
    keras.initializers.HeNormal(), keras.initializers.Orthogonal(gain=0.5),
    keras.initializers.VarianceScaling(scale=2.5, distribution="uniform"),
]  # fmt: skip


@pytest.mark.parametrize("spec", KERAS_SPECS, ids=lambda s: s if isinstance(s, str) else repr(s)[:60])
def test_entry_moments_match_what_keras_draws(spec):
    keras.utils.set_random_seed(0)  # unseeded initializers draw from the global seed: deterministic test
    width = 256
    sample = keras.initializers.get(spec)((width, width)).numpy().astype(float).ravel()
    moments = init_variance.entry_moments(spec, width, width)
    assert moments.variance * width == pytest.approx(sample.var() * width, rel=0.03)
    assert moments.mean == pytest.approx(sample.mean(), abs=4 * sample.std() / width + 1e-9)


def test_instances_resolve_like_their_canonical_form():
    for instance in (keras.initializers.HeUniform(), keras.initializers.RandomNormal(stddev=0.3)):
        assert init_variance.weight_variance(instance, 64) == init_variance.weight_variance(canonical(instance), 64)


@pytest.mark.parametrize(
    "spec",
    ["identity", "zeros", "ones", {"class_name": "MyOwnInit", "config": {}}, 3.5, None,
     {"class_name": "RandomNormal", "config": {"mean": 0.1, "stddev": 0.05}},  # not zero-mean
     {"class_name": "VarianceScaling", "config": {"mode": "fan_sideways"}},
     {"class_name": "RandomNormal", "config": {"stddev": "wide"}}],
)  # fmt: skip
def test_kernels_the_theory_cannot_describe_give_none(spec):
    assert init_variance.weight_variance(spec, 64) is None


def test_bias_moments_constant_is_a_mean_shift():
    assert init_variance.entry_moments("zeros", 8, 8) == init_variance.EntryMoments(0.0, 0.0)
    constant = {"class_name": "Constant", "config": {"value": 0.1}}
    assert init_variance.entry_moments(constant, 8, 8) == init_variance.EntryMoments(0.1, 0.0)
    normal = {"class_name": "RandomNormal", "config": {"stddev": 0.2}}
    assert init_variance.entry_moments(normal, 8, 8).variance == pytest.approx(0.04)


# ------------------------------------------------------------------------ agreement with real networks

# Around tanh's order-to-chaos edge at σw² = 1 (σb² = 0), and deep in the saturated chaotic phase.
TANH_SIGMA_W2 = (0.5, 1.0, 1.5, 2.0, 4.0, 64.0)


def measured_decades(setup: Setup, seeds=(0, 1)) -> tuple[float, float]:
    """Decades per layer toward the input of ‖δ‖ over the hidden layers 1..L and of the kernel gradient
    over 2..L of a tfbench MLP at initialization, on one batch of 256 digits, by plain TensorFlow tape
    gradients; means over seeds."""
    data = load_data(setup.data)
    x, y = tf.constant(data.x_train[:256]), tf.constant(data.y_train[:256])
    hidden = np.arange(1.0, setup.depth + 1)
    delta_slopes, kernel_slopes = [], []
    for seed in seeds:
        net = build_model(setup, data, seed).net  # returns [prediction, z_1 .. z_{depth+1}, activations]
        kernels = [layer.kernel for layer in net.layers if layer.name.startswith("dense_")]
        with tf.GradientTape() as tape:
            outputs = net(x, training=True)
            zs = outputs[1 : setup.depth + 2]
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, outputs[0]))
        gradients = tape.gradient(loss, [*zs, *kernels])
        norms = np.array([float(tf.norm(gradient)) for gradient in gradients])
        delta, kernel = norms[: setup.depth], norms[setup.depth + 1 :]
        delta_slopes.append(slope_toward_input(hidden, delta))
        kernel_slopes.append(slope_toward_input(hidden[1:], kernel[1:]))
    return float(np.mean(delta_slopes)), float(np.mean(kernel_slopes))


def wide_setup(sigma_w2: float, activation: str = "tanh") -> Setup:
    initializer = {"class_name": "VarianceScaling",
                   "config": {"scale": sigma_w2, "mode": "fan_in", "distribution": "untruncated_normal"}}  # fmt: skip
    return Setup(model="mlp", depth=20, width=256, activation=activation, initializer=initializer, data="digits")


def test_measured_delta_slope_of_tanh_at_width_256_agrees_with_mean_field():
    predicted = {s: prediction(canonical(wide_setup(s))) for s in TANH_SIGMA_W2}
    # The cases differ by far more than the tolerance, so agreement is not a coincidence of small numbers.
    assert predicted[4.0].decades_per_layer - predicted[0.5].decades_per_layer > 0.2
    for sigma_w2 in TANH_SIGMA_W2:
        delta, kernel = measured_decades(wide_setup(sigma_w2))
        assert delta == pytest.approx(predicted[sigma_w2].decades_per_layer, abs=0.05), sigma_w2
        assert kernel == pytest.approx(predicted[sigma_w2].kernel_decades_per_layer, abs=0.05), sigma_w2


def test_relu_below_he_scale_delta_vanishes_while_kernel_gradients_stay_level():
    predicted = prediction(canonical(wide_setup(1.0, "relu")))
    delta, kernel = measured_decades(wide_setup(1.0, "relu"))
    assert predicted.decades_per_layer == pytest.approx(-0.1505, abs=1e-4)  # 0.5·log10(1/2)
    assert delta == pytest.approx(predicted.decades_per_layer, abs=0.05)
    assert kernel == pytest.approx(predicted.kernel_decades_per_layer, abs=0.05)
