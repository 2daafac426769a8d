"""Dropout after every hidden layer of a 5-layer ReLU MLP, at rates 0, 0.2 and 0.5.

Dropout zeroes each unit with probability p during training and scales the survivors by 1 / (1 − p),
so the expected signal is unchanged but each backward pass flows through a thinned net: the
gradient gets noisier and, per example, sparser. It is a regularizer, not a remedy for vanishing
gradients; the suite shows what it does to their size and to held-out accuracy.
"""

from tfbench import Setup, Suite

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
)
