"""A plain 30-layer sigmoid MLP against the same net with an identity skip around every hidden layer.

In the plain net the gradient reaching layer l is a product of 30 − l Jacobians W·φ′(z), each
shrinking it (φ′ ≤ 0.25). A residual block computes x + f(x), whose Jacobian is I + ∂f/∂x: the
identity term carries the gradient back unchanged however small ∂f/∂x gets. Both start from
identical kernels (same seed), so the skip connection is the only difference.
"""

from tfbench import Setup, Suite

SUITE = Suite(
    name="residual",
    factor="model",
    question="Do identity skip connections carry the gradient through a 30-layer sigmoid net?",
    base=Setup(
        depth=30,
        width=32,
        activation="sigmoid",
        initializer="glorot_uniform",
        data="digits",
        optimizer="sgd",
        learning_rate=0.05,
        batch_size=64,
        steps=300,
    ),
    levels={"plain": "mlp", "residual": "resnet"},
)
