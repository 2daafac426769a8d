"""SimpleRNN, LSTM and GRU recalling the sign of one marked input across 20 and 100 steps of noise.

Backpropagation through time multiplies one Jacobian per time step: in a SimpleRNN that is
diag(tanh′)·Wᵣ. The task (data "recall:T", Bengio et al.'s 2-sequence problem with a marker) feeds
N(0, 0.2) noise at every step: the SimpleRNN adds it into its state at every step, so the marked sign
fades from the state and the gradient back to it shrinks with the lag. The LSTM's cell state is
updated additively (c_t = f·c_{t−1} + i·g) and the GRU interpolates (h_t = z·h_{t−1} + (1 − z)·h̃),
with gates that depend on the input: they can learn to write at the marker and to hold otherwise,
and then the path back through time stays close to the identity whatever the noise.

At initialization the gates do not hold yet (the LSTM's forget gate starts near σ(1) ≈ 0.73, the
GRU's update gate near 0.5): they forget faster than the SimpleRNN's orthogonal Wᵣ. What makes the
long lags learnable is the short ones: the marked step is uniform over the sequence, the examples
with a short lag teach the gates to write at the marker and hold, and the hold then carries the sign
across the long lags. At T = 20 every cell learns, the gated ones in fewer updates (the budget stops
while the SimpleRNN is still climbing; it gets there after ~200 updates). At T = 100 the gated cells
learn and the SimpleRNN stays at chance. Adam at 0.01 finds the hold quickly; global_clipnorm=1
guards the hold, once found, against the large updates that follow. The input gradient at every time step
(timesteps.parquet, figure "input gradient vs time step") shows how far back each cell's loss
reaches, at the first update and after the last.
"""

from tfbench import Claim, Setup, Suite
from tfbench.sources import BENGIO_1994, CHO_2014, CHUNG_2014, HOCHREITER_1997, STUDY_NOTES, cite

CELLS = ["simple_rnn", "lstm", "gru"]


def _recurrent_suite(length: int, steps: int, claims: list[Claim]) -> Suite:
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
            global_clipnorm=1.0,
            batch_size=64,
            steps=steps,
        ),
        levels=CELLS,
        reference="simple_rnn",
        claims=claims,
    )


SHORT_CLAIMS = [
    Claim(
        text="Across 20 steps of noise the LSTM learns faster than the SimpleRNN:"
        " after the same updates its held-out metric is better",
        better="lstm",
        than="simple_rnn",
        source=HOCHREITER_1997,
    ),
    Claim(
        text="Across 20 steps of noise the GRU learns faster than the SimpleRNN:"
        " after the same updates its held-out metric is better",
        better="gru",
        than="simple_rnn",
        source=CHUNG_2014,
    ),
    Claim(
        text=""
        "Back through 20 time steps the SimpleRNN's input gradient stays within two decades at the end of training",
        variant="simple_rnn",
        verdict="healthy",
        at="end",
        source=BENGIO_1994,
    ),
]
LONG_CLAIMS = [
    Claim(
        text="Across 100 steps of noise the LSTM recalls the marked sign better than the SimpleRNN:"
        " a better final held-out metric",
        better="lstm",
        than="simple_rnn",
        source=cite(HOCHREITER_1997, STUDY_NOTES),
    ),
    Claim(
        text="Across 100 steps of noise the GRU recalls the marked sign better than the SimpleRNN:"
        " a better final held-out metric",
        better="gru",
        than="simple_rnn",
        source=CHO_2014,
    ),
    Claim(
        text=""
        "Back through 100 time steps the SimpleRNN's input gradient vanishes, and still does at the end of training",
        variant="simple_rnn",
        verdict="vanishing",
        at="end",
        source=BENGIO_1994,
    ),
]

# The short suite stops while the SimpleRNN is still learning (it gets there after ~200 updates),
# the long one gives the LSTM's slowest seeds time to find the marker.
SUITES = [_recurrent_suite(20, 60, SHORT_CLAIMS), _recurrent_suite(100, 400, LONG_CLAIMS)]
