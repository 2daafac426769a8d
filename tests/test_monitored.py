"""tfbench.monitored on users' own models, against the harness on the equivalent functional model.

The harness's numbers are themselves proved against a hand-written forward pass and a plain tape
(test_harness.py); here a subclassed and a Sequential model, given the harness model's initial
weights and fed the same batches, must record the same numbers through the user's own `fit`.
"""

from __future__ import annotations

import glob
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfbench
from tfbench.data.batches import train_batches
from tfbench.errors import TfbenchError
from tfbench.harness.build import build_model
from tfbench.harness.plan import RecordPlan
from tfbench.harness.train import train_run
from tfbench.records import store as records
from tfbench.records.schema import LAYER_MEASURES
from tfbench.report.html import write_report
from tfbench.spec.setup import Setup

SEED = 5
SETUP = Setup(depth=3, width=16, activation="tanh", learning_rate=0.1, batch_size=32, steps=4, eval_every=4)
NAMES = ["dense_1", "dense_2", "dense_3", "output"]


class Subclassed(keras.Model):
    """The harness's MLP written the way users write models: Dense layers with built-in activations."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.hidden = [keras.layers.Dense(SETUP.width, activation="tanh", name=n) for n in NAMES[:-1]]
        self.norm = keras.layers.LayerNormalization(name="unused_norm")  # weights but no kernel
        self.head = keras.layers.Dense(10, activation="softmax", name="output")

    def call(self, x, training=False):
        for layer in self.hidden:
            x = layer(x)
        return self.head(x)


@pytest.fixture(scope="module")
def harness(digits):
    """The harness on the functional model: initial weights and records of every step."""
    model = build_model(SETUP, digits, SEED, RecordPlan.for_mode(SETUP.steps, "full"))
    weights = {n: [w.numpy() for w in model.net.get_layer(n).weights] for n in NAMES}
    return weights, train_run(SETUP, SEED, mode="full")


def sequential(weights):
    layers = [keras.Input((64,))]
    layers += [keras.layers.Dense(SETUP.width, activation="tanh", name=n) for n in NAMES[:-1]]
    model = keras.Sequential([*layers, keras.layers.Dense(10, activation="softmax", name="output")])
    for name in NAMES:
        model.get_layer(name).set_weights(weights[name])
    return model


def subclassed(weights, digits):
    model = Subclassed()
    model(digits.x_train[:2])
    model.norm.build((None, 16))
    for layer in [*model.hidden, model.head]:
        layer.set_weights(weights[layer.name])
    return model


def fit(model, digits, **options):
    model.compile(optimizer=keras.optimizers.SGD(SETUP.learning_rate), loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor = tfbench.monitored(model, **options)
        monitor.fit(
            train_batches(digits, SETUP.batch_size, SETUP.steps, SEED),
            epochs=1,
            steps_per_epoch=SETUP.steps,
            verbose=0,
        )
    return monitor, [str(w.message) for w in caught]


def test_subclassed_model_records_what_the_harness_records_on_the_functional_model(harness, digits):
    weights, result = harness
    monitor, notes = fit(subclassed(weights, digits), digits, every=1)
    row, steps, layers = monitor.records()
    # every layer that owns trainable weights is watched; this one never runs, so it has no gradient
    assert any("unused_norm (not called in the forward pass)" in note for note in notes)
    assert monitor.skipped == {"unused_norm": "not called in the forward pass"}
    expected = result.layers_table.sort_values(["step", "depth"]).reset_index(drop=True)
    layers = layers.sort_values(["step", "depth"]).reset_index(drop=True)
    assert list(layers["layer"]) == list(expected["layer"])
    assert list(layers["step"]) == list(np.repeat(range(SETUP.steps), len(NAMES)))
    for column in LAYER_MEASURES:
        np.testing.assert_allclose(layers[column], expected[column], rtol=2e-4, atol=1e-7, err_msg=column)
    trained = result.steps_table.dropna(subset=["loss"])
    for column in ("loss", "metric", "global_grad_norm", "learning_rate"):
        np.testing.assert_allclose(steps[column], trained[column], rtol=2e-4, err_msg=column)
    assert row["verdict"] == "healthy" and row["steps"] == SETUP.steps


def test_sequential_model_with_a_layer_subset_every_other_step(harness, digits):
    weights, result = harness
    monitor, _ = fit(sequential(weights), digits, layers=["dense_2", "output"], every=2)
    _, _, layers = monitor.records()
    assert sorted(set(layers["step"])) == [0, 2]
    assert list(layers.drop_duplicates("layer")["depth"]) == [2, 4]  # depth counts every kernel layer
    expected = result.layers_table.set_index(["step", "layer"])
    for row in layers.itertuples():
        assert row.kernel_grad_norm == pytest.approx(expected.loc[(row.step, row.layer), "kernel_grad_norm"], rel=2e-4)
        assert row.act_grad_norm == pytest.approx(expected.loc[(row.step, row.layer), "act_grad_norm"], rel=2e-4)
    assert monitor.skipped == {"dense_1": "not in layers=", "dense_3": "not in layers="}


def test_second_fit_grows_the_buffers_and_keeps_earlier_steps(harness, digits, tmp_path):
    weights, _ = harness
    monitor, _ = fit(sequential(weights), digits, every=3)
    first = monitor.records()[2]
    monitor.fit(digits.x_train[:320], digits.y_train[:320], batch_size=32, epochs=2, verbose=0)  # 20 more steps
    row, steps, layers = monitor.records()
    assert list(steps["step"]) == list(range(24))
    assert sorted(set(layers["step"])) == list(range(0, 24, 3))
    kept = layers[layers.step < SETUP.steps].reset_index(drop=True)
    np.testing.assert_array_equal(kept[list(LAYER_MEASURES)], first[list(LAYER_MEASURES)])
    # The records are the suites' schema: the report renders them.
    folder = monitor.save_records(tmp_path, suite="mine", variant="tanh-mlp")
    saved = records.read_suite(folder)
    assert list(saved.layers.columns) == list(records.LAYER_COLUMNS)
    assert list(saved.steps.columns) == list(records.STEP_COLUMNS)
    assert saved.runs.loc[0, "variant"] == "tanh-mlp" and saved.runs.loc[0, "status"] == "ok"
    write_report(tmp_path)
    assert "tanh-mlp" in (tmp_path / "mine" / "index.html").read_text()


def test_bad_arguments_are_one_line_errors(digits):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(TfbenchError, match="every=0 is invalid"):
        tfbench.monitored(model, every=0)
    model.compile("sgd", "mse")
    monitor = tfbench.monitored(model, layers=["nope"])
    with pytest.raises(TfbenchError, match=r"layers=\['nope'\].*expected names among \['dense"):
        monitor.fit(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)


def events(folder) -> dict[str, dict[int, object]]:
    """tag -> step -> tensor proto, read back with TensorFlow's own event reader."""
    found: dict[str, dict[int, object]] = {}
    for path in glob.glob(f"{folder}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, {})[event.step] = (value.metadata.plugin_data.plugin_name, value.tensor)
    return found


def test_tensorboard_events_of_the_monitor_hold_histograms_and_scalars_at_recorded_steps(harness, digits, tmp_path):
    weights, result = harness
    monitor, _ = fit(sequential(weights), digits, every=2, tensorboard=tmp_path / "tb")
    found = events(tmp_path / "tb")
    for name in NAMES:
        for tag in (f"gradients/{name}", f"delta/{name}", f"weights/{name}"):
            assert set(found[tag]) == {0, 2} and found[tag][0][0] == "histograms"
        assert found[f"kernel_grad_norm/{name}"][0][0] == "scalars"
    assert set(found["loss"]) == {0, 2}
    # A histogram counts every entry of the tensor; the scalar is the recorded value.
    counts = tf.make_ndarray(found["gradients/dense_1"][0][1])[:, 2]
    assert counts.sum() == 64 * SETUP.width
    expected = result.layers_table.set_index(["step", "layer"]).loc[(2, "dense_2"), "kernel_grad_norm"]
    assert float(tf.make_ndarray(found["kernel_grad_norm/dense_2"][2][1])) == pytest.approx(expected, rel=2e-4)


def test_run_with_tensorboard_writes_one_run_directory_per_suite_variant_seed(tmp_path):
    suite_file = tmp_path / "tiny.py"
    suite_file.write_text(
        "from tfbench import Setup, Suite\n"
        "SUITE = Suite(name='tiny', factor='activation', question='?', levels=['relu', 'tanh'],\n"
        "              base=Setup(depth=2, width=8, steps=4, eval_every=2, batch_size=16, batch_norm=True))\n"
    )
    tfbench.run([str(suite_file)], profile="quick", seeds=1, out=tmp_path / "out", log=lambda line: None,
                monitor="full", tensorboard=tmp_path / "tb")  # fmt: skip
    for variant in ("relu", "tanh"):
        found = events(tmp_path / "tb" / "tiny" / variant / "seed_0")
        assert set(found["gradients/dense_1"]) == {0, 1, 2, 3}
        assert {"delta/output", "weights/dense_2", "dead_fraction/dense_2", "global_grad_norm"} <= set(found)
        # a layer without a kernel: its gamma as the main weight, no δ
        assert {"gradients/batch_norm_1", "weights/batch_norm_1", "kernel_grad_norm/batch_norm_1"} <= set(found)
        assert "delta/batch_norm_1" not in found


def small_classifier() -> keras.Model:
    keras.utils.set_random_seed(SEED)
    hidden = keras.layers.Dense(SETUP.width, activation="tanh", name="hidden")
    return keras.Sequential([keras.Input((64,)), hidden, keras.layers.Dense(10, activation="softmax", name="output")])


def numpy_accuracy_and_loss(model, x, labels) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of the model's probabilities, in numpy."""
    probabilities = model(x).numpy()
    accuracy = float(np.mean(np.argmax(probabilities, axis=-1) == labels))
    return accuracy, float(-np.mean(np.log(probabilities[np.arange(len(labels)), labels])))


@pytest.mark.parametrize("change", ["assign", "set_weights"])
def test_first_recorded_step_after_the_kernels_changed_between_fits_measures_the_new_kernels(digits, change):
    model = small_classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    monitor = tfbench.monitored(model, every=1)
    x, y = digits.x_train[:64], digits.y_train[:64]
    monitor.fit(x, y, batch_size=32, verbose=0, shuffle=False)  # steps 0 and 1
    kernel = model.get_layer("hidden").kernel
    if change == "assign":
        kernel.assign(10 * kernel)
    else:
        model.set_weights([10 * w if w.shape == tuple(kernel.shape) else w for w in model.get_weights()])
    before = {name: model.get_layer(name).kernel.numpy() for name in ("hidden", "output")}
    monitor.fit(x[:32], y[:32], batch_size=32, verbose=0)  # step 2
    _, _, layers = monitor.records()
    step = layers[layers.step == 2].set_index("layer")
    for name, old in before.items():
        new = model.get_layer(name).kernel.numpy()
        assert step.loc[name, "kernel_norm"] == pytest.approx(np.linalg.norm(old), rel=1e-5)
        ratio = np.linalg.norm(new - old) / np.linalg.norm(old)
        assert step.loc[name, "update_ratio"] == pytest.approx(ratio, rel=1e-3)


@pytest.mark.parametrize("task", [None, "classification"])
def test_one_hot_labels_and_categorical_crossentropy_record_the_accuracy(digits, task):
    """The Keras tutorials' setup: to_categorical labels, categorical_crossentropy."""
    model = small_classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
    x, labels = digits.x_train[:64], digits.y_train[:64]
    one_hot = keras.utils.to_categorical(labels, 10)
    at_start, _ = numpy_accuracy_and_loss(model, x, labels)
    monitor = tfbench.monitored(model, every=1, task=task)
    monitor.fit(x, one_hot, batch_size=64, verbose=0)
    _, steps, _ = monitor.records()
    assert monitor.metric_name == "accuracy" and 0 < at_start < 1
    assert steps.loc[0, "metric"] == pytest.approx(at_start, abs=1e-6)
    evaluated = monitor.evaluate(x, one_hot, batch_size=16, verbose=0, return_dict=True)
    accuracy, loss = numpy_accuracy_and_loss(model, x, labels)
    assert evaluated["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert evaluated["loss"] == pytest.approx(loss, rel=1e-5)


def test_evaluate_and_predict_work_before_the_first_fit_and_after_it(digits):
    model = small_classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    monitor = tfbench.monitored(model)
    x, labels = digits.x_train[:64], digits.y_train[:64]
    np.testing.assert_allclose(monitor.predict(x, verbose=0), model(x).numpy(), rtol=1e-6)
    results = []
    for _ in range(2):  # before and after a fit: the same running means serve both
        evaluated = monitor.evaluate(x, labels, batch_size=16, verbose=0, return_dict=True)
        accuracy, loss = numpy_accuracy_and_loss(model, x, labels)
        assert evaluated["accuracy"] == pytest.approx(accuracy, abs=1e-6)
        assert evaluated["loss"] == pytest.approx(loss, rel=1e-5)
        results.append(loss)
        monitor.fit(x, labels, batch_size=16, epochs=2, verbose=0)
    assert results[1] < results[0]  # the fit in between changed the model
