"""Weight initialization for a 10-layer tanh MLP.

Too small (std 0.01) and the forward signal and the gradients shrink to nothing; too large (std 1.0)
and tanh saturates. Glorot (Var = 2/(fan_in+fan_out)) and LeCun (Var = 1/fan_in) keep the variance
of activations and gradients near constant across depth; He (Var = 2/fan_in) is made for ReLU.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import GLOROT_2010, STUDY_NOTES, cite

SUITE = Suite(
    name="initializer",
    factor="initializer",
    question="Which weight initialization keeps a deep tanh network's gradients of one size across depth?",
    base=Setup(
        model="mlp",
        depth=10,
        width=64,
        activation="tanh",
        data="digits",
        optimizer="sgd",
        learning_rate=0.05,
        batch_size=64,
        steps=600,
    ),
    levels={
        "normal(0.01)": {"class_name": "RandomNormal", "config": {"stddev": 0.01}},
        "normal(1.0)": {"class_name": "RandomNormal", "config": {"stddev": 1.0}},
        "glorot_uniform": "glorot_uniform",
        "he_normal": "he_normal",
        "lecun_normal": "lecun_normal",
    },
    reference="normal(0.01)",
    claims=[
        Claim(
            text="Too small initial weights make the backpropagated signal vanish",
            variant="normal(0.01)",
            verdict="vanishing",
            at="init",
            source=cite(GLOROT_2010, STUDY_NOTES),
        ),
        Claim(
            text="Too large initial weights make the gradient explode",
            variant="normal(1.0)",
            verdict="exploding",
            at="init",
            source=STUDY_NOTES,
        ),
        Claim(
            text="Glorot initialization keeps the gradient of one size across depth",
            variant="glorot_uniform",
            verdict="healthy",
            at="init",
            source=GLOROT_2010,
        ),
        Claim(
            text="A good initialization trains the deep tanh net better than a too small one:"
            " a better final held-out metric",
            better="glorot_uniform",
            than="normal(0.01)",
            source=cite(GLOROT_2010, STUDY_NOTES),
        ),
    ],
)
