"""Greedy layer-wise pretraining (one autoencoder per hidden layer, then fine-tuning) against the same
4-layer sigmoid MLP trained from its random initialization.

Before ReLU and good initializers, this was how deep nets were made trainable (Hinton 2006): each
layer, trained alone to reconstruct its input, starts fine-tuning with weights that already pass on
the input's structure instead of random projections of it. The variants share the initial weights
and batches; the pretrained one runs 300 SGD updates per layer (tfbench/models/pretrain.py) first.
"""

from tfbench import Setup, Suite

SUITE = Suite(
    name="pretraining",
    factor="pretrain_steps",
    question="Does greedy layer-wise autoencoder pretraining help a deep sigmoid net train?",
    base=Setup(
        model="mlp",
        depth=4,
        width=32,
        activation="sigmoid",
        initializer="glorot_uniform",
        data="digits",
        optimizer="sgd",
        learning_rate=0.5,
        batch_size=64,
        steps=300,
    ),
    levels={"random_init": 0, "pretrained": 300},
    reference="random_init",
)
