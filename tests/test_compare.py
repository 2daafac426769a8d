"""`tfbench compare`: identical folders pass, planted regressions are named, the tolerance arithmetic
matches a hand computation, and bad input is one line with exit code 2."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tfbench_cli import BASELINE, ROOT, cli

from tfbench.compare.comparison import compare
from tfbench.compare.tolerance import half_width
from tfbench.errors import TfbenchError
from tfbench.records import store as records


def baseline_variants() -> int:
    """How many (suite, variant) pairs the committed baseline holds, counted from its files."""
    return sum(records.read_runs(BASELINE / name).variant.nunique() for name in records.suite_names(BASELINE))


def claims_about(suite: str, label: str) -> list[str]:
    """The texts of the claims BASE's manifest keeps for `suite` that name the variant `label`."""
    manifest = json.loads((BASELINE / records.MANIFEST_FILE).read_text())
    stated = manifest["suites"][suite]["claims"]
    return [c["text"] for c in stated if label in (c.get("variant"), c.get("better"), c.get("than"))]


def edit_runs(folder: Path, suite: str, label: str, **changes) -> None:
    """Set columns of one variant's rows in a copied runs.csv (the planted change)."""
    runs = records.read_runs(folder / suite)
    rows = runs.variant == label
    assert rows.any(), f"{suite}/{label} is not in the baseline"
    for column, value in changes.items():
        runs.loc[rows, column] = value(runs.loc[rows, column]) if callable(value) else value
    runs.to_csv(folder / suite / records.RUNS_FILE, index=False)


def edit_manifest(folder: Path, edit) -> None:
    manifest = json.loads((folder / records.MANIFEST_FILE).read_text())
    edit(manifest)
    (folder / records.MANIFEST_FILE).write_text(json.dumps(manifest))


@pytest.fixture
def current(tmp_path) -> Path:
    """A copy of the committed baseline (real quick-profile records) to plant changes in."""
    return Path(shutil.copytree(BASELINE, tmp_path / "current"))


def hand_built(folder: Path, rows: list[dict], reference: float | None = 1000.0, tolerances=None) -> Path:
    """A run folder from rows of (variant, seed, final_metric, ...); the other columns get plain values."""
    defaults = {"suite": "toy", "factor": "activation", "level": "x", "status": "ok", "verdict": "healthy",
                "verdict_end": "healthy", "steps": 30, "metric_name": "accuracy", "final_loss": 1.0,
                "best_metric": 0.9, "log10_grad_ratio": 0.0, "log10_delta_ratio": 0.0, "wall_s": 1.0,
                "steps_per_s": 500.0, "setup_hash": "h", "error": ""}  # fmt: skip
    runs = pd.DataFrame([{**defaults, **row} for row in rows]).reindex(columns=list(records.RUN_COLUMNS))
    (folder / "toy").mkdir(parents=True)
    runs.to_csv(folder / "toy" / records.RUNS_FILE, index=False)
    manifest = {"schema_version": 1, "suites": {"toy": {"tolerances": tolerances or {}}}}
    if reference:
        manifest["calibration"] = {"reference_steps_per_s": reference, "workload": "test"}
    (folder / records.MANIFEST_FILE).write_text(json.dumps(manifest))
    return folder


def seeds(variant: str, values: list[float], **extra) -> list[dict]:
    return [{"variant": variant, "seed": s, "final_metric": v, **extra} for s, v in enumerate(values)]


def test_identical_folders_exit_0_with_no_regression(tmp_path):
    result = cli("compare", BASELINE, BASELINE, "--markdown", tmp_path / "pr.md")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == f"compare: 0 regressions in {baseline_variants()} variants compared; 0 new, 0 missing"
    )
    assert "REGRESSION" not in result.stdout
    assert "0 regressions" in (tmp_path / "pr.md").read_text()


