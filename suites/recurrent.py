"""SimpleRNN, LSTM and GRU recalling the sign of one marked input after up to 20 or 100 noise steps.

Backpropagation through time multiplies one Jacobian per time step: in a SimpleRNN that is
diag(tanh′)·Wᵣ. The task (data "recall:T") feeds N(0, 1) noise at every step, so the SimpleRNN's
state is rewritten at every step and its units sit where tanh′ < 1: the marked sign fades from the
state, and the gradient back to it shrinks geometrically, with the lag. The LSTM's cell state is
updated additively (c_t = f·c_{t−1} + i·g) and the GRU interpolates (h_t = z·h_{t−1} + (1 − z)·h̃) with
gates that depend on the input: they can learn to write at the marker and to hold otherwise, and then
the path back through time is close to the identity whatever the noise.

At initialization the gates do not hold yet (the LSTM's forget gate starts near σ(1) ≈ 0.73, the
GRU's update gate near 0.5), so what makes the long lags learnable is the short ones: the marked step
is uniform over the sequence, the examples with a short lag teach the gates to write and hold, and the
hold then carries the sign across the long lags. With a lag of at least T/2 for every example, no
cell learns within this budget. At T = 20 the SimpleRNN's fading memory is long enough and every
cell learns; at T = 100 only the gated cells do, the SimpleRNN stays at chance. The input gradient at
every time step (timesteps.parquet, figure "input gradient vs time step") shows how far back each
cell's loss reaches, at the first update and after the last.
"""

from tfbench import Claim, Setup, Suite

CELLS = ["simple_rnn", "lstm", "gru"]
ARTICLE_LSTM = "002_9bb3b31b075991cd.txt"  # 方案6-LSTM: its gates keep the gradient from vanishing
LSTM_PAPER = "Hochreiter & Schmidhuber 1997, Long short-term memory"
GRU_PAPER = "Cho et al. 2014, Learning phrase representations using RNN encoder-decoder"


def _recurrent_suite(length: int, claims: list[Claim]) -> Suite:
    return Suite(
        name=f"recurrent_{length}",
        factor="cell",
        question=f"Which recurrent cell recalls a marked sign across up to {length} time steps of noise?",
        base=Setup(
            model="rnn",
            depth=1,
            width=16,
            activation="tanh",
            initializer="glorot_uniform",
            data=f"recall:{length}",
            optimizer="adam",
            learning_rate=0.01,
            batch_size=64,
            steps=300,
        ),
        levels=CELLS,
        reference="simple_rnn",
        claims=claims,
    )


SHORT_CLAIMS = [
    Claim(
        text="Across 20 steps of noise the SimpleRNN's memory suffices: it recalls the marked sign almost "
        "as well as the LSTM (within 5 points of accuracy, not better)",
        better="lstm",
        than="simple_rnn",
        source=LSTM_PAPER,
    ),
]
LONG_CLAIMS = [
    Claim(
        text="Across 100 steps of noise the LSTM recalls the marked sign, the SimpleRNN stays at chance",
        better="lstm",
        than="simple_rnn",
        source=ARTICLE_LSTM,
    ),
    Claim(
        text="Across 100 steps of noise the GRU recalls the marked sign, the SimpleRNN stays at chance",
        better="gru",
        than="simple_rnn",
        source=GRU_PAPER,
    ),
]

SUITES = [_recurrent_suite(20, SHORT_CLAIMS), _recurrent_suite(100, LONG_CLAIMS)]
