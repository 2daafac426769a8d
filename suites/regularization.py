"""L1 / L2 weight penalties on a 10-layer tanh MLP whose initial weights are too large.

The kernels start at 32× LeCun's variance (VarianceScaling scale 32: Var(W) = 32/fan_in, std ≈ 0.7
on 64 inputs), which puts tanh in its chaotic phase: the pre-activations are large, yet enough units
sit on tanh's slope that each layer multiplies the squared norm of the backpropagated δ by
32·E[tanh′(z)²] ≈ 3, so the gradient grows ~0.25 decades per layer toward the input (+2.3 decades
at the first hidden layer: verdict "exploding").
SGD at lr 0.1 does not diverge, since tanh bounds every activation, but the big early-layer gradients
push the weights further out: without a penalty their summed norm grows ~30 % in 600 updates.

L2 (loss += λ·Σ W²) adds 2λW to each kernel gradient, so SGD shrinks every weight by the factor
(1 − 2ηλ) per step, a pull proportional to the weight: at λ = 1e-2 and η = 0.1 the time constant
is 1/(2ηλ) = 500 updates, within the run. It turns the growth into a shrink (summed norm ~ −60 %),
the gradient ratio at the end falls from ~+1 decade to ~+0.2, and held-out accuracy rises from ~0.47
to ~0.76. L1 (λ·Σ|W|) pulls every weight by the constant ηλ per step whatever its size: at λ = 1e-3
(a tenth of L2's λ, the usual ratio) that is 0.06 in 600 updates against weights of ~0.7, too weak to
stop the growth, so L1 alone barely restrains the large weights; L1L2 does as well as L2.

Biases are not penalized (Keras' kernel_regularizer), and the recorded loss includes the penalty, so
the penalized variants' final_loss is large by construction: compare them on accuracy.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import KROGH_1992, STUDY_NOTES

SUITE = Suite(
    name="regularization",
    factor="regularizer",
    question="Do L1 / L2 weight penalties restrain a deep tanh net whose too-large weights make gradients explode?",
    base=Setup(
        model="mlp",
        depth=10,
        width=64,
        activation="tanh",
        initializer={"class_name": "VarianceScaling", "config": {"scale": 32.0}},
        data="digits",
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=64,
        steps=600,
    ),
    levels={
        "none": None,
        "l1": {"class_name": "L1", "config": {"l1": 1e-3}},
        "l2": {"class_name": "L2", "config": {"l2": 1e-2}},
        "l1_l2": {"class_name": "L1L2", "config": {"l1": 1e-3, "l2": 1e-2}},
    },
    claims=[
        Claim(
            text="Initial weights that are too large make the gradients explode toward the input",
            variant="none",
            verdict="exploding",
            at="init",
            source=STUDY_NOTES,
        ),
        Claim(
            text="Against too large initial weights an L2 penalty trains the net better than none:"
            " a better final held-out metric",
            better="l2",
            than="none",
            source=STUDY_NOTES,
        ),
        Claim(
            text="Weight decay (L2) improves generalization: a better best held-out metric than no penalty",
            better="l2",
            than="none",
            on="best_metric",
            source=KROGH_1992,
        ),
        Claim(
            text="Against too large initial weights an L1+L2 penalty trains the net better than none:"
            " a better final held-out metric",
            better="l1_l2",
            than="none",
            source=STUDY_NOTES,
        ),
    ],
)
