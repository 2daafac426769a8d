"""Mean-field theory of gradients at initialization: how much δ grows or shrinks per layer.

In a wide MLP with i.i.d. weights W_ij of mean 0 and variance σw²/fan_in, and biases of variance σb²
(and a deterministic mean μ, see `bias_mean`), each pre-activation z_i = Σ_j W_ij φ(z'_j) + b_i is
Gaussian across units, with variance q given layer by layer by the *variance map*
(Poole et al. 2016, "Exponential expressivity in deep neural networks through transient chaos"):

    q_{l+1} = σw² · E_z[φ(μ + √q_l · z)²] + σb²,        z ~ N(0, 1).

Deep in the net q_l sits at the map's fixed point q*. Backpropagation, δ_l = φ′(z_l) ⊙ W_{l+1}ᵀ δ_{l+1}
(δ = d loss / d z), treated with the usual mean-field assumption that W_{l+1} in the backward pass is
independent of the forward activations (Schoenholz et al. 2017, "Deep information propagation"):

    E‖δ_l‖² = Σ_i E[φ′(z_l,i)²] · Σ_j Var(W_ji) δ_{l+1,j}²
            = N_l · E[φ′²] · (σw² / N_l) · ‖δ_{l+1}‖²  =  χ1 · E‖δ_{l+1}‖²,
    χ1 = σw² · E_z[φ′(μ + √q* · z)²].

(N_l = fan_in of layer l+1 = width of layer l; σw² is defined against fan_in, which for the square
hidden layers of a tfbench MLP is also fan_out.) So the norm changes by a factor √χ1 per layer toward
the input: 0.5·log10(χ1) decades per layer, > 0 exploding, < 0 vanishing, 0 on the edge of chaos.

Expectations over z are Gauss–Hermite quadrature with the probabilists' weights (normalized to sum to
1) for smooth φ at moderate q, and Gauss–Legendre on smooth pieces otherwise (see gaussian_mean). Pure
numpy: the report uses it without TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

QUADRATURE_NODES = 200
NODES, WEIGHTS = hermegauss(QUADRATURE_NODES)
WEIGHTS = WEIGHTS / WEIGHTS.sum()  # probabilists' weights sum to √(2π); normalized, they average over N(0, 1)
Q_HERMITE = 2.0  # up to here Gauss–Hermite is exact to 1e-9 on tanh′², the narrowest smooth integrand here
# Piecewise rule otherwise: Gauss–Legendre on pieces of z in ±Z_RANGE (the normal tail beyond 12 carries
# less than 1e-32 of the mass), cut where x = mean + √q z crosses a kink or one of X_BREAKS.
LEGENDRE_NODES, LEGENDRE_WEIGHTS = leggauss(100)
Z_RANGE = 12.0
X_BREAKS = (0.0, -0.5, 0.5, -1.0, 1.0, -2.0, 2.0, -4.0, 4.0, -8.0, 8.0, -16.0, 16.0, -32.0, 32.0)

# keras.layers.LeakyReLU's default negative slope, the layer tfbench.models.layers builds for "leaky_relu".
LEAKY_RELU_SLOPE = 0.3
# keras.activations.selu's constants (Klambauer et al. 2017).
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

# Below this the fixed point is 0; above it, infinite (the map grows without bound).
Q_ZERO, Q_INFINITE = 1e-12, 1e30
MAX_ITERATIONS = 10_000
RELATIVE_TOLERANCE = 1e-10

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + e^-x)


def _normal_cdf(x):
    return 0.5 * (1.0 + np.asarray(_erf(x / math.sqrt(2.0)), dtype=float))


def _elu(alpha: float, scale: float = 1.0):
    phi = lambda x: scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))  # noqa: E731
    dphi = lambda x: scale * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))  # noqa: E731
    return phi, dphi


def _leaky(slope: float):
    return (lambda x: np.where(x > 0, x, slope * x)), (lambda x: np.where(x > 0, 1.0, slope))


@dataclass(frozen=True)
class Activation:
    """φ and φ′, each vectorized over a numpy array, and the points where φ or φ′ is not smooth."""

    phi: Callable
    dphi: Callable
    kinks: tuple[float, ...] = ()


# PReLU starts with slope 0 (Keras' alpha_initializer is zeros), so at initialization it is ReLU.
ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(lambda x: x, np.ones_like),
    "relu": Activation(*_leaky(0.0), kinks=(0.0,)),
    "prelu": Activation(*_leaky(0.0), kinks=(0.0,)),
    "leaky_relu": Activation(*_leaky(LEAKY_RELU_SLOPE), kinks=(0.0,)),
    "relu6": Activation(lambda x: np.clip(x, 0.0, 6.0), lambda x: ((x > 0) & (x < 6)).astype(float), (0.0, 6.0)),
    "tanh": Activation(np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "sigmoid": Activation(_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "hard_sigmoid": Activation(
        lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0), lambda x: (np.abs(x) < 3).astype(float) / 6.0, (-3.0, 3.0)
    ),  # fmt: skip
    "softsign": Activation(lambda x: x / (1.0 + np.abs(x)), lambda x: 1.0 / (1.0 + np.abs(x)) ** 2, (0.0,)),
    "softplus": Activation(lambda x: np.logaddexp(0.0, x), _sigmoid),
    "elu": Activation(*_elu(1.0), kinks=(0.0,)),
    "selu": Activation(*_elu(SELU_ALPHA, SELU_SCALE), kinks=(0.0,)),
    "gelu": Activation(
        lambda x: x * _normal_cdf(x), lambda x: _normal_cdf(x) + x * np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    ),  # fmt: skip
    "silu": Activation(lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * (1.0 - _sigmoid(x)))),
}
ACTIVATIONS["swish"] = ACTIVATIONS["silu"]


def activation_functions(spec) -> Activation | None:
    """φ and φ′ for an activation name (or a callable / dotted name ending in one); None when unsupported."""
    name = spec if isinstance(spec, str) else getattr(spec, "__name__", None)
    if not isinstance(name, str):
        return None
    return ACTIVATIONS.get(name.rsplit(".", 1)[-1].lower())


def gaussian_mean(f: Callable, q: float, mean: float = 0.0, kinks: tuple[float, ...] = ()) -> float:
    """E_z[f(mean + √q · z)] for z ~ N(0, 1).

    Gauss–Hermite where it is exact to rounding: smooth f and q ≤ Q_HERMITE. Past that, the features of
    f (tanh′² has width ~1 in x, so ~1/√q in z) fall between the nodes (35 % error on tanh′² at q = 64),
    and at kinks (ReLU, ELU, ...) it converges slowly (0.5 % on SELU's χ1). There the z range ±Z_RANGE
    is cut at the kinks and at the graded points X_BREAKS of x, and each piece gets Gauss–Legendre
    against the normal density.
    """
    if not kinks and q <= Q_HERMITE:
        return float(np.dot(WEIGHTS, f(mean + math.sqrt(q) * NODES)))
    scale = math.sqrt(q)
    inner = {(x - mean) / scale for x in (*kinks, *X_BREAKS)}
    edges = [-Z_RANGE, *sorted(z for z in inner if -Z_RANGE < z < Z_RANGE), Z_RANGE]
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        z = (high - low) / 2 * LEGENDRE_NODES + (high + low) / 2
        density = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
        total += (high - low) / 2 * float(np.dot(LEGENDRE_WEIGHTS, f(mean + scale * z) * density))
    return total


def variance_map(q: float, activation: Activation, sigma_w2: float, sigma_b2: float, bias_mean: float = 0.0) -> float:
    """q_{l+1} = σw² · E[φ(μ + √q z)²] + σb²: the pre-activation variance of the next layer."""
    return sigma_w2 * gaussian_mean(lambda x: activation.phi(x) ** 2, q, bias_mean, activation.kinks) + sigma_b2


@dataclass(frozen=True)
class FixedPoint:
    """q* and how it was reached. `limit` is 'finite', 'zero' (q → 0) or 'infinite' (q → ∞); `converged`
    is False when the iteration ran out of steps (e.g. tanh at σw² = 1, σb² = 0, where q_l ~ 1/(2l))."""

    q: float
    limit: str
    converged: bool
    iterations: int


def fixed_point(
    activation: Activation, sigma_w2: float, sigma_b2: float, bias_mean: float = 0.0, q0: float = 1.0
) -> FixedPoint:
    """Iterate the variance map from q0 until the relative change is below RELATIVE_TOLERANCE.

    For the activations here E[φ(√q z)²] grows with q, so the iteration is monotone: it settles at a
    finite q*, decays to 0, or grows without bound; the last two are reported as limits.
    """
    q = float(q0)
    for iteration in range(1, MAX_ITERATIONS + 1):
        following = variance_map(q, activation, sigma_w2, sigma_b2, bias_mean)
        if not math.isfinite(following) or following > Q_INFINITE:
            return FixedPoint(math.inf, "infinite", True, iteration)
        if following < Q_ZERO:
            return FixedPoint(0.0, "zero", True, iteration)
        if abs(following - q) <= RELATIVE_TOLERANCE * q:
            return FixedPoint(following, "finite", True, iteration)
        q = following
    return FixedPoint(q, "finite", False, MAX_ITERATIONS)


def chi1(activation: Activation, q: float, sigma_w2: float, bias_mean: float = 0.0) -> float:
    """χ1 = σw² · E[φ′(μ + √q z)²]. At q = 0 or ∞ the limit is taken at q = Q_ZERO² or Q_INFINITE
    (φ′ of ReLU at exactly 0 is a convention, its limit from either side is not)."""
    q = min(max(q, Q_ZERO**2), Q_INFINITE)
    return sigma_w2 * gaussian_mean(lambda x: activation.dphi(x) ** 2, q, bias_mean, activation.kinks)


@dataclass(frozen=True)
class Prediction:
    """The mean-field prediction for one hidden-layer setting, in decades per layer toward the input."""

    q_star: float
    chi1: float
    decades_per_layer: float  # of ‖δ‖: 0.5·log10(χ1)
    kernel_decades_per_layer: float  # of ‖∂L/∂W‖: 0.5·log10(χ1 / ρ), see forward_ratio
    fixed_point: FixedPoint


def forward_ratio(activation: Activation, q: float, sigma_w2: float, sigma_b2: float, bias_mean: float = 0.0) -> float:
    """ρ = q_{l+1} / q_l where the iteration ends: 1 at a finite fixed point, the geometric rate at which
    the forward signal dies (q* = 0) or blows up (q* = ∞) otherwise.

    The kernel gradient of layer l is a_{l-1}ᵀ δ_l, so ‖∂L/∂W_l‖² ∝ E[φ(z_{l-1})²] · E‖δ_l‖²: toward the
    input it changes by χ1 from δ and by 1/ρ from the activations. With σb² = 0, E[φ(z_{l-1})²] = q_l / σw².
    At a finite q* both slopes are the same; where q → 0 or ∞ they differ (a ReLU net at σw² = 1 has
    χ1 = ρ = 1/2: δ shrinks toward the input while the kernel gradients stay level).
    """
    q = min(max(q, Q_ZERO**2), Q_INFINITE)
    return variance_map(q, activation, sigma_w2, sigma_b2, bias_mean) / q


def predict(activation, sigma_w2: float, sigma_b2: float = 0.0, bias_mean: float = 0.0, q0: float = 1.0):
    """The Prediction for an activation and weight/bias statistics; None for an unsupported activation
    or zero weight variance (no randomness for the theory to average over).

    A constant bias μ (no variance) shifts every pre-activation deterministically: it enters as the mean
    of z, not as σb².
    """
    functions = activation_functions(activation)
    if functions is None or not sigma_w2 > 0:
        return None
    point = fixed_point(functions, sigma_w2, sigma_b2, bias_mean, q0)
    chi = chi1(functions, point.q, sigma_w2, bias_mean)
    settled = point.limit == "finite" and point.converged
    rho = 1.0 if settled else forward_ratio(functions, point.q, sigma_w2, sigma_b2, bias_mean)
    decades = 0.5 * math.log10(chi) if chi > 0 else -math.inf
    kernel = 0.5 * math.log10(chi / rho) if chi > 0 and rho > 0 else math.nan
    return Prediction(q_star=point.q, chi1=chi, decades_per_layer=decades, kernel_decades_per_layer=kernel,
                      fixed_point=point)  # fmt: skip
