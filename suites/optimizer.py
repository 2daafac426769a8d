"""Optimizers, each at its customary learning rate, on a 10-layer ReLU MLP initialized too small.

The kernels are drawn at half of He's variance (VarianceScaling scale 0.5 instead of 2), so every
ReLU layer passes on half of the signal's scale, forward and backward: the output sees ~0.5¹⁰ ≈ 1e-3
of the input's scale and the first hidden layer ~0.5⁹ of the output's δ (verdict "vanishing" by δ).
A kernel's gradient is the outer product of the activation reaching it and the δ leaving it, so every
layer's gradient is ~1e-3 of a healthy one, from the first layer to the last: the plateau of a deep
net started near zero. Plain SGD steps are lr·g, a thousand times too small everywhere, and SGD at
its customary 0.05, with or without momentum, stays below 0.25 accuracy in 600 updates.

Adaptive methods divide each parameter's step by a running scale of its own gradient (Adam,
RMSprop: lr·g/√E[g²]), so a parameter moves ~lr per step however small its gradient: they train the
same net to > 0.9. Keras' Adagrad starts its accumulator at 0.1, so for gradients ≪ √0.1 its step
is lr·g/√0.1, about SGD's at 3× the rate, and it only half-rescues the net. Adadelta's ε inside the
square roots makes its early steps ≈ lr·g at lr 1.0, twenty times SGD's, which suffices here.

The factor is the pair (optimizer, learning_rate): comparing optimizers at one shared rate would
mostly measure how far that rate is from each one's sweet spot.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import CAUSES, DUCHI_2011, KINGMA_2015, TIELEMAN_2012

SUITE = Suite(
    name="optimizer",
    factor=("optimizer", "learning_rate"),
    question="Which optimizer, each at its customary rate, trains a deep ReLU net whose gradients are all tiny?",
    base=Setup(
        model="mlp",
        depth=10,
        width=64,
        activation="relu",
        initializer={"class_name": "VarianceScaling", "config": {"scale": 0.5, "distribution": "truncated_normal"}},
        data="digits",
        batch_size=64,
        steps=600,
    ),
    levels={
        "sgd": {"optimizer": "sgd", "learning_rate": 0.05},
        "momentum": {"optimizer": {"class_name": "SGD", "config": {"momentum": 0.9}}, "learning_rate": 0.01},
        "nesterov": {
            "optimizer": {"class_name": "SGD", "config": {"momentum": 0.9, "nesterov": True}},
            "learning_rate": 0.01,
        },
        "adagrad": {"optimizer": "adagrad", "learning_rate": 0.05},
        "adadelta": {"optimizer": "adadelta", "learning_rate": 1.0},
        "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.001},
        "adam": {"optimizer": "adam", "learning_rate": 0.001},
    },
    claims=[
        Claim(
            text="Adam's per-parameter step size trains the net where plain SGD stalls: a better final held-out metric",
            better="adam",
            than="sgd",
            source=KINGMA_2015,
        ),
        Claim(
            text="RMSprop's division by the running gradient scale trains the net where plain SGD stalls:"
            " a better final held-out metric",
            better="rmsprop",
            than="sgd",
            source=TIELEMAN_2012,
        ),
        Claim(
            text="Adagrad's per-parameter rates beat plain SGD's single rate: a better final held-out metric",
            better="adagrad",
            than="sgd",
            source=DUCHI_2011,
        ),
        Claim(
            text="Adaptive methods converge faster than momentum:"
            " after the same updates Adam's held-out metric is better",
            better="adam",
            than="momentum",
            source=CAUSES,
        ),
        Claim(
            text="Adaptive methods converge faster than Nesterov's accelerated gradient:"
            " after the same updates Adam's held-out metric is better",
            better="adam",
            than="nesterov",
            source=CAUSES,
        ),
    ],
)
