"""Every trainable variable of real architectures is monitored (docs/design.md §5): keras.applications
MobileNetV2, ResNet50V2 and EfficientNetB0 (weights=None) and a one-block Transformer. Checked
against a plain GradientTape on the same batch: each layer's kernel and bias gradient norms, and —
so that no variable can go unmonitored — the sum of all rows' squared norms against the squared
global gradient norm over `model.trainable_variables`."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfbench

BATCH = 16
# Gradients that are zero in exact arithmetic come out as rounding noise: an attention key projection's
# bias (softmax ignores a shift shared by all keys), the beta of a BatchNormalization whose output the
# next BatchNormalization re-centres. They are compared with an absolute floor, this share of the
# model's global gradient norm.
FLOOR = 1e-7


def mobilenet_v2():
    return keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10)


def resnet50_v2():
    return keras.applications.ResNet50V2(input_shape=(32, 32, 3), weights=None, classes=10)


def efficientnet_b0():
    model = keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None, classes=10)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0  # no random masks, so a tape sees the step's exact forward pass
    return model


class TokensAndPositions(keras.layers.Layer):
    """Token embedding plus a learned embedding of each position: two nested Embeddings."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(50, 16, name="tokens")
        self.positions = keras.layers.Embedding(16, 16, name="positions")

    def call(self, x):
        return self.tokens(x) + self.positions(keras.ops.arange(keras.ops.shape(x)[-1]))


def transformer():
    inputs = keras.Input((16,), dtype="int32")
    x = TokensAndPositions(name="embedding")(inputs)
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, name="attention")(x, x)
    x = keras.layers.LayerNormalization(name="norm_1")(x + attended)
    hidden = keras.layers.Dense(32, activation="relu", name="ffn_1")(x)
    x = keras.layers.LayerNormalization(name="norm_2")(x + keras.layers.Dense(16, name="ffn_2")(hidden))
    outputs = keras.layers.Dense(10, activation="softmax", name="head")(keras.layers.GlobalAveragePooling1D()(x))
    return keras.Model(inputs, outputs)


def batch(model):
    rng = np.random.default_rng(0)
    shape = (BATCH, *model.input_shape[1:])
    x = rng.integers(0, 16, size=shape).astype("int32") if model.input.dtype == "int32" else rng.uniform(size=shape)
    return x.astype(model.input.dtype), rng.integers(0, 10, size=BATCH)


