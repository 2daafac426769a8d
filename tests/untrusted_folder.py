"""A small valid run folder for the tests of untrusted records (docs/design.md §13), made without
training: the committed baseline's activation runs.csv and manifest entry, a steps table, and an empty
layers table, all written by tfbench's own writer. Each test mutates its own copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from tfbench_cli import BASELINE

from tfbench.records import store as records
from tfbench.records.schema import LAYER_COLUMNS

SUITE = "activation"


def valid_run(folder: Path) -> Path:
    runs = records.read_runs(BASELINE / SUITE)
    steps = pd.DataFrame(
        [{"suite": SUITE, "variant": variant, "seed": seed, "step": step, "loss": 2.0 - step / 10, "reg_loss": 0.0,
          "metric": step / 10, "global_grad_norm": 1.0, "learning_rate": 0.05, "val_loss": float("nan"),
          "val_metric": float("nan")}
         for variant, seed in zip(runs.variant, runs.seed, strict=True) for step in range(3)]
    )  # fmt: skip
    layers = pd.DataFrame(columns=list(LAYER_COLUMNS))  # no figures to draw: the tests stay fast
    records.write_suite(folder / SUITE, records.SuiteRecords(runs=runs, steps=steps, layers=layers))
    manifest = json.loads((BASELINE / records.MANIFEST_FILE).read_text())
    manifest["suites"] = {SUITE: manifest["suites"][SUITE]}
    (folder / records.MANIFEST_FILE).write_text(json.dumps(manifest))
    return folder


def copy_of(folder: Path, destination: Path) -> Path:
    return Path(shutil.copytree(folder, destination))


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / records.MANIFEST_FILE).read_text())


def write_manifest(folder: Path, manifest) -> None:
    (folder / records.MANIFEST_FILE).write_text(json.dumps(manifest))


def listing(folder: Path) -> list[tuple[str, int]]:
    """Every file under `folder` with its size: what a test compares before and after a refused command."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file())
