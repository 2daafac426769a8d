"""Depth of a plain MLP (2 to 30 hidden layers), once with sigmoid and once with ReLU.

Backpropagation multiplies one factor W·φ′(z) per layer into the gradient of the first layers (the
chain rule). The sigmoid's derivative is at most 0.25, so under He initialization each sigmoid layer
shrinks the signal by roughly √2·0.25 ≈ 0.35 and the shrinkage compounds with depth; ReLU passes the
signal through unchanged where active, and He scaling makes each layer's factor about 1.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import CAUSES, GLOROT_2010, GRADIENTS_IN_CNNS, HE_2015, cite

DEPTHS = [2, 5, 10, 20, 30]


def _depth_suite(activation: str) -> Suite:
    return Suite(
        name=f"depth_{activation}",
        factor="depth",
        question=f"How does the gradient reaching the first layer of a {activation} MLP shrink as depth grows?",
        base=Setup(
            model="mlp",
            width=32,
            activation=activation,
            initializer="he_normal",
            data="digits",
            optimizer="sgd",
            learning_rate=0.05,
            batch_size=64,
            steps=200,
        ),
        levels={f"depth={d}": d for d in DEPTHS},
        claims=CLAIMS[activation],
    )


CLAIMS = {
    "sigmoid": [
        Claim(
            text="Each sigmoid layer multiplies the gradient by at most 0.25: by 10 layers it has vanished",
            variant="depth=10",
            verdict="vanishing",
            at="init",
            source=cite(GRADIENTS_IN_CNNS, CAUSES),
        ),
        Claim(
            text="The deeper the sigmoid net, the smaller the first layer's gradient relative to the last:"
            " a lower log10 gradient ratio at 10 layers than at 2",
            better="depth=2",
            than="depth=10",
            on="log10_grad_ratio",
            source=CAUSES,
        ),
        Claim(
            text="The shallow sigmoid net trains better than the deep one:"
            " a better final held-out metric at 2 layers than at 10",
            better="depth=2",
            than="depth=10",
            source=cite(GLOROT_2010, CAUSES),
        ),
    ],
    "relu": [
        Claim(
            text="He-initialized ReLU keeps the gradient of one size even through 30 layers",
            variant="depth=30",
            verdict="healthy",
            at="init",
            source=HE_2015,
        ),
    ],
}

SUITES = [_depth_suite("sigmoid"), _depth_suite("relu")]
