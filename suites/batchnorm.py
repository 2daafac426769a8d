"""BatchNormalization in a 20-layer sigmoid MLP, between each Dense layer and its activation.

Without it the sigmoid's derivative (≤ 0.25) multiplies into the gradient at every layer and the
first layers barely learn; normalizing each pre-activation to zero mean and unit variance keeps the
units in the sigmoid's steep middle, so the gradient reaches the input.
"""

from tfbench import Setup, Suite

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
)
