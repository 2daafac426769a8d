"""Optimizers on a 10-layer ReLU MLP, each at its customary learning rate.

The factor is the pair (optimizer, learning_rate): comparing optimizers at one shared rate would
mostly measure how far that rate is from each one's sweet spot. Adaptive methods (Adagrad, RMSprop,
Adam) divide each update by a running gradient scale, so layers with small gradients still move.
"""

from tfbench import Setup, Suite

SUITE = Suite(
    name="optimizer",
    factor=("optimizer", "learning_rate"),
    question="Which optimizer, each at its customary learning rate, trains a deep ReLU net best?",
    base=Setup(
        model="mlp",
        depth=10,
        width=64,
        activation="relu",
        initializer="glorot_uniform",
        data="digits",
        batch_size=64,
        steps=600,
    ),
    levels={
        "sgd": {"optimizer": "sgd", "learning_rate": 0.05},
        "momentum": {"optimizer": {"class_name": "SGD", "config": {"momentum": 0.9}}, "learning_rate": 0.01},
        "nesterov": {
            "optimizer": {"class_name": "SGD", "config": {"momentum": 0.9, "nesterov": True}},
            "learning_rate": 0.01,
        },
        "adagrad": {"optimizer": "adagrad", "learning_rate": 0.05},
        "adadelta": {"optimizer": "adadelta", "learning_rate": 1.0},
        "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.001},
        "adam": {"optimizer": "adam", "learning_rate": 0.001},
    },
)
