"""The gradient of the loss with respect to the input at every time step of a recurrent model: how
much the loss still depends on the first inputs of a sequence (the RNN picture of vanishing).

Computed by its own traced function, outside `train_step`, on two steps only, so training pays
nothing for it: step 0 (the initial weights, batch 0) and step N = `Setup.steps` (the final weights,
on batch N of the seeded stream: the batch the next update would see). Dropout is off
(training=False). A Keras recurrent layer with dropout still advances its seed generator on every
call, so the generators' states are restored afterwards: the run's dropout masks stay those of a
run without this measurement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf

from tfbench.data.batches import batch_indices


class InputGradients:
    """‖∂L/∂x[:, t, :]‖ per time step t for one model: L the batch-mean loss as compiled, the L2 norm
    taken over the batch and the input features together."""

    def __init__(self, model, data, batch_size: int, seed: int):
        self.model = model
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        # Traced once per model: a model reused by later runs keeps it with its other traced functions.
        if getattr(model, "input_gradient_norms", None) is None:
            model.input_gradient_norms = tf.function(self.norms, autograph=False)
        self._norms = model.input_gradient_norms

    def norms(self, x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y_pred = self.model(x, training=False)
            loss = self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        gradient = tape.gradient(loss, x)  # [batch, time, features]
        # Squared in float64: in float32 an entry below 1e-19 squares to zero, and the gradient that
        # reaches the first inputs of a long sequence can be far smaller (a GRU's, at initialization).
        gradient = tf.cast(gradient, tf.float64)
        return tf.sqrt(tf.reduce_sum(tf.square(gradient), axis=[0, 2]))

    def table(self, step: int) -> pd.DataFrame:
        """Rows (step, timestep, input_grad_norm) on batch `step` of the seed's stream; timestep 0 is
        the first input of the sequence."""
        n = len(self.data.x_train)
        indices = batch_indices(n, self.batch_size, step + 1, self.seed)[step]
        x = tf.constant(self.data.x_train[indices])
        y = tf.constant(self.data.y_train[indices])
        seed_states = [v for v in self.model.variables if "seed_generator_state" in v.path]
        saved = [v.numpy() for v in seed_states]
        norms = self._norms(x, y).numpy().astype(np.float64)
        for variable, value in zip(seed_states, saved, strict=True):
            variable.assign(value)
        return pd.DataFrame(
            {"step": np.int64(step), "timestep": np.arange(len(norms), dtype=np.int64), "input_grad_norm": norms}
        )
