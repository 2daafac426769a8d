"""Greedy layer-wise pretraining of an MLP's hidden layers (Hinton & Salakhutdinov 2006; Bengio et
al. 2007), applied to the built net before step 0 when `Setup.pretrain_steps` > 0.

For hidden layer l = 1 .. depth in turn, an autoencoder is trained to reconstruct that layer's input
(the training inputs for l = 1, the codes of layer l − 1 after its own pretraining otherwise):

    encoder  h = φ(x W + b)     W, b: layer l's initial kernel and bias, φ: the net's activation
    decoder  r = h V + c        V: glorot_uniform, c: zeros, seeded by (seed, l)
    loss     mean over batch and features of (r − x)²

with `pretrain_steps` plain SGD updates at `Setup.learning_rate` on batches of `Setup.batch_size` in an
order fixed by (seed, l). The trained W, b are then copied into layer l and the decoder is dropped.
The output layer keeps its random initialization; the ordinary training that follows is the
fine-tuning. Dropout is not applied while pretraining.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfbench.data.batches import batch_indices
from tfbench.models.layers import PRETRAIN, activation_layer, derived_seed


def decoder_initial_weights(seed: int, depth: int, units: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's initial (kernel [units, outputs], bias [outputs]) for the layer at `depth`."""
    initializer = keras.initializers.GlorotUniform(seed=derived_seed(seed, depth, PRETRAIN))
    return np.asarray(initializer((units, outputs)), dtype=np.float32), np.zeros(outputs, np.float32)


def pretraining_batches(n: int, setup, seed: int, depth: int) -> np.ndarray:
    """[pretrain_steps, batch_size] example indices for the autoencoder of the layer at `depth`."""
    return batch_indices(n, setup.batch_size, setup.pretrain_steps, derived_seed(seed, depth, PRETRAIN))


def pretrain_layers(hidden_layers: list, setup, x_train: np.ndarray, seed: int) -> None:
    """Pretrain each Dense layer of `hidden_layers` (input side first) in place; no-op when steps = 0."""
    if not setup.pretrain_steps:
        return
    activation = activation_layer(setup.activation, name="pretrain_activation")
    codes = tf.constant(np.asarray(x_train, np.float32).reshape(len(x_train), -1))
    for depth, layer in enumerate(hidden_layers, start=1):
        decoder = decoder_initial_weights(seed, depth, layer.kernel.shape[1], codes.shape[1])
        weights = [tf.Variable(v) for v in (layer.kernel.numpy(), layer.bias.numpy(), *decoder)]
        step = _sgd_step(weights, activation, setup.learning_rate)
        for indices in pretraining_batches(len(x_train), setup, seed, depth):
            step(tf.gather(codes, indices))
        layer.kernel.assign(weights[0])
        layer.bias.assign(weights[1])
        codes = activation(tf.matmul(codes, weights[0]) + weights[1])


def _sgd_step(weights: list, activation, learning_rate: float):
    kernel, bias, decoder_kernel, decoder_bias = weights

    @tf.function(autograph=False)
    def step(x):
        with tf.GradientTape() as tape:
            reconstruction = tf.matmul(activation(tf.matmul(x, kernel) + bias), decoder_kernel) + decoder_bias
            loss = tf.reduce_mean(tf.square(reconstruction - x))
        for variable, gradient in zip(weights, tape.gradient(loss, weights), strict=True):
            variable.assign_sub(learning_rate * gradient)
        return loss

    return step
