"""The command line end to end (docs/design.md §6, §8): files written, progress, exit codes, one-line errors.

Every test runs `python -m tfbench` in a subprocess with TF_CPP_MIN_LOG_LEVEL unset, so the
silencing of TensorFlow's start-up notices is what is tested, not the environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from design_schema import LAYERS, RUNS, STEPS

from tfbench.records.kernel_rows import kernel_rows

REPO = Path(__file__).resolve().parents[1]
QUICK_STEPS = 30  # docs/design.md §8: quick = min(steps, 30) updates
TF_NOTICES = ("onednn", "cuda", "absl", "cpu_feature_guard", "tensorflow binary")

MANIFEST_KEYS = {
    "schema_version", "versions", "platform", "cpu", "command_line", "profile", "seeds", "started", "finished",
}  # fmt: skip


def tfbench(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "tfbench", *map(str, args)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def assert_quiet_stderr(result: subprocess.CompletedProcess) -> None:
    lowered = result.stderr.lower()
    assert not [n for n in TF_NOTICES if n in lowered], result.stderr
    assert result.stderr == "", result.stderr


def progress_lines(result: subprocess.CompletedProcess, suite: str) -> list[str]:
    """The run's progress lines of `suite`, each after its place: `[3/8] suite variant seed ...`."""
    return [line for line in result.stdout.splitlines() if re.match(rf"\[ *\d+/\d+\] {suite} ", line)]


def write_suite_file(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def shipped_suite(name: str):
    """The suite object as suites/NAME.py defines it, imported directly (the input, not tfbench's output)."""
    spec = importlib.util.spec_from_file_location(f"shipped_{name}", REPO / "suites" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SUITE


def read_records(folder: Path):
    runs = pd.read_csv(folder / "runs.csv", dtype={"variant": str, "level": str, "setup_hash": str})
    return runs, pd.read_parquet(folder / "steps.parquet"), pd.read_parquet(folder / "layers.parquet")


# --------------------------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def activation_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "out"
    result = tfbench("run", "activation", "--profile", "quick", "--out", out)
    return result, out


def test_run_exits_0_and_writes_every_record_file(activation_run):
    result, out = activation_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["activation", "claims.csv", "index.html", "manifest.json"]
    records_and_report = ["figures", "index.html", "layers.parquet", "runs.csv", "steps.parquet", "summary.csv"]
    assert sorted(p.name for p in (out / "activation").iterdir()) == sorted([*records_and_report, "summary.md"])
    assert f"report: {out / 'index.html'}" in result.stdout


def test_manifest_describes_the_run(activation_run):
    _, out = activation_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest) >= MANIFEST_KEYS
    assert manifest["schema_version"] == 1
    assert {"tfbench", "tensorflow", "keras", "python", "numpy"} <= set(manifest["versions"])
    assert manifest["profile"] == "quick"
    assert manifest["seeds"] == [0]  # quick = 1 seed
    assert manifest["calibration"]["reference_steps_per_s"] > 0 and manifest["calibration"]["workload"]
    assert manifest["finished"] is not None and manifest["finished"] >= manifest["started"]
    assert "activation" in manifest["command_line"] and "--profile quick" in manifest["command_line"]
    suite = manifest["suites"]["activation"]
    assert suite["factor"] == "activation" and suite["reference"] == "sigmoid"
    assert suite["levels"] == ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "prelu"]
    assert suite["question"].endswith("?")


