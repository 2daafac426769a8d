"""Readers of records refuse a manifest written under a newer schema: one line, exit code 2, nothing written."""

from __future__ import annotations

import json
import shutil

import pytest
from tfbench_cli import BASELINE, cli

import tfbench
from tfbench.errors import TfbenchError
from tfbench.records.schema import SCHEMA_VERSION


@pytest.fixture()
def newer(tmp_path):
    """A copy of the committed baseline whose manifest claims the next schema version."""
    folder = tmp_path / "newer"
    shutil.copytree(BASELINE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION  # the copy is readable before the edit
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def assert_refused(result, folder):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"schema_version {SCHEMA_VERSION + 1}" in lines[0] and str(folder / "manifest.json") in lines[0]
    assert f"schema_version <= {SCHEMA_VERSION}" in lines[0]


def test_compare_refuses_records_of_a_newer_schema_on_either_side(newer):
    assert_refused(cli("compare", BASELINE, newer), newer)
    assert_refused(cli("compare", newer, BASELINE), newer)


def test_report_refuses_records_of_a_newer_schema_and_writes_no_page(newer):
    assert_refused(cli("report", newer), newer)
    assert not (newer / "index.html").exists()


def test_load_results_refuses_records_of_a_newer_schema(newer):
    with pytest.raises(TfbenchError, match=f"schema_version {SCHEMA_VERSION + 1}"):
        tfbench.load_results(newer)


@pytest.mark.parametrize("version", ["1", None, True, 1.5])
def test_a_schema_version_that_is_not_an_integer_is_refused(newer, version):
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["schema_version"] = version
    (newer / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TfbenchError, match="expected schema_version <= "):
        tfbench.load_results(newer)
