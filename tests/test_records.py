"""Record files (docs/design.md §6): atomic writes, schema round trip, loading a run's output folder."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from design_schema import LAYERS, RUNS, STEPS

import tfbench
from tfbench import TfbenchError
from tfbench.records.store import SuiteRecords, atomic_write, load_results, read_suite, write_suite

# --------------------------------------------------------------------------------------------- atomic writes


def test_atomic_write_leaves_only_the_finished_file(tmp_path):
    target = tmp_path / "runs.csv"
    atomic_write(target, lambda temp: Path(temp).write_text("a,b\n1,2\n"))
    assert target.read_text() == "a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["runs.csv"]


def test_atomic_write_gives_the_file_the_permissions_of_any_new_file(tmp_path):
    mask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "runs.csv", lambda temp: Path(temp).write_text("x\n"))
        (tmp_path / "plain.csv").write_text("x\n")  # what open() would have made
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "runs.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "runs.csv").stat().st_mode) == stat.S_IMODE((tmp_path / "plain.csv").stat().st_mode)


@pytest.mark.parametrize("exception", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_keeps_the_old_file_when_the_writer_raises(tmp_path, exception):
    target = tmp_path / "runs.csv"
    target.write_text("old contents\n")

    def half_write(temp):
        with open(temp, "w") as handle:
            handle.write("half of the new")
        raise exception("writer died")

    with pytest.raises(exception, match="writer died"):
        atomic_write(target, half_write)
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["runs.csv"]  # no temp file left behind


def test_atomic_write_that_fails_creates_nothing(tmp_path):
    def fail(temp):
        raise ValueError("no")

    with pytest.raises(ValueError):
        atomic_write(tmp_path / "new.json", fail)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------- round trip


def sample_records() -> SuiteRecords:
    labels = ["relu", "1e-3", "007"]  # labels that look like numbers must stay text
    runs = pd.DataFrame(
        {
            "suite": "demo", "factor": "activation", "variant": labels, "level": ["relu", "0.001", "null"],
            "seed": [0, 0, 1], "status": ["ok", "diverged", "failed"], "verdict": ["healthy", "vanishing", None],
            "verdict_end": ["healthy", "diverged", None], "steps": [30, 4, 0],
            "metric_name": ["accuracy", "accuracy", None], "final_loss": [0.5, np.nan, np.nan],
            "final_metric": [0.9, np.nan, np.nan], "best_metric": [0.95, 0.2, np.nan],
            "log10_grad_ratio": [-0.25, -5.5, np.nan], "log10_delta_ratio": [0.125, -np.inf, np.nan],
            "wall_s": [1.5, 0.25, 0.01], "steps_per_s": [200.0, 16.0, np.nan],
            "setup_hash": ["0123456789012345", "1e10000000000000", "abcdef0123456789"],
            "error": ["", "", "ValueError: boom"], "setup_s": [0.75, 0.0, np.nan], "step_s": [0.5, 0.2, np.nan],
            "monitor_s": [0.01, np.nan, np.nan], "log10_time_ratio": [np.nan, -9.25, np.nan],
        }
    )[list(reversed(RUNS))]  # column order on input does not matter  # fmt: skip
    steps = pd.DataFrame(
        {
            "suite": "demo", "variant": ["relu"] * 3 + ["1e-3"] * 2, "seed": np.array([0, 0, 0, 0, 0], dtype=object),
            "step": [0.0, 1.0, 2.0, 0.0, 1.0], "loss": [2.3, 2.1, np.nan, 2.3, np.inf], "reg_loss": 0.0,
            "metric": [0.1, 0.2, np.nan, 0.1, 0.1], "global_grad_norm": [1.0, 0.5, np.nan, 1.0, np.nan],
            "learning_rate": [0.05, 0.05, np.nan, 0.05, 0.05], "val_loss": [np.nan, np.nan, 2.0, np.nan, np.nan],
            "val_metric": [np.nan, np.nan, 0.3, np.nan, np.nan],
        }
    )  # fmt: skip
    layer_rows = [
        {"suite": "demo", "variant": "relu", "seed": 0, "step": s, "layer": name, "depth": d,
         **{c: 0.1 * d + s for c in LAYERS[6:]}}
        for s in (0, 2) for d, name in ((1, "dense_1"), (2, "dense_2"), (3, "output"))
    ]  # fmt: skip
    return SuiteRecords(runs=runs, steps=steps, layers=pd.DataFrame(layer_rows))


def test_write_then_read_preserves_columns_values_and_integer_keys(tmp_path):
    original = sample_records()
    write_suite(tmp_path / "demo", original)
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["layers.parquet", "runs.csv", "steps.parquet"]
    back = read_suite(tmp_path / "demo")

    assert list(back.runs.columns) == RUNS
    assert list(back.steps.columns) == STEPS
    assert list(back.layers.columns) == LAYERS
    for table in (back.runs, back.steps, back.layers):
        assert table["seed"].dtype == np.int64
    for table in (back.steps, back.layers):
        assert table["step"].dtype == np.int64
    assert back.layers["depth"].dtype == np.int64
    for name in ("loss", "val_loss"):
        assert back.steps[name].dtype == np.float64
    assert back.steps["step"].tolist() == [0, 1, 2, 0, 1]
    np.testing.assert_array_equal(back.steps["loss"], [2.3, 2.1, np.nan, 2.3, np.inf])
    assert back.layers["depth"].tolist() == [1, 2, 3, 1, 2, 3]
    assert back.layers["kernel_grad_norm"].tolist() == pytest.approx([0.1, 0.2, 0.3, 2.1, 2.2, 2.3])


def test_runs_csv_round_trip_keeps_text_as_text(tmp_path):
    write_suite(tmp_path, sample_records())
    runs = read_suite(tmp_path).runs
    assert runs["variant"].tolist() == ["relu", "1e-3", "007"]
    assert runs["level"].tolist() == ["relu", "0.001", "null"]
    assert runs["setup_hash"].tolist() == ["0123456789012345", "1e10000000000000", "abcdef0123456789"]
    assert runs["status"].tolist() == ["ok", "diverged", "failed"]
    assert runs["error"].iloc[2] == "ValueError: boom"
    assert runs["steps"].tolist() == [30, 4, 0]
    assert runs["log10_delta_ratio"].iloc[1] == -math.inf
    assert runs["final_loss"].iloc[0] == 0.5 and math.isnan(runs["final_loss"].iloc[1])
    assert pd.isna(runs["verdict"].iloc[2])  # a failed run has no verdict


def test_labels_and_hashes_that_all_look_like_numbers_stay_text(tmp_path):
    # a suite over learning rates: every label, level and hash in the file parses as a number
    records = sample_records()
    records.runs = records.runs.iloc[:2].assign(
        variant=["1e-3", "1e-2"], level=["0.001", "0.01"], setup_hash=["0123456789012345", "1e10000000000000"]
    )
    write_suite(tmp_path, records)
    runs = read_suite(tmp_path).runs
    assert runs["variant"].tolist() == ["1e-3", "1e-2"]  # a resume matches these against the suite's labels
    assert runs["level"].tolist() == ["0.001", "0.01"]
    assert runs["setup_hash"].tolist() == ["0123456789012345", "1e10000000000000"]


def test_runs_csv_holds_every_design_column_even_when_some_are_missing(tmp_path):
    records = sample_records()
    records.runs = records.runs.drop(columns=["wall_s", "error"])
    write_suite(tmp_path, records)
    header = (tmp_path / "runs.csv").read_text().splitlines()[0]
    assert header.split(",") == RUNS


def test_rewriting_a_suite_replaces_its_files(tmp_path):
    records = sample_records()
    write_suite(tmp_path, records)
    records.runs = records.runs.iloc[:1]
    write_suite(tmp_path, records)
    assert read_suite(tmp_path).runs["variant"].tolist() == ["relu"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layers.parquet", "runs.csv", "steps.parquet"]


def test_reading_a_folder_without_records_is_a_user_error(tmp_path):
    with pytest.raises(TfbenchError, match="cannot be read"):
        read_suite(tmp_path / "nothing")


# --------------------------------------------------------------------------------------------- load_results


def test_load_results_without_manifest_is_a_user_error(tmp_path):
    write_suite(tmp_path / "demo", sample_records())
    with pytest.raises(TfbenchError, match="manifest.json") as caught:
        load_results(tmp_path)
    assert str(tmp_path) in str(caught.value)
    with pytest.raises(TfbenchError, match="manifest.json"):
        tfbench.load_results(tmp_path / "does-not-exist")


def test_public_load_results_returns_every_suite_by_name(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 1}))
    write_suite(tmp_path / "beta", sample_records())
    write_suite(tmp_path / "alpha", sample_records())
    (tmp_path / "not_a_suite").mkdir()  # a folder without runs.csv is not a suite

    results = tfbench.load_results(str(tmp_path))
    assert "load_results" in tfbench.__all__
    assert sorted(results) == ["alpha", "beta"]
    assert isinstance(results["alpha"], SuiteRecords)
    assert results["beta"].runs["variant"].tolist() == ["relu", "1e-3", "007"]
    assert len(results["alpha"].layers) == 6


def test_load_results_of_an_empty_run_is_empty(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    assert tfbench.load_results(tmp_path) == {}