def test_planted_regressions_are_each_flagged_and_named(current, tmp_path):
    edit_runs(current, "activation", "tanh", final_metric=lambda v: v - 0.10)  # a metric drop
    edit_runs(current, "initializer", "he_normal", verdict="vanishing")  # a verdict flip
    edit_runs(current, "optimizer", "adam", steps_per_s=lambda v: v / 2)  # same machine, half the speed
    edit_runs(current, "clipping", "clipnorm=1", status="failed", verdict="", verdict_end="")  # ok -> failed
    result = cli("compare", BASELINE, current, "--markdown", tmp_path / "pr.md")
    assert result.returncode == 1, result.stderr
    expected = {"activation/tanh": "final_metric", "initializer/he_normal": "verdict",
                "optimizer/adam": "speed", "clipping/clipnorm=1": "verdict"}  # fmt: skip
    # A failed variant leaves its suite's claims about it without a seed to judge: unavailable.
    unjudged = claims_about("clipping", "clipnorm=1")
    lines = [line for line in result.stdout.splitlines() if line.startswith("regression: ")]
    assert sorted(line.split(": ")[1] for line in lines) == sorted([*expected, *["clipping claim"] * len(unjudged)])
    for name, what in expected.items():
        assert any(line.startswith(f"regression: {name}: {what}") for line in lines), (name, lines)
    for text in unjudged:
        assert f"regression: clipping claim: {text!r}: reproduced -> unavailable" in lines, (text, lines)
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"compare: {len(expected) + len(unjudged)} regressions (")
    assert summary.endswith(f"in {baseline_variants()} variants compared; 0 new, 0 missing")
    markdown = (tmp_path / "pr.md").read_text()
    assert all(f"| {name} |" in markdown for name in expected)


def test_a_slower_machine_is_not_a_slowdown_once_speed_is_normalized(current):
    edit_manifest(current, lambda m: m["calibration"].update(reference_steps_per_s=m["calibration"]
                                                              ["reference_steps_per_s"] / 2))  # fmt: skip
    for suite in records.suite_names(current):
        runs = records.read_runs(current / suite)
        runs.assign(steps_per_s=runs.steps_per_s / 2).to_csv(current / suite / records.RUNS_FILE, index=False)
    assert cli("compare", BASELINE, current).returncode == 0
    edit_manifest(current, lambda m: m.pop("calibration"))  # a baseline made before calibration existed
    raw = cli("compare", BASELINE, current)
    assert raw.returncode == 1 and "raw steps/s" in raw.stdout
    assert "regression: optimizer/adam: speed" in raw.stdout
    assert cli("compare", BASELINE, current, "--fail-on", "speed:off").returncode == 0


def test_tolerance_is_the_t_interval_of_base_seeds_or_the_floor(tmp_path):
    # BASE: 3 seeds, mean 0.82, sample sd 0.02. Student's t with 2 degrees of freedom has the closed
    # form t_p = (2p - 1) / sqrt(2 p (1 - p)); with 1 degree of freedom t_p = tan(pi (p - 1/2)).
    t2 = 0.95 / math.sqrt(2 * 0.975 * 0.025)
    expected = t2 * 0.02 * math.sqrt(1 / 3 + 1 / 3)  # = 0.0702626...
    assert expected == pytest.approx(0.0702626, abs=1e-6)
    assert half_width(0.02, 3, 3) == pytest.approx(expected, rel=1e-9)
    assert half_width(0.5, 2, 4) == pytest.approx(math.tan(math.pi * 0.475) * 0.5 * math.sqrt(1 / 2 + 1 / 4))
    assert half_width(0.3, 1, 5) == 0.0  # one BASE seed: no spread to estimate, the floor decides
    base = hand_built(tmp_path / "base", seeds("a", [0.80, 0.84, 0.82]) + seeds("b", [0.80, 0.84, 0.82]))
    # a: mean drops 0.065 (beyond the 0.02 floor, inside the CI); b: drops 0.075 (beyond both)
    cur = hand_built(tmp_path / "cur", seeds("a", [0.735, 0.775, 0.755]) + seeds("b", [0.725, 0.765, 0.745]))
    comparison = compare(base, cur)
    final = comparison.changes[comparison.changes.quantity == "final_metric"].set_index("variant")
    assert final.loc["a", "tolerance"] == pytest.approx(expected, rel=1e-9)
    assert final.loc["a", "change"] == pytest.approx(-0.065)
    assert list(comparison.regressions.variant) == ["b"]
    # a floor above the interval decides instead
    assert compare(base, cur, "metric:0.08").regressions.empty
    assert list(compare(base, cur, "metric:5%").regressions.variant) == ["b"]  # 5 % of 0.82 = 0.041 < CI


