"""manifest.json says which commit of tfbench made a run and whether its tree had uncommitted changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from speed_repo import ROOT, commit_all, git

PRINT_REVISION = "from tfbench.records.manifest import build_manifest as b; m = b('quick', [0], 'none', {}); " \
    "print(m['revision'], m['dirty'])"  # fmt: skip


def manifest_revision(tree) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", PRINT_REVISION]
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_the_manifest_records_the_commit_and_whether_the_tree_was_dirty(tmp_path):
    tree = tmp_path / "repo"
    shutil.copytree(ROOT / "tfbench", tree / "tfbench", ignore=shutil.ignore_patterns("__pycache__"))
    git(tree, "init", "-q")
    commit = commit_all(tree, "tfbench")
    assert manifest_revision(tree) == f"{commit} False"
    (tree / "notes.txt").write_text("work in progress")
    assert manifest_revision(tree) == f"{commit} True"


def test_outside_a_git_checkout_both_are_none(tmp_path):
    shutil.copytree(ROOT / "tfbench", tmp_path / "tfbench", ignore=shutil.ignore_patterns("__pycache__"))
    assert manifest_revision(tmp_path) == "None None"
