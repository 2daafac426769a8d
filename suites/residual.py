"""A plain 30-layer sigmoid MLP against the same net with an identity skip around every hidden layer.

In the plain net the gradient reaching layer l is a product of 30 − l Jacobians W·φ′(z), each
shrinking it (φ′ ≤ 0.25). A residual block computes x + f(x), whose Jacobian is I + ∂f/∂x: the
identity term carries the gradient back unchanged however small ∂f/∂x gets. Both start from
identical kernels (same seed), so the skip connection is the only difference.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import HE_2016, STUDY_NOTES, cite

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
    claims=[
        Claim(
            text="Without shortcuts the gradient vanishes through 30 sigmoid layers",
            variant="plain",
            verdict="vanishing",
            at="init",
            source=STUDY_NOTES,
        ),
        Claim(
            text="Identity shortcuts carry the gradient back to the first layers",
            variant="residual",
            verdict="healthy",
            at="init",
            source=cite(HE_2016, STUDY_NOTES),
        ),
        Claim(
            text="The residual net trains better than the plain one: a better final held-out metric",
            better="residual",
            than="plain",
            source=cite(HE_2016, STUDY_NOTES),
        ),
    ],
)