def test_runs_csv_has_the_design_columns_and_one_row_per_level(activation_run):
    _, out = activation_run
    header = (out / "activation" / "runs.csv").read_text().splitlines()[0]
    assert header.split(",") == RUNS
    runs, _, _ = read_records(out / "activation")
    suite = shipped_suite("activation")
    assert runs["variant"].tolist() == list(suite.levels)  # string levels are their own labels
    assert set(runs["seed"]) == {0}
    assert set(runs["status"]) == {"ok"}
    assert (runs["steps"] == min(suite.base.steps, QUICK_STEPS)).all()
    assert runs["setup_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert runs["setup_hash"].is_unique


def test_step_and_layer_tables_have_the_design_columns(activation_run):
    _, out = activation_run
    _, steps, layers = read_records(out / "activation")
    assert list(steps.columns) == STEPS
    assert list(layers.columns) == LAYERS
    for table in (steps, layers):
        assert table["seed"].dtype == np.int64 and table["step"].dtype == np.int64
    assert layers["depth"].dtype == np.int64


def test_sigmoid_vanishes_and_relu_does_not(activation_run):
    _, out = activation_run
    runs, _, layers = read_records(out / "activation")
    verdicts = runs.set_index("variant")["verdict"]
    assert verdicts["sigmoid"] == "vanishing"
    assert verdicts["relu"] != "vanishing"
    # independently of tfbench's verdict code: sigmoid's step-0 kernel gradient at depth 1 is
    # more than two decades below the last hidden layer's (depth 10; 11 is the output layer)
    at_start = layers[(layers.step == 0) & (layers.variant == "sigmoid")].set_index("depth")["kernel_grad_norm"]
    assert np.log10(at_start[1] / at_start[10]) < -2
    assert runs.set_index("variant").loc["sigmoid", "log10_grad_ratio"] == pytest.approx(
        np.log10(at_start[1] / at_start[10]), rel=1e-6
    )


def test_steps_table_has_step_0_and_a_final_validation_row_per_variant(activation_run):
    _, out = activation_run
    runs, steps, _ = read_records(out / "activation")
    budget = min(shipped_suite("activation").base.steps, QUICK_STEPS)
    for variant in runs["variant"]:
        rows = steps[steps.variant == variant].set_index("step")
        assert np.isfinite(rows.loc[0, "loss"]), variant
        assert rows.index.max() == budget
        assert np.isfinite(rows.loc[budget, "val_loss"]) and np.isfinite(rows.loc[budget, "val_metric"])
        assert np.isnan(rows.loc[budget, "loss"])  # no batch `budget` ran: training columns are NaN
        assert rows.index.tolist() == list(range(budget + 1))


def test_layers_table_numbers_every_layer_1_to_depth_plus_1_at_each_recorded_step(activation_run):
    _, out = activation_run
    runs, _, layers = read_records(out / "activation")
    depth = shipped_suite("activation").base.depth  # 10 hidden layers + the output layer
    for (variant, step), rows in layers.groupby(["variant", "step"]):
        assert sorted(rows["depth"]) == list(range(1, len(rows) + 1)), (variant, step)  # every row, in order
        kernels = kernel_rows(rows)  # the kernel layers, as verdicts and figures number them
        assert sorted(kernels["depth"]) == list(range(1, depth + 2)), (variant, step)
        extra = len(rows) - len(kernels)
        assert extra == (depth if variant == "prelu" else 0), variant  # PReLU's alpha: one row per hidden layer
    for variant in runs["variant"]:
        recorded = layers[layers.variant == variant]["step"]
        assert recorded.min() == 0 and recorded.max() == QUICK_STEPS - 1  # standard mode: first and last step


def test_stdout_has_one_progress_line_per_variant_and_stderr_is_quiet(activation_run):
    result, _ = activation_run
    labels = list(shipped_suite("activation").levels)
    progress = progress_lines(result, "activation")
    places = [line.split("] ", 1)[0] + "]" for line in progress]
    assert places == [f"[{i}/{len(labels)}]" for i in range(1, len(labels) + 1)]
    assert [line.split("] ", 1)[1].split()[:2] for line in progress] == [["activation", label] for label in labels]
    runs, claims, report, done = result.stdout.splitlines()[-4:]
    assert runs.startswith(f"runs: {len(labels)} ok, 0 diverged, 0 failed")
    assert done.startswith("done in ")
    # One seed: the verdict claim is judged, each comparison claim is inconclusive by construction.
    stated = shipped_suite("activation").claims
    verdicts = sum(claim.kind == "verdict" for claim in stated)
    assert claims == f"claims: {verdicts}/{len(stated)} reproduced, {len(stated) - verdicts} inconclusive"
    assert report.startswith("report: ") and report.endswith("index.html")
    assert_quiet_stderr(result)


# --------------------------------------------------------------------------------------------- list, check


def test_list_prints_every_suite_with_its_factor_and_question():
    result = tfbench("list")
    assert result.returncode == 0, result.stderr
    assert_quiet_stderr(result)
    names = ["activation", "batchnorm", "clipping", "initializer", "optimizer", "regularization"]
    lines = result.stdout.splitlines()
    for name in names:
        suite = shipped_suite(name)
        factor = suite.factor if isinstance(suite.factor, str) else "+".join(suite.factor)
        matching = [line for line in lines if line.startswith(f"{name} ")]
        assert len(matching) == 1, (name, result.stdout)
        assert f"[{factor}]" in matching[0] and suite.question in matching[0]


def test_check_builds_every_variant_and_exits_0():
    result = tfbench("check", "activation", "--profile", "quick")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"all {len(shipped_suite('activation').levels)} variants of 1 suites" in result.stdout
    assert_quiet_stderr(result)


# --------------------------------------------------------------------------------------------- user suites

TINY = "Setup(depth=2, width=8, steps=6)"

USER_SUITE = f"""
    from tfbench import Setup, Suite

    SUITE = Suite(
        name="tiny",
        factor="learning_rate",
        question="Does a tiny MLP run from a user's file?",
        base={TINY},
        levels={{"0.05": 0.05, "1e-1": 0.1}},  # labels that look like numbers stay labels
    )
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    path = write_suite_file(folder, "tiny_suite", USER_SUITE)
    out = folder / "out"
    result = tfbench("run", path, "--profile", "quick", "--out", out, "--resume")
    return path, out, result


def test_user_suite_file_runs_and_exits_0(tiny_run):
    _, out, result = tiny_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert_quiet_stderr(result)
    runs, steps, layers = read_records(out / "tiny")
    assert runs["variant"].tolist() == ["0.05", "1e-1"]
    assert set(runs["status"]) == {"ok"} and set(runs["steps"]) == {6}
    assert sorted(layers["depth"].unique()) == [1, 2, 3]  # 2 hidden layers + output
    assert steps.groupby("variant")["step"].max().tolist() == [6, 6]
    assert len(progress_lines(result, "tiny")) == 2


def test_resume_keeps_finished_runs_and_leaves_records_identical(tiny_run):
    path, out, first = tiny_run
    assert first.returncode == 0, first.stderr
    before = read_records(out / "tiny")
    second = tfbench("run", path, "--profile", "quick", "--out", out, "--resume")
    assert second.returncode == 0, second.stdout + second.stderr
    assert_quiet_stderr(second)
    assert "0 ok, 0 diverged, 0 failed, 2 kept from an earlier run" in second.stdout
    assert not progress_lines(second, "tiny")  # nothing trained
    for old, new in zip(before, read_records(out / "tiny"), strict=True):
        pd.testing.assert_frame_equal(old, new)


DIVERGING_SUITE = """
    from tfbench import Setup, Suite

    SUITE = Suite(
        name="explode",
        factor="learning_rate",
        question="Does plain SGD at lr 1.0 diverge on teacher regression?",
        base=Setup(model="mlp", depth=6, width=64, activation="relu", initializer="he_normal", data="teacher",
                   optimizer="sgd", learning_rate=0.1, batch_size=64, steps=30),
        levels={"lr=1": 1.0},
    )
"""


def test_divergence_is_a_result_not_a_failure(tmp_path):
    path = write_suite_file(tmp_path, "explode_suite", DIVERGING_SUITE)
    result = tfbench("run", path, "--profile", "quick", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_quiet_stderr(result)
    runs, steps, _ = read_records(tmp_path / "out" / "explode")
    row = runs.iloc[0]
    assert (row["status"], row["verdict_end"]) == ("diverged", "diverged")
    assert 0 < row["steps"] < 30
    assert f"diverged at step {row['steps']}" in result.stdout
    # the records end at the first divergent step, checked against docs/design.md §7's rule by hand:
    # non-finite, or a loss beyond 1000 x the starting loss
    losses = steps.set_index("step")["loss"]
    assert losses.index.max() == row["steps"]
    last = losses[row["steps"]]
    assert not np.isfinite(last) or last > 1e3 * losses[0]
    earlier = losses.loc[: row["steps"] - 1]
    assert np.isfinite(earlier).all() and (earlier <= 1e3 * losses[0]).all()
