"""Dropout after every hidden layer of a 5-layer ReLU MLP, at rates 0, 0.2 and 0.5.

Dropout zeroes each unit with probability p during training and scales the survivors by 1 / (1 − p),
so the expected signal is unchanged but each backward pass flows through a thinned net: the
gradient gets noisier and, per example, sparser. It is a regularizer, not a remedy for vanishing
gradients; the suite shows what it does to their size and to held-out accuracy.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import SRIVASTAVA_2014, STABILITY_OF_THE_LOSS

SUITE = Suite(
    name="dropout",
    factor="dropout",
    question="What does dropout do to the gradient flow and held-out accuracy of a deep ReLU net?",
    base=Setup(
        model="mlp",
        depth=5,
        width=64,
        activation="relu",
        initializer="he_normal",
        data="digits",
        optimizer="sgd",
        learning_rate=0.05,
        batch_size=64,
        steps=400,
    ),
    levels={"0": 0.0, "0.2": 0.2, "0.5": 0.5},
    claims=[
        Claim(
            text="With dropout the gradient stays of one size across depth through training",
            variant="0.5",
            verdict="healthy",
            at="end",
            source=STABILITY_OF_THE_LOSS,
        ),
        Claim(
            text="Dropout slows training: at an equal number of updates p = 0.5 ends behind no dropout",
            better="0",
            than="0.5",
            source=SRIVASTAVA_2014,
        ),
    ],
)
