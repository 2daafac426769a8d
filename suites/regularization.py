"""L1 / L2 weight penalties on every kernel of a 10-layer ReLU MLP.

Strengths: L1 λ = 1e-4 and L2 λ = 1e-3 (loss += λ·Σ|W| or λ·Σ W²), the usual starting points; at
these values the penalty is a few percent of the data loss at initialization, enough to shape the
weights without drowning the task. L2 adds 2λW to every kernel gradient, keeping weights (and so
the products of the chain rule) small.
"""

from tfbench import Setup, Suite

SUITE = Suite(
    name="regularization",
    factor="regularizer",
    question="Do L1 / L2 weight penalties change gradient flow and held-out accuracy of a deep ReLU net?",
    base=Setup(
        model="mlp",
        depth=10,
        width=64,
        activation="relu",
        initializer="he_normal",
        data="digits",
        optimizer="sgd",
        learning_rate=0.05,
        batch_size=64,
        steps=600,
    ),
    levels={
        "none": None,
        "l1": {"class_name": "L1", "config": {"l1": 1e-4}},
        "l2": {"class_name": "L2", "config": {"l2": 1e-3}},
        "l1_l2": {"class_name": "L1L2", "config": {"l1": 1e-4, "l2": 1e-3}},
    },
)
