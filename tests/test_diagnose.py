"""`diagnose` on a saved sigmoid model against a hand-written forward pass and a plain tape, and its
command line on bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfbench
from tfbench import cli
from tfbench.data.loading import load_data

DEPTH, WIDTH, BATCHES, BATCH = 10, 32, 3, 64
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A sigmoid MLP of depth 10 saved as .keras, and the digits training data as .npz."""
    folder = tmp_path_factory.mktemp("diagnose")
    digits = load_data("digits")
    x, y = digits.x_train[:300], digits.y_train[:300]  # 240 in the training split: 3 full batches
    np.savez(folder / "digits.npz", x_train=x, y_train=y)
    inputs = keras.Input((64,))
    h = inputs
    for depth in range(1, DEPTH + 1):
        init = keras.initializers.GlorotUniform(seed=depth)
        h = keras.layers.Dense(WIDTH, activation="sigmoid", kernel_initializer=init, name=f"hidden_{depth}")(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="head")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.save(folder / "sigmoid.keras")
    weights = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in model.layers[1:]]
    # The training split any tfbench command uses for this file: without x_test, a seeded 80 % in file order.
    split = load_data(str(folder / "digits.npz"))
    return folder, split.x_train, split.y_train, weights


def brute_force(weights, x, y):
    """Per-layer kernel-gradient and δ norms averaged over the batches, from one plain tape per batch."""
    kernels = [tf.Variable(k) for k, _ in weights]
    totals = np.zeros((2, len(weights)))
    for start in range(0, BATCHES * BATCH, BATCH):
        with tf.GradientTape() as tape:
            h, zs = tf.constant(x[start : start + BATCH]), []
            for i, (kernel, (_, bias)) in enumerate(zip(kernels, weights, strict=True)):
                zs.append(h @ kernel + bias)
                h = 1.0 / (1.0 + tf.exp(-zs[-1])) if i < len(weights) - 1 else zs[-1]
            labels = tf.constant(y[start : start + BATCH])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, h))
        grads = tape.gradient(loss, [*kernels, *zs])
        totals += [[np.linalg.norm(g.numpy()) for g in grads[: len(kernels)]],
                   [np.linalg.norm(g.numpy()) for g in grads[len(kernels) :]]]  # fmt: skip
    return totals / BATCHES


def test_diagnose_reports_vanishing_at_the_layers_the_tape_says(saved):
    folder, x, y, weights = saved
    kernel_norms, delta_norms = brute_force(weights, x, y)
    result = tfbench.diagnose(folder / "sigmoid.keras", str(folder / "digits.npz"), batches=BATCHES, batch_size=BATCH)
    layers = result.layers
    np.testing.assert_allclose(layers["kernel_grad_norm"], kernel_norms, rtol=1e-3)
    np.testing.assert_allclose(layers["act_grad_norm"], delta_norms, rtol=1e-3)
    # Decades against the last hidden layer; the larger magnitude of kernel and δ decides (docs/design.md §7).
    decades = [np.log10(n / n[DEPTH - 1]) for n in (kernel_norms, delta_norms)]
    decisive = np.where(np.abs(decades[0]) >= np.abs(decades[1]), decades[0], decades[1])
    expected = {f"hidden_{d + 1}" for d in range(DEPTH) if decisive[d] < -2}
    assert expected and expected != {f"hidden_{d}" for d in range(1, DEPTH + 1)}
    assert set(layers.loc[layers.verdict == "vanishing", "layer"]) == expected
    assert result.verdict == "vanishing" and result.batches == BATCHES
    assert any("sigmoid" in cause.text and "activation" in cause.suites for cause in result.causes)


def test_diagnose_gives_one_hot_labels_to_a_categorical_crossentropy_model(saved, tmp_path):
    """Integer labels in the file, a model compiled with categorical_crossentropy: the same gradients."""
    folder, x, y, weights = saved
    model = keras.saving.load_model(folder / "sigmoid.keras")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.save(tmp_path / "categorical.keras")
    kernel_norms, delta_norms = brute_force(weights, x, y)
    result = tfbench.diagnose(tmp_path / "categorical.keras", str(folder / "digits.npz"), batches=BATCHES,
                              batch_size=BATCH)  # fmt: skip
    np.testing.assert_allclose(result.layers["kernel_grad_norm"], kernel_norms, rtol=1e-3)
    np.testing.assert_allclose(result.layers["act_grad_norm"], delta_norms, rtol=1e-3)