def tape_norms(model, x, y):
    """{variable path: L2 norm of its gradient} at the current weights, with a plain tape, traced as the
    train step is (eager and traced BatchNormalization gradients differ by rounding, which these
    untrained networks amplify)."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]

    return {v.path: float(tf.norm(g)) for v, g in zip(model.trainable_variables, gradients(), strict=True)}


def recorded_step_0(build):
    """The model, its monitor, the recorded layers table and the tape's norms. Built in float64: these
    untrained networks' gradients are large and partly cancel (BatchNormalization), so in float32 two
    traced computations of the same gradient differ by up to 0.1 % in the order they sum terms."""
    keras.utils.set_random_seed(0)
    saved = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        model = build()
    finally:
        keras.config.set_floatx(saved)
    x, y = batch(model)
    weights = [v.numpy() for v in model.variables]
    expected = tape_norms(model, x, y)
    for variable, value in zip(model.variables, weights, strict=True):  # BatchNormalization's statistics
        variable.assign(value)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    monitor = tfbench.monitored(model, every=1)
    monitor.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    _, _, layers = monitor.records()
    return model, monitor, layers, expected


def owner_norms(model, expected: dict, name: str) -> tuple[float, float]:
    """(main, bias) gradient norms of one layer's own variables, from the tape's per-variable norms."""
    layer = next(layer for layer in model._flatten_layers() if layer.name == name)
    nested = {id(v) for sub in layer._flatten_layers(include_self=False) for v in sub.trainable_weights}
    own = [v for v in layer.trainable_weights if id(v) not in nested or isinstance(layer, keras.layers.RNN)]
    biases = [v for v in own if v.name in ("bias", "beta")]
    main = [v for v in own if v.name not in ("bias", "beta")]
    total = lambda vs: float(np.sqrt(sum(expected[v.path] ** 2 for v in vs))) if vs else float("nan")  # noqa: E731
    return total(main), total(biases)


def check(build):
    model, monitor, layers, expected = recorded_step_0(build)
    assert monitor.skipped == {}
    start = layers[layers["step"] == 0]
    assert start["depth"].tolist() == list(range(1, len(start) + 1))
    recorded = np.nansum(start["kernel_grad_norm"] ** 2) + np.nansum(start["bias_grad_norm"] ** 2)
    total = sum(n**2 for n in expected.values())
    assert recorded == pytest.approx(total, rel=1e-4)
    floor = FLOOR * np.sqrt(total)
    for row in start.itertuples():
        main, bias = owner_norms(model, expected, row.layer)
        assert row.kernel_grad_norm == pytest.approx(main, rel=1e-4, abs=floor), row.layer
        if not np.isnan(bias):
            assert row.bias_grad_norm == pytest.approx(bias, rel=1e-4, abs=floor), row.layer
    return start


@pytest.mark.slow  # with the other keras.applications models: .ci/run runs them in its slow step
def test_mobilenet_v2_every_layer_with_weights_has_a_row():
    start = check(mobilenet_v2)
    norms = start[start["weight"] == "gamma"]
    assert len(norms) == 52  # every BatchNormalization
    assert norms["act_grad_norm"].isna().all() and norms["dead_fraction"].isna().all()
    assert len(start) == 105  # every layer that owns trainable weights: 53 convolutions and the head, 52 norms


def test_transformer_embeddings_norms_and_attention_projections_have_rows():
    start = check(transformer)
    rows = dict(zip(start["layer"], start["weight"], strict=True))
    assert rows["tokens"] == rows["positions"] == "embeddings"
    assert rows["norm_1"] == rows["norm_2"] == "gamma"
    assert {"query", "key", "value", "attention_output"} <= set(rows)  # MultiHeadAttention's projections


@pytest.mark.slow
@pytest.mark.parametrize("build", [resnet50_v2, efficientnet_b0])
def test_larger_applications_every_layer_with_weights_has_a_row(build):
    check(build)


@pytest.mark.parametrize("options", [{"batch_norm": True}, {"activation": "prelu"}])
def test_harness_models_monitor_batch_norm_and_prelu_weights(options):
    """The harness's own models: BatchNormalization and PReLU rows, and together with the kernel
    layers' rows they hold the whole gradient (the step's global norm, computed over every variable)."""
    from tfbench.harness.train import train_run
    from tfbench.spec.setup import Setup

    setup = Setup(depth=3, width=16, steps=2, eval_every=1, **options)
    result = train_run(setup, 0, mode="full")
    start = result.layers_table[result.layers_table["step"] == 0]
    extra = start[~start["weight"].str.contains("kernel")]
    assert len(extra) == 3 and extra["act_grad_norm"].isna().all()
    assert set(extra["weight"]) == ({"gamma"} if options.get("batch_norm") else {"alpha"})
    assert start["depth"].tolist() == list(range(1, 8))  # 4 kernel layers and 3 others, in forward order
    recorded = np.nansum(start["kernel_grad_norm"] ** 2) + np.nansum(start["bias_grad_norm"] ** 2)
    global_norm = result.steps_table.set_index("step").at[0, "global_grad_norm"]
    assert np.sqrt(recorded) == pytest.approx(global_norm, rel=1e-5)


@pytest.mark.slow  # a MobileNetV2 saved and diagnosed: about 25 s; in .ci/run's slow step
def test_diagnose_of_a_saved_mobilenet_v2_has_a_row_for_every_layer_with_weights(tmp_path):
    model, _, _, _ = recorded_step_0(mobilenet_v2)
    model.save(tmp_path / "mobilenet_v2.keras")
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(2 * BATCH, 32, 32, 3))
    labels = rng.integers(0, 10, size=2 * BATCH)
    np.savez(tmp_path / "images.npz", x_train=images[:BATCH], y_train=labels[:BATCH], x_test=images[BATCH:],
             y_test=labels[BATCH:])  # fmt: skip
    loaded = keras.saving.load_model(tmp_path / "mobilenet_v2.keras")
    expected = tape_norms(loaded, images[:BATCH].astype(loaded.input.dtype), labels[:BATCH])
    result = tfbench.diagnose(tmp_path / "mobilenet_v2.keras", str(tmp_path / "images.npz"), batches=1,
                              batch_size=BATCH)  # fmt: skip
    assert result.skipped == "" and len(result.layers) == 105
    recorded = np.nansum(result.layers["kernel_grad_norm"] ** 2) + np.nansum(result.layers["bias_grad_norm"] ** 2)
    assert recorded == pytest.approx(sum(n**2 for n in expected.values()), rel=1e-4)
    assert set(result.layers.loc[result.layers["weight"] == "gamma", "verdict"]) == {""}  # judged: kernels only
