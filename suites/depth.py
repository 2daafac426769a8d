"""Depth of a plain MLP (2 to 30 hidden layers), once with sigmoid and once with ReLU.

Backpropagation multiplies one factor W·φ′(z) per layer into the gradient of the first layers (the
chain rule). The sigmoid's derivative is at most 0.25, so under He initialization each sigmoid layer
shrinks the signal by roughly √2·0.25 ≈ 0.35 and the shrinkage compounds with depth; ReLU passes the
signal through unchanged where active, and He scaling makes each layer's factor about 1.
"""

from tfbench import Setup, Suite

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
    )


SUITES = [_depth_suite("sigmoid"), _depth_suite("relu")]
