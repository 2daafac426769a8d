"""Three clipping rules at one threshold, on the exploding setup of suites/clipping.py (a 6-layer
ReLU MLP on teacher regression under SGD at lr 0.1, which diverges unclipped).

clipnorm=c rescales each variable's gradient to norm ≤ c on its own (the direction of the whole
update changes, since small layers keep their size while large ones shrink); global_clipnorm=c
rescales all gradients by one factor to global norm ≤ c (the direction is kept); clipvalue=c clips
every entry to [-c, c] (each entry on its own: the direction changes most).
"""

from tfbench import Setup, Suite

NO_CLIP = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None}

SUITE = Suite(
    name="clipping_style",
    factor=("clipnorm", "clipvalue", "global_clipnorm"),
    question="clipnorm, global_clipnorm or clipvalue: which clipping rule tames an exploding SGD run best?",
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
        "clipnorm=1": {**NO_CLIP, "clipnorm": 1.0},
        "global_clipnorm=1": {**NO_CLIP, "global_clipnorm": 1.0},
        "clipvalue=1": {**NO_CLIP, "clipvalue": 1.0},
        "clipvalue=0.1": {**NO_CLIP, "clipvalue": 0.1},
    },
    reference="global_clipnorm=1",  # "none" diverges, which leaves nothing to pair the other rules against
)
