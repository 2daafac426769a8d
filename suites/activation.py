"""Activation functions in a 10-layer MLP with one fixed initializer (glorot_uniform).

Saturating activations (sigmoid: φ′ ≤ 0.25; softplus, whose derivative is a sigmoid) shrink the
backpropagated signal layer by layer; the ReLU family passes it through unchanged where active.
"""

from tfbench import Claim, Setup, Suite

ARTICLE_SIGMOID = "001_c9177f1e47383ab4.txt"

SUITE = Suite(
    name="activation",
    factor="activation",
    question="Which hidden activation keeps gradients alive through 10 layers?",
    base=Setup(
        model="mlp",
        depth=10,
        width=64,
        initializer="glorot_uniform",
        data="digits",
        optimizer="sgd",
        learning_rate=0.05,
        batch_size=64,
        steps=600,
    ),
    levels=["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "prelu"],
    reference="sigmoid",
    claims=[
        Claim(
            text="Sigmoid hidden layers make the gradient vanish toward the input of a deep net",
            variant="sigmoid",
            verdict="vanishing",
            at="init",
            source=ARTICLE_SIGMOID,
        ),
        Claim(
            text="Replacing sigmoid by ReLU keeps the gradient alive, and the net trains",
            better="relu",
            than="sigmoid",
            source=ARTICLE_SIGMOID,
        ),
        Claim(
            text="ELU, a ReLU variant, trains the deep net too",
            better="elu",
            than="sigmoid",
            source=ARTICLE_SIGMOID,
        ),
        Claim(
            text="tanh, zero-centred, trains where sigmoid stalls",
            better="tanh",
            than="sigmoid",
            source=ARTICLE_SIGMOID,
        ),
    ],
)
