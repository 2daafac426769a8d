"""`tfbench baseline SOURCE DEST`: keeps only what compare reads, replaces an earlier baseline, and
refuses a destination whose replacement would delete anything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tfbench_cli import BASELINE, cli

from tfbench.errors import TfbenchError
from tfbench.records import store as records


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_baseline_command_keeps_only_manifest_and_runs_and_replaces_an_earlier_baseline(tmp_path):
    source = Path(shutil.copytree(BASELINE, tmp_path / "run"))
    (source / "activation" / "steps.parquet").write_bytes(b"not needed")
    (source / "index.html").write_text("<html>")
    dest = Path(shutil.copytree(BASELINE, tmp_path / "baseline"))  # an earlier baseline: replaced
    shutil.rmtree(dest / "optimizer")
    (dest / "retired").mkdir()
    (dest / "retired" / records.RUNS_FILE).write_text("suite,variant\n")  # a suite since removed goes
    result = cli("baseline", source, dest)
    assert result.returncode == 0, result.stderr
    kept, expected = files_under(dest), files_under(BASELINE)
    assert kept == expected and "manifest.json" in kept and "activation/runs.csv" in kept
    assert cli("compare", BASELINE, dest).returncode == 0
    missing = cli("baseline", tmp_path / "nothing", dest)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert files_under(dest) == expected
    fresh = cli("baseline", source, tmp_path / "empty_then_filled")
    assert fresh.returncode == 0 and files_under(tmp_path / "empty_then_filled") == expected


@pytest.mark.parametrize(
    ("stray", "needle"),
    [
        ("notes.txt", "holds more than manifest.json"),  # a file that is not a baseline's
        ("activation/steps.parquet", "holds more than manifest.json"),  # a run folder, not a baseline
        ("src/module.py", "holds more than manifest.json"),  # e.g. a mistyped project folder
    ],
)
def test_baseline_refuses_a_destination_holding_other_files(tmp_path, stray, needle):
    dest = Path(shutil.copytree(BASELINE, tmp_path / "dest"))
    (dest / stray).parent.mkdir(parents=True, exist_ok=True)
    (dest / stray).write_text("keep me")
    before = files_under(dest)
    result = cli("baseline", BASELINE, dest)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and needle in result.stderr
    assert files_under(dest) == before and (dest / stray).read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["dest"]  # no staging folder left beside it


def test_baseline_refuses_nested_source_and_destination(tmp_path):
    from tfbench.compare.baseline import save_baseline

    source = Path(shutil.copytree(BASELINE, tmp_path / "run"))
    for dest in (source / "baseline", tmp_path):  # inside the source; containing the source
        before = files_under(tmp_path)
        with pytest.raises(TfbenchError, match="are nested"):
            save_baseline(source, dest)
        assert files_under(tmp_path) == before
    result = cli("baseline", source, source / "activation" / "base")
    assert result.returncode == 2 and "are nested" in result.stderr and result.stderr.count("\n") == 1
