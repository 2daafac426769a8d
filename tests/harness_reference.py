"""The reference side of the harness tests: a forward pass written out by hand (matmuls, the activation,
batch normalization's formula, softmax cross-entropy) on copies of a model's initial weights, and one
plain `tf.GradientTape`. No Keras layer, loss or optimizer takes part in the reference computation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfbench.data.batches import train_batches
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.spec.setup import Setup

SEED = 3
RTOL = 1e-4
BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default
SATURATION_MARGIN = 0.01  # docs/design.md §5: within 1 % of the range from a bound

ACTIVATIONS = {
    "relu": lambda z: tf.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + tf.exp(-z)),
    "tanh": lambda z: (tf.exp(z) - tf.exp(-z)) / (tf.exp(z) + tf.exp(-z)),
}

BASE = Setup(depth=4, width=24, activation="relu", learning_rate=0.1, batch_size=32, steps=2, eval_every=2)


def layer_names(setup) -> list[str]:
    return [f"dense_{d}" for d in range(1, setup.depth + 1)] + ["output"]


def initial_weights(setup, data, seed):
    """(kernel, bias) per layer name, as numpy copies, from a freshly built model."""
    model = build_model(setup, data, seed, RecordPlan.for_mode(setup.steps, "full"))
    return {
        name: (model.net.get_layer(name).kernel.numpy().copy(), model.net.get_layer(name).bias.numpy().copy())
        for name in layer_names(setup)
    }


def batches(setup, data, seed):
    return [(x.numpy(), y.numpy()) for x, y in train_batches(data, setup.batch_size, setup.steps, seed)]


def brute_force(setup, weights, x, y, l2=0.0):
    """Hand-written forward pass and one plain tape: gradients, δ = d loss / d z, activations, losses."""
    names = layer_names(setup)
    kernels = {n: tf.Variable(weights[n][0]) for n in names}
    biases = {n: tf.Variable(weights[n][1]) for n in names}
    # BatchNormalization's initial scale and offset (ones, zeros): trainable, so part of the global norm.
    gammas = [tf.Variable(tf.ones([setup.width])) for _ in range(setup.depth)] if setup.batch_norm else []
    betas = [tf.Variable(tf.zeros([setup.width])) for _ in range(setup.depth)] if setup.batch_norm else []
    activate = ACTIVATIONS[setup.activation]
    with tf.GradientTape(persistent=True) as tape:
        h = tf.constant(x)
        zs, normalized, activated = [], [], []
        for i, name in enumerate(names[:-1]):
            z = tf.matmul(h, kernels[name]) + biases[name]
            zs.append(z)
            if setup.batch_norm:
                mean = tf.reduce_mean(z, axis=0)
                var = tf.reduce_mean(tf.square(z - mean), axis=0)
                z = (z - mean) / tf.sqrt(var + BN_EPSILON) * gammas[i] + betas[i]
                normalized.append(z)
            h = activate(z)
            activated.append(h)
        logits = tf.matmul(h, kernels["output"]) + biases["output"]
        zs.append(logits)
        data_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant(y), logits))
        reg_loss = l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels.values()])
        loss = data_loss + reg_loss
    every_variable = [*kernels.values(), *biases.values(), *gammas, *betas]
    all_grads = tape.gradient(loss, every_variable)

    def by_name(tensors):
        return {n: t.numpy() for n, t in zip(names, tensors, strict=True)}

    return {
        "names": names,
        "kernel_grads": by_name(tape.gradient(loss, list(kernels.values()))),
        "data_kernel_grads": by_name(tape.gradient(data_loss, list(kernels.values()))),
        "bias_grads": by_name(tape.gradient(loss, list(biases.values()))),
        "deltas": by_name(tape.gradient(loss, zs)),
        "normalized_deltas": [d.numpy() for d in tape.gradient(loss, normalized)] if normalized else [],
        "activated": {n: a.numpy() for n, a in zip(names[:-1], activated, strict=True)},
        "global_norm": float(np.sqrt(sum((g.numpy().astype(np.float64) ** 2).sum() for g in all_grads))),
        "loss": float(loss),
        "data_loss": float(data_loss),
        "logits": logits.numpy(),
    }


def norm(array) -> float:
    return float(np.linalg.norm(np.asarray(array, np.float64).ravel()))


def step_rows(result, step: int):
    layers = result.layers_table
    rows = layers[layers["step"] == step].set_index("layer")
    steps = result.steps_table.set_index("step").loc[step]
    return rows, steps
