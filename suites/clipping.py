"""Gradient clipping under a learning rate at which plain SGD explodes (a 6-layer ReLU MLP on
teacher regression, lr 0.1: the unclipped run diverges within a few steps).

clipnorm=c rescales each variable's gradient to norm ≤ c on its own (the direction of the whole
update changes, since small layers keep their size while large ones shrink); global_clipnorm=c
rescales all gradients by one factor to global norm ≤ c (the direction is kept); clipvalue=c clips
every entry to [-c, c] (each entry on its own: the direction changes most). The recorded gradient
norms are those before clipping, so the figures show what each rule had to tame.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import PASCANU_2013, ROBUSTNESS, cite

NO_CLIP = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None}

SUITE = Suite(
    name="clipping",
    factor=("clipnorm", "clipvalue", "global_clipnorm"),
    question="Does gradient clipping stop plain SGD from exploding at a too-large learning rate, and which rule?",
    base=Setup(
        model="mlp",
        depth=6,
        width=64,
        activation="relu",
        initializer="he_normal",
        data="teacher",
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=64,
        steps=600,
    ),
    levels={
        "none": NO_CLIP,
        "clipnorm=0.1": {**NO_CLIP, "clipnorm": 0.1},
        "clipnorm=1": {**NO_CLIP, "clipnorm": 1.0},
        "clipnorm=10": {**NO_CLIP, "clipnorm": 10.0},
        "clipvalue=0.1": {**NO_CLIP, "clipvalue": 0.1},
        "clipvalue=1": {**NO_CLIP, "clipvalue": 1.0},
        "global_clipnorm=1": {**NO_CLIP, "global_clipnorm": 1.0},
    },
    reference="clipnorm=1",  # "none" diverges, which leaves nothing to pair the other rules against
    claims=[
        Claim(
            text="Plain SGD at this learning rate explodes: the loss diverges",
            variant="none",
            verdict="diverged",
            at="end",
            source=ROBUSTNESS,
        ),
        Claim(
            text="Clipping the gradient's norm keeps the same run stable: healthy at the end",
            variant="clipnorm=1",
            verdict="healthy",
            at="end",
            source=cite(PASCANU_2013, ROBUSTNESS),
        ),
        Claim(
            text="Clipping each gradient value keeps it stable too: healthy at the end",
            variant="clipvalue=1",
            verdict="healthy",
            at="end",
            source=ROBUSTNESS,
        ),
        Claim(
            text="Clipping the global norm of all gradients keeps it stable too: healthy at the end",
            variant="global_clipnorm=1",
            verdict="healthy",
            at="end",
            source=cite(PASCANU_2013, ROBUSTNESS),
        ),
    ],
)
