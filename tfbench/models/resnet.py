"""Residual MLP: the plain MLP with an identity skip around every hidden layer after the first.

With the same seed a resnet and an mlp of equal depth start from identical kernels, so the residual
suite compares the skip connection alone.
"""

from tfbench.models import mlp
from tfbench.models.network import Network


def build(setup, data, seed: int) -> Network:
    return mlp.build(setup, data, seed, residual=True)
