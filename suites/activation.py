"""Activation functions in a 10-layer MLP with one fixed initializer (glorot_uniform).

Saturating activations (sigmoid: φ′ ≤ 0.25; softplus, whose derivative is a sigmoid) shrink the
backpropagated signal layer by layer; the ReLU family passes it through unchanged where active.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import CLEVERT_2016, GLOROT_2010, GLOROT_2011, GRADIENTS_IN_CNNS, LECUN_1998, cite

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
            source=cite(GLOROT_2010, GRADIENTS_IN_CNNS),
        ),
        Claim(
            text="With ReLU in place of sigmoid the deep net trains: a better final held-out metric",
            better="relu",
            than="sigmoid",
            source=cite(GLOROT_2011, GRADIENTS_IN_CNNS),
        ),
        Claim(
            text="ELU, a ReLU variant, trains the deep net too: a better final held-out metric than sigmoid",
            better="elu",
            than="sigmoid",
            source=cite(CLEVERT_2016, GRADIENTS_IN_CNNS),
        ),
        Claim(
            text="tanh, zero-centred, ends with a better held-out metric than sigmoid",
            better="tanh",
            than="sigmoid",
            source=cite(LECUN_1998, GRADIENTS_IN_CNNS),
        ),
    ],
)
