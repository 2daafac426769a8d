"""SimpleRNN, LSTM and GRU on the adding problem at sequence lengths 50 and 100.

Backpropagation through time multiplies one Jacobian per time step: in a SimpleRNN that is
diag(tanh′)·Wᵣ, whose norm is below 1 for an orthogonal Wᵣ once tanh′ < 1, so the gradient reaching
the early inputs shrinks geometrically with their distance from the output. The LSTM's cell state is
updated additively (c_t = f·c_{t−1} + i·g) and the GRU interpolates (h_t = (1 − z)·h_{t−1} + z·h̃): with
gates near open the path back through time is close to the identity. The input gradient at every
time step (records timesteps.parquet, figure "input gradient vs time step") shows the difference;
the adding problem's target depends on one input in each half of the sequence.
"""

from tfbench import Setup, Suite

CELLS = ["simple_rnn", "lstm", "gru"]


def _recurrent_suite(length: int) -> Suite:
    return Suite(
        name=f"recurrent_{length}",
        factor="cell",
        question=f"Which recurrent cell carries the gradient back across {length} time steps?",
        base=Setup(
            model="rnn",
            depth=1,
            width=16,
            activation="tanh",
            initializer="glorot_uniform",
            data=f"adding:{length}",
            optimizer="adam",
            learning_rate=0.003,
            batch_size=64,
            steps=300,
        ),
        levels=CELLS,
        reference="simple_rnn",
    )


SUITES = [_recurrent_suite(50), _recurrent_suite(100)]
