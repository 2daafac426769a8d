"""compare notes when BASE and CURRENT are not the same experiment: another profile, monitor mode or
seeds in the manifests, and runs of the same seed whose setup_hash differs. Notes never change the
exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tfbench_cli import BASELINE, cli

from tfbench.compare.comparison import compare
from tfbench.compare.output import markdown_text, terminal_text
from tfbench.records import store as records


@pytest.fixture
def current(tmp_path) -> Path:
    return Path(shutil.copytree(BASELINE, tmp_path / "current"))


def edit_manifest(folder: Path, **changes) -> None:
    path = folder / records.MANIFEST_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def change_hash(folder: Path, suite: str, variant: str) -> None:
    path = folder / suite / records.RUNS_FILE
    runs = pd.read_csv(path, dtype=str, keep_default_na=False)
    runs.loc[runs.variant == variant, "setup_hash"] = "0000000000000000"
    runs.to_csv(path, index=False)


def experiment_notes(comparison) -> list[str]:
    return [n for n in comparison.notes if n.startswith(("not the same experiment", "setup differs"))]


def test_the_same_experiment_gets_no_such_note():
    assert experiment_notes(compare(BASELINE, BASELINE)) == []


def test_another_profile_monitor_and_seeds_are_noted(current):
    edit_manifest(current, profile="standard", monitor="full", seeds=[0, 1, 2])
    notes = experiment_notes(compare(BASELINE, current))
    assert notes == [
        "not the same experiment: BASE ran profile quick, CURRENT standard",
        "not the same experiment: BASE ran monitor mode standard, CURRENT full",
        "not the same experiment: BASE ran seeds 0, CURRENT 0, 1, 2",
    ]


def test_a_setting_one_side_did_not_record_is_not_noted(current):
    manifest = json.loads((current / records.MANIFEST_FILE).read_text())
    del manifest["profile"]
    (current / records.MANIFEST_FILE).write_text(json.dumps({**manifest, "monitor": "none"}))
    assert experiment_notes(compare(BASELINE, current)) == [
        "not the same experiment: BASE ran monitor mode standard, CURRENT none"
    ]


def test_runs_whose_setup_hash_differs_are_noted_per_variant(current):
    change_hash(current, "activation", "relu")
    change_hash(current, "optimizer", "adam")
    notes = experiment_notes(compare(BASELINE, current))
    assert len(notes) == 2
    assert notes[0].startswith("setup differs: activation/relu seed 0")
    assert notes[1].startswith("setup differs: optimizer/adam seed 0")


def test_the_notes_reach_the_terminal_and_markdown_and_leave_the_exit_code(current, tmp_path):
    edit_manifest(current, profile="standard")
    change_hash(current, "activation", "relu")
    comparison = compare(BASELINE, current)
    for text in (terminal_text(comparison), markdown_text(comparison)):
        assert "BASE ran profile quick, CURRENT standard" in text and "setup differs: activation/relu" in text
    markdown = tmp_path / "pr.md"
    result = cli("compare", BASELINE, current, "--markdown", markdown)
    assert result.returncode == 0, result.stderr
    assert "note: not the same experiment: BASE ran profile quick, CURRENT standard" in result.stdout
    assert "note: setup differs: activation/relu seed 0" in result.stdout
    assert "- setup differs: activation/relu seed 0" in markdown.read_text()
