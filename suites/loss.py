"""Output activation and loss of a 3-layer sigmoid MLP on digits: sigmoid + MSE, sigmoid + cross-entropy,
softmax + log-likelihood.

With a sigmoid output a and MSE, the output layer's backpropagated signal is δ = (a − y)·σ′(z): when
an output unit saturates at the wrong answer σ′(z) ≈ 0 and it learns slowly, exactly when it is most
wrong; and since σ′(z) ≤ 1/4, even an unsaturated unit passes at most half of what cross-entropy does
(Keras's MSE carries a factor 2). Binary cross-entropy on the same sigmoid output cancels σ′(z),
leaving δ = a − y; softmax with the log-likelihood (sparse categorical cross-entropy) gives δ = a − y
as well. The integer labels are one-hot for the MSE and binary cross-entropy variants (see docs/suites.md,
Setup). Keras averages those two losses over the 10 output units, so at equal error their gradients
are a tenth of the softmax's sum: the learning rate of 8 is large for them and about the most the
softmax variant takes (at 10 one seed in three collapses to chance).

In 300 updates on batches of 128 both cross-entropies train (about 0.90 and 0.95 accuracy over 3
seeds) while MSE stays near 0.3: the two sigmoid variants differ only in the σ′(z) factor (and
Keras's 2) of their output δ.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import GLOROT_2010, GRADIENTS_IN_CNNS, cite

SUITE = Suite(
    name="loss",
    factor=("output_activation", "loss"),
    question="Does cross-entropy speed up learning over MSE on a sigmoid output, as the chain rule predicts?",
    base=Setup(
        model="mlp",
        depth=3,
        width=32,
        activation="sigmoid",
        initializer="glorot_uniform",
        data="digits",
        optimizer="sgd",
        learning_rate=8.0,
        batch_size=128,
        steps=300,
    ),
    levels={
        "sigmoid+mse": {"output_activation": "sigmoid", "loss": "mse"},
        "sigmoid+cross_entropy": {"output_activation": "sigmoid", "loss": "binary_crossentropy"},
        "softmax+log_likelihood": {"output_activation": "softmax", "loss": "sparse_categorical_crossentropy"},
    },
    reference="sigmoid+mse",
    claims=[
        Claim(
            text="With a sigmoid output, cross-entropy trains better than MSE: its δ = a − y has no σ′(z)",
            better="sigmoid+cross_entropy",
            than="sigmoid+mse",
            source=cite(GLOROT_2010, GRADIENTS_IN_CNNS),
        ),
        Claim(
            text="For classification, softmax with the log-likelihood trains better than sigmoid with MSE",
            better="softmax+log_likelihood",
            than="sigmoid+mse",
            source=GRADIENTS_IN_CNNS,
        ),
    ],
)
