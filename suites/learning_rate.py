"""Learning rate of plain SGD on a linear model (one linear hidden layer) fit to teacher regression.

For a quadratic loss, gradient descent converges only while the learning rate stays below 2 / λmax,
λmax the largest curvature of the loss; beyond it every update overshoots further than the last, so
weights, gradients and loss grow geometrically: the exploding gradient of a too-large step. The top
rates here cross that bound, and their runs end as `diverged` (a result, not a crash).
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import CAUSES, LECUN_1998, cite

SUITE = Suite(
    name="learning_rate",
    factor="learning_rate",
    question="At which learning rate does plain SGD on a linear regression stop converging and explode?",
    base=Setup(
        model="mlp",
        depth=1,
        width=32,
        activation="linear",
        initializer="glorot_uniform",
        data="teacher",
        optimizer="sgd",
        batch_size=64,
        steps=300,
    ),
    levels={"0.001": 0.001, "0.01": 0.01, "0.1": 0.1, "0.3": 0.3, "1.0": 1.0},
    reference="0.01",
    claims=[
        Claim(
            text="Too large a learning rate makes gradient descent diverge",
            variant="1.0",
            verdict="diverged",
            at="end",
            source=cite(LECUN_1998, CAUSES),
        ),
        Claim(
            text="Too small a learning rate converges too slowly: after the same updates 0.001 ends behind 0.01",
            better="0.01",
            than="0.001",
            source=cite(LECUN_1998, CAUSES),
        ),
    ],
)
