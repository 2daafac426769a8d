"""BatchNormalization in a 20-layer sigmoid MLP, between each Dense layer and its activation.

Without it the sigmoid's derivative (≤ 0.25) multiplies into the gradient at every layer and the
first layers barely learn; normalizing each pre-activation to zero mean and unit variance keeps the
units in the sigmoid's steep middle, so the gradient reaches the input.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import GLOROT_2010, IOFFE_2015, STUDY_NOTES, cite

SUITE = Suite(
    name="batchnorm",
    factor="batch_norm",
    question="Does BatchNormalization rescue a deep sigmoid network whose gradients vanish?",
    base=Setup(
        model="mlp",
        depth=20,
        width=64,
        activation="sigmoid",
        initializer="glorot_uniform",
        data="digits",
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=64,
        steps=600,
    ),
    levels={"plain": False, "batch_norm": True},
    claims=[
        Claim(
            text="Without normalization the deep sigmoid net's gradient vanishes toward the input",
            variant="plain",
            verdict="vanishing",
            at="init",
            source=cite(GLOROT_2010, STUDY_NOTES),
        ),
        Claim(
            text="BatchNormalization keeps the gradient of one size across depth",
            variant="batch_norm",
            verdict="healthy",
            at="init",
            source=cite(IOFFE_2015, STUDY_NOTES),
        ),
        Claim(
            text="BatchNormalization makes the deep sigmoid net trainable: a better final held-out metric than without",
            better="batch_norm",
            than="plain",
            source=cite(IOFFE_2015, STUDY_NOTES),
        ),
    ],
)