def test_diagnose_leaves_the_weights_and_moving_statistics_alone(saved):
    folder, x, _, _ = saved
    layers = [keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.Activation("relu")]
    model = keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(10, activation="softmax")])
    before = [v.numpy().copy() for v in model.variables]
    result = tfbench.diagnose(model, str(folder / "digits.npz"), batches=2, batch_size=BATCH)
    for old, new in zip(before, model.variables, strict=True):
        np.testing.assert_array_equal(old, new.numpy())
    assert result.skipped == ""  # every layer that owns trainable weights has a row
    norm = result.layers.set_index("layer").loc["batch_normalization"]
    assert norm["weight"] == "gamma" and norm["kernel_grad_norm"] > 0 and norm["bias_grad_norm"] > 0
    assert np.isnan(norm["act_grad_norm"]) and norm["verdict"] == ""  # no pre-activation, not judged
    assert list(result.layers["depth"]) == [1, 2, 3]


def test_diagnose_command_prints_the_table_and_writes_the_page(saved, tmp_path, capsys):
    folder = saved[0]
    code = cli.main(["diagnose", str(folder / "sigmoid.keras"), "--data", str(folder / "digits.npz"),
                     "--batches", "2", "--out", str(tmp_path / "page")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "hidden_1" in out and "verdict: vanishing" in out and "likely cause: sigmoid" in out
    page = (tmp_path / "page" / "index.html").read_text()
    assert "hidden_10" in page and 'class="badge vanishing"' in page
    assert (tmp_path / "page" / "figures" / "norms.png").stat().st_size > 0


def future_keras_file(path: Path) -> Path:
    """A .keras archive as a newer Keras might write it: a layer class this Keras does not know."""
    config = {"module": "keras.layers", "class_name": "QuantumDense", "config": {"units": 3}, "registered_name": None}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "9.0.0", "date_saved": "2031-01-01"}))
        archive.writestr("config.json", json.dumps(config))
    return path


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "does not exist"),
        ("future", "cannot be loaded by Keras"),
        ("batches", "--batches: '0' is invalid: expected a positive integer"),
        ("no_x_train", "has no 'x_train'"),
        ("float_targets", "cannot compute its loss 'sparse_categorical_crossentropy' on the data"),
        ("too_many_classes", r"label 11 but model 'functional(_\d+)?' outputs 10 classes: expected labels 0\.\.9"),
    ],
)
def test_diagnose_bad_input_is_one_line_and_exit_2(saved, tmp_path, capsys, case, expected):
    folder = saved[0]
    model, data, extra = str(folder / "sigmoid.keras"), str(folder / "digits.npz"), []
    if case == "missing":
        model = str(tmp_path / "nothing.keras")
    elif case == "future":
        model = str(future_keras_file(tmp_path / "future.keras"))
    elif case == "batches":
        extra = ["--batches", "0"]
    elif case == "float_targets":  # regression targets for a classifier: the loss itself rejects them
        np.savez(tmp_path / "targets.npz", x_train=np.zeros((10, 64), np.float32), y_train=np.ones((10, 3), np.float32))
        data = str(tmp_path / "targets.npz")
    elif case == "too_many_classes":
        np.savez(tmp_path / "classes.npz", x_train=np.zeros((12, 64), np.float32), y_train=np.arange(12))
        data = str(tmp_path / "classes.npz")
    else:
        np.savez(tmp_path / "labels.npz", y_train=np.zeros(4, np.int32))
        data = str(tmp_path / "labels.npz")
    code = cli.main(["diagnose", model, "--data", data, "--out", str(tmp_path / "page"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and re.search(expected, err) and err.count("\n") == 1
    assert not (tmp_path / "page").exists()


@pytest.mark.parametrize("where", ["a_file", "under_a_file"])
def test_diagnose_out_that_cannot_be_a_folder_exits_2_before_measuring(saved, tmp_path, capsys, where):
    taken = tmp_path / "taken.html"
    taken.write_text("kept")
    out = taken if where == "a_file" else taken / "page"
    model = tmp_path / "never_loaded.keras"  # the --out check comes first: this missing file is not reached
    code = cli.main(["diagnose", str(model), "--data", str(saved[0] / "digits.npz"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"--out {str(out)!r} is a file or lies under one" in err
    assert taken.read_text() == "kept" and sorted(p.name for p in tmp_path.iterdir()) == ["taken.html"]


def test_corrupt_model_file_exits_2_with_one_line_in_a_real_process(saved, tmp_path):
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive")
    env = {**{k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "tfbench", "diagnose", str(corrupt), "--data",
                             str(saved[0] / "digits.npz")], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("tfbench: error: model file") and result.stderr.count("\n") == 1
    assert "cannot be loaded" in result.stderr and "Traceback" not in result.stderr
