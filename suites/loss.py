"""Output activation and loss of a 3-layer sigmoid MLP on digits: sigmoid + MSE, sigmoid + cross-entropy,
softmax + log-likelihood.

With a sigmoid output a and MSE, the output layer's backpropagated signal is δ = (a − y)·σ′(z): when
an output unit saturates at the wrong answer σ′(z) ≈ 0 and it learns slowly, exactly when it is most
wrong. Binary cross-entropy on the same sigmoid output cancels σ′(z), leaving δ = a − y; softmax with
the log-likelihood (sparse categorical cross-entropy) gives δ = a − y as well. The integer labels are
one-hot for the MSE and binary cross-entropy variants (see README, Setup). Keras averages those two
losses over the 10 output units, so at equal error their gradients are a tenth of the softmax's sum.
"""

from tfbench import Setup, Suite

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
        learning_rate=1.0,
        batch_size=64,
        steps=300,
    ),
    levels={
        "sigmoid+mse": {"output_activation": "sigmoid", "loss": "mse"},
        "sigmoid+cross_entropy": {"output_activation": "sigmoid", "loss": "binary_crossentropy"},
        "softmax+log_likelihood": {"output_activation": "softmax", "loss": "sparse_categorical_crossentropy"},
    },
    reference="sigmoid+mse",
)