def test_direction_follows_the_metric_and_gradient_balance(tmp_path):
    mae = {"metric_name": "mae"}
    base = hand_built(tmp_path / "base", [
        {"variant": "mae_up", "seed": 0, "final_metric": 1.0, "best_metric": 1.0, **mae},
        {"variant": "mae_down", "seed": 0, "final_metric": 1.0, "best_metric": 1.0, **mae},
        {"variant": "acc_up", "seed": 0, "final_metric": 0.5, "best_metric": 0.5},
        {"variant": "grad_away", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": -1.0},
        {"variant": "grad_toward", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": -1.0},
        {"variant": "grad_flip", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": -1.9},
        {"variant": "grad_flip_small", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": -0.1},
    ])  # fmt: skip
    cur = hand_built(tmp_path / "cur", [
        {"variant": "mae_up", "seed": 0, "final_metric": 1.5, "best_metric": 1.0, **mae},
        {"variant": "mae_down", "seed": 0, "final_metric": 0.5, "best_metric": 0.5, **mae},
        {"variant": "acc_up", "seed": 0, "final_metric": 0.9, "best_metric": 0.9},
        {"variant": "grad_away", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": -1.5},
        {"variant": "grad_toward", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": -0.2},
        {"variant": "grad_flip", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": 1.9},
        {"variant": "grad_flip_small", "seed": 0, "final_metric": 0.5, "log10_grad_ratio": 0.1},
    ])  # fmt: skip
    comparison = compare(base, cur)
    regressed = comparison.regressions.set_index("variant").regressions.to_dict()
    assert regressed == {"mae_up": ["final_metric"], "grad_away": ["log10_grad_ratio"],
                         "grad_flip": ["log10_grad_ratio"]}  # fmt: skip
    # Across the sign the harm is the whole move, |1.9 - (-1.9)| = 3.8 decades (|1.9| - |-1.9| would be 0);
    # -0.1 -> +0.1 moves 0.2 decades, inside the 0.25 floor.
    grad = comparison.changes[comparison.changes.quantity == "log10_grad_ratio"].set_index("variant")
    assert grad.loc["grad_flip", "change"] == pytest.approx(3.8) and grad.loc["grad_flip", "tolerance"] == 0.25
    loose = compare(base, cur, "grad:3.9").regressions
    assert loose.set_index("variant").regressions.to_dict() == {"mae_up": ["final_metric"]}


@pytest.mark.parametrize(
    ("before", "after", "regression"),
    [
        ({"verdict": "healthy"}, {"verdict": "exploding"}, True),
        ({"verdict_end": "vanishing"}, {"verdict_end": "diverged", "status": "diverged"}, True),
        (
            {"verdict_end": "diverged", "status": "diverged"},
            {"status": "failed", "verdict": "", "verdict_end": ""},
            True,
        ),  # noqa: E501
        ({"verdict": "vanishing"}, {"verdict": "exploding"}, True),  # a flip to a different failure
        ({"verdict_end": "exploding"}, {"verdict_end": "vanishing"}, True),
        ({"verdict": "diverged", "status": "diverged"}, {"verdict": "exploding"}, False),  # less bad
        ({"verdict": "vanishing"}, {"verdict": "healthy"}, False),  # an improvement
    ],
)
def test_verdict_flips_towards_worse_are_regressions(tmp_path, before, after, regression):
    base = hand_built(tmp_path / "base", seeds("v", [0.5, 0.5], **before))
    cur = hand_built(tmp_path / "cur", seeds("v", [0.5, 0.5], **after))
    assert (not compare(base, cur).regressions.empty) is regression
    assert compare(base, cur, "verdict:off").regressions.empty


def test_suite_tolerances_recorded_in_the_manifest_loosen_the_gate(tmp_path):
    base = hand_built(tmp_path / "base", seeds("v", [0.8]))
    cur = hand_built(tmp_path / "cur", seeds("v", [0.7]), tolerances={"metric": "0.15"})
    assert compare(base, cur).regressions.empty
    assert compare(base, cur, "metric:0.01").regressions.empty  # the looser of suite and --fail-on holds
    plain = hand_built(tmp_path / "plain", seeds("v", [0.7]))
    assert list(compare(base, plain).regressions.variant) == ["v"]


def test_variants_and_suites_missing_in_current_are_regressions_new_ones_are_not(current):
    edit_runs(current, "activation", "tanh", variant="tanh_v2")  # a renamed variant: 1 missing, 1 new
    lost = sorted(records.read_runs(current / "clipping").variant.unique())
    shutil.rmtree(current / "clipping")  # a suite whose file broke
    result = cli("compare", BASELINE, current)
    assert result.returncode == 1, result.stderr
    summary = result.stdout.splitlines()[-1]
    renamed = claims_about("activation", "tanh")  # no longer judged: the variant is gone
    assert f"{1 + len(lost) + len(renamed)} regressions" in summary
    assert summary.endswith(f"1 new, {1 + len(lost)} missing")
    named = sorted(line.split(": ")[1] for line in result.stdout.splitlines() if line.startswith("regression: "))
    assert named == sorted(["activation/tanh", *(f"clipping/{v}" for v in lost), *["activation claim"] * len(renamed)])
    assert "regression: activation/tanh: missing: in BASE" in result.stdout
    assert "tanh_v2" in result.stdout and "activation/tanh_v2" not in named
    switched_off = cli("compare", BASELINE, current, "--fail-on", "missing:off,claims:off")  # and the claim on tanh
    assert switched_off.returncode == 0, switched_off.stdout + switched_off.stderr
    assert switched_off.stdout.splitlines()[-1].endswith(f"1 new, {1 + len(lost)} missing")


def test_new_variants_alone_pass_and_a_suite_can_switch_missing_off(tmp_path):
    base = hand_built(tmp_path / "base", seeds("v", [0.8]))
    grown = hand_built(tmp_path / "grown", seeds("v", [0.8]) + seeds("w", [0.1]))
    assert compare(base, grown).regressions.empty
    assert list(compare(grown, base).regressions.regressions) == [["missing"]]
    relaxed = hand_built(tmp_path / "relaxed", seeds("v", [0.8]), tolerances={"missing": "off"})
    assert compare(grown, relaxed).regressions.empty  # the suite's own gate, as CURRENT's manifest records it
    with pytest.raises(TfbenchError, match="missing:'maybe' is invalid"):
        compare(base, base, "missing:maybe")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["/no/such/dir", BASELINE], "is not a directory"),
        ([BASELINE, "tests"], "has no manifest.json"),
        ([BASELINE, BASELINE, "--fail-on", "metric=0.02"], "--fail-on item 'metric=0.02' is invalid"),
        ([BASELINE, BASELINE, "--fail-on", "speeed:25%"], "unknown key 'speeed'"),
        ([BASELINE, BASELINE, "--fail-on", "metric:lots"], "metric:'lots' is invalid"),
        ([BASELINE, BASELINE, "--markdown", "/no/such/dir/pr.md"], "--markdown"),
        ([BASELINE, BASELINE, "--markdown", "tests"], "--markdown 'tests' is a directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    result = cli("compare", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and needle in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_markdown_file_is_bad_input_before_any_work(tmp_path):
    target = tmp_path / "pr.md"
    target.write_text("old")
    target.chmod(0o444)
    result = cli("compare", BASELINE, BASELINE, "--markdown", target)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "is not writable" in result.stderr
    assert result.stdout == "" and target.read_text() == "old"


@pytest.mark.parametrize("column", ["metric_name", "final_metric", "best_metric", "log10_grad_ratio", "verdict_end"])
def test_a_runs_csv_without_a_column_compare_reads_is_bad_input(current, column):
    runs = records.read_runs(current / "optimizer")
    runs.drop(columns=[column]).to_csv(current / "optimizer" / records.RUNS_FILE, index=False)
    with pytest.raises(TfbenchError, match=f"optimizer/runs.csv' lacks {column}: expected schema version 1"):
        compare(BASELINE, current)
    if column == "final_metric":  # and on the command line: one line, exit 2, nothing printed before it
        result = cli("compare", BASELINE, current)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "lacks final_metric" in result.stderr and result.stdout == ""


def test_folder_with_a_manifest_but_no_runs_is_bad_input(tmp_path):
    (tmp_path / records.MANIFEST_FILE).write_text("{}")
    with pytest.raises(TfbenchError, match="holds no <suite>/runs.csv"):
        compare(BASELINE, tmp_path)


def test_a_manifest_without_suite_entries_or_calibration_still_compares(tmp_path):
    base = hand_built(tmp_path / "base", seeds("v", [0.8]), reference=None)
    cur = hand_built(tmp_path / "cur", seeds("v", [0.7]), reference=None)
    (cur / records.MANIFEST_FILE).write_text(json.dumps({"schema_version": 1}))  # made before tolerances
    comparison = compare(base, cur)
    assert list(comparison.regressions.variant) == ["v"]
    assert any("raw steps/s" in note for note in comparison.notes)


def test_suite_tolerances_are_validated_and_recorded_in_the_manifest():
    from tfbench.spec.manifest_entry import suite_entry
    from tfbench.spec.setup import Setup
    from tfbench.spec.suite import Suite

    def suite(tolerances):
        return Suite(name="toy", factor="activation", question="?", base=Setup(), levels=["relu"],
                     tolerances=tolerances)  # fmt: skip

    assert suite_entry(suite({"metric": 0.05, "speed": "off"}))["tolerances"] == {"metric": "0.05", "speed": "off"}
    with pytest.raises(TfbenchError, match="unknown key 'accuracy'"):
        suite({"accuracy": 0.05})
    with pytest.raises(TfbenchError, match="speed:'fast' is invalid"):
        suite({"speed": "fast"})


def test_calibration_runs_with_one_intra_op_thread_whatever_the_executor():
    # Fresh processes, as `tfbench run --workers N` starts them: a pool's worker times the calibration
    # workload, a serial run's driver does; the pool's driver never imports TensorFlow.
    script = ("import sys; from tfbench.engine.executors import make_executor; "
              "from tfbench.engine.calibration import calibrate; "
              "e = make_executor('local', int(sys.argv[1])); print(e.submit(calibrate).result()['intra_op_threads']); "
              "e.close(); print('tensorflow' in sys.modules)")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for workers, driver_has_tensorflow in ((2, "False"), (1, "True")):
        result = subprocess.run([sys.executable, "-c", script, str(workers)], capture_output=True, text=True,
                                env=env, timeout=180)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["1", driver_has_tensorflow]


TINY_SUITE = """
from tfbench import Setup, Suite

SUITE = Suite(name="tiny", factor="activation", question="Is the execution recorded?",
              base=Setup(depth=2, width=8, steps=4), levels=["tanh"])
"""


def test_a_parallel_run_records_its_executor_and_a_one_thread_calibration(tmp_path):
    (tmp_path / "tiny.py").write_text(TINY_SUITE)
    result = cli("run", tmp_path / "tiny.py", "--seeds", "2", "--workers", "2", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "out" / records.MANIFEST_FILE).read_text())
    assert (manifest["executor"], manifest["workers"]) == ("local", 2)
    assert manifest["calibration"]["intra_op_threads"] == 1


def test_compare_notes_a_different_executor_or_worker_count(tmp_path):
    base = hand_built(tmp_path / "base", seeds("v", [0.8]))
    cur = hand_built(tmp_path / "cur", seeds("v", [0.8]))
    edit_manifest(base, lambda m: m.update(executor="local", workers=1))
    assert not [n for n in compare(base, cur).notes if "execution differs" in n]  # nothing recorded on one side
    edit_manifest(cur, lambda m: m.update(executor="local", workers=1))
    assert not [n for n in compare(base, cur).notes if "execution differs" in n]
    edit_manifest(cur, lambda m: m.update(executor="ray", workers=4))
    notes = [n for n in compare(base, cur).notes if "execution differs" in n]
    assert notes == ["execution differs: BASE ran with executor local, workers 1, CURRENT with executor ray, "
                     "workers 4; every run and the calibration use one intra-op thread either way"]  # fmt: skip
