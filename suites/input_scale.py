"""Scale of the inputs of a 5-layer tanh MLP on digits: raw pixels, standardized, standardized with outliers.

Raw digits pixels run from 0 to 16, so the first layer's pre-activations are an order of magnitude
larger than with standardized inputs: its tanh units saturate (φ′ ≈ 0) and the signal reaching the
input side shrinks. The first layer's kernel gradient is xᵀδ, proportional to the input's size, so the
kernel and δ columns tell different stories. A few huge entries ("digits:outliers": 1 % of the
standardized entries times 50, see tfbench/data/digits.py) saturate the units they hit and
dominate the gradient of the batches they fall in.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import CAUSES, LECUN_1998, cite

SUITE = Suite(
    name="input_scale",
    factor="data",
    question="Do unscaled inputs or outliers saturate a tanh net and distort its gradients?",
    base=Setup(
        model="mlp",
        depth=5,
        width=32,
        activation="tanh",
        initializer="glorot_uniform",
        data="digits",
        optimizer="sgd",
        learning_rate=0.05,
        batch_size=64,
        steps=300,
    ),
    levels={"raw": "digits:raw", "standardized": "digits", "outliers": "digits:outliers"},
    reference="standardized",
    claims=[
        Claim(
            text="Standardized inputs train better than inputs with outliers that saturate the first layer",
            better="standardized",
            than="outliers",
            source=cite(LECUN_1998, CAUSES),
        ),
    ],
)
