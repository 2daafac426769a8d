"""`tfbench speed`: a planted slowdown fails (exit 1, named), a revision against itself passes, bad input is
one line and exit 2 with nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from speed_repo import ROOT, commit_suite, make_repo

# A pause of 50 ms per update against a tiny model's few milliseconds: about ten times slower, which a
# loaded machine's ±50 % per pair cannot hide after three pairs.
PAUSE_S = 0.05


def speed(cwd, *args, timeout=240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tfbench", "speed", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)  # fmt: skip


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("speed"), PAUSE_S)


@pytest.mark.slow  # about a minute: .ci/run runs it with the other slow tests
def test_a_planted_slowdown_fails_naming_the_variant(repo, tmp_path):
    folder, base, head = repo
    out = tmp_path / "out"
    result = speed(folder, base, head, "tiny", "--max-seconds", 60, "--out", out, "--markdown", tmp_path / "c.md")
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {(r["variant"], r["quantity"]): r for r in json.loads((out / "speed.json").read_text())["results"]}
    assert rows[("tiny/8", "step")]["decision"] == "slower"
    assert rows[("tiny/8", "step")]["ratio"] > 2
    assert rows[("tiny/4", "step")]["decision"] != "slower"  # unchanged code: never slower
    assert rows[("tiny/4", "setup")]["decision"] != "slower"
    assert "slower by more than 10 %: tiny/8 (step)" in result.stdout
    assert "tiny/8" in (tmp_path / "c.md").read_text()
    report = json.loads((out / "speed.json").read_text())
    assert {b["revision"] for b in report["blocks"]} == {"base", "head"}
    assert report["base"]["commit"] == base and report["head"]["commit"] == head
    assert "data:image/png;base64," in (out / "index.html").read_text()


@pytest.mark.slow
def test_a_revision_against_itself_is_never_slower(repo, tmp_path):
    folder, base, _ = repo
    result = speed(folder, base, base, "tiny", "--max-seconds", 30, "--fail-on", "speed:10%")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slower" not in result.stdout.replace("slower by", "")


@pytest.mark.parametrize(
    "args, named",
    [
        (["HEAD~1", "no-such-revision"], "no-such-revision"),
        (["HEAD~1", "HEAD", "--fail-on", "metric:0.1"], "--fail-on"),
        (["HEAD~1", "HEAD", "--max-seconds", "-5"], "--max-seconds"),
        (["HEAD~1", "HEAD", "suites/absent.py"], "absent.py"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(repo, tmp_path, args, named):
    folder = repo[0]
    out = tmp_path / "out"
    result = speed(folder, *args, "--out", out, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and named in result.stderr
    assert not out.exists()


def test_outside_a_git_repository_is_exit_2(tmp_path):
    result = speed(tmp_path, "HEAD~1", "HEAD", timeout=60)
    assert result.returncode == 2
    assert "not inside a git repository" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_file_missing_in_one_revision_is_exit_2(tmp_path):
    folder, base, head = make_repo(tmp_path, 0.0)
    (folder / "suites" / "extra.py").write_text((folder / "suites" / "tiny.py").read_text())
    subprocess.run(["git", "-C", folder, "add", "-A"], check=True)
    subprocess.run(["git", "-C", folder, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"], check=True)
    result = speed(folder, base, "HEAD", "suites/extra.py", timeout=60)
    assert result.returncode == 2 and "missing in the base revision" in result.stderr


@pytest.mark.slow
def test_a_suite_name_missing_in_one_revision_is_exit_2(repo, tmp_path):
    folder, base, head = repo
    result = speed(folder, base, head, "no_such_suite", timeout=120)
    assert result.returncode == 2 and "no_such_suite" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_out_holding_foreign_files_is_refused(repo, tmp_path):
    folder, base, head = repo
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    result = speed(folder, base, head, "--out", out, timeout=60)
    assert result.returncode == 2 and "mine.txt" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


@pytest.mark.slow
def test_a_worker_that_crashes_is_one_line_with_its_last_stderr_line_and_exit_2(tmp_path):
    folder, base, _ = make_repo(tmp_path, 0.0)
    crash = 'import os, sys\nsys.stderr.write("planted crash in the suite file\\n")\nos._exit(3)\n'
    head = commit_suite(folder, "tiny", crash, "crash on import")
    out = tmp_path / "out"
    result = speed(folder, base, head, "tiny", "--out", out, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "tfbench: error: the head worker stopped during 'load': planted crash in the suite file (exit code 3)"
    ]
    assert not out.exists()


@pytest.mark.slow
def test_a_suite_file_outside_the_repository_is_timed_as_is_by_both(repo, tmp_path):
    folder, base, head = repo
    outside = tmp_path / "mine.py"
    outside.write_text((folder / "suites" / "tiny.py").read_text().replace('name="tiny"', 'name="mine"'))
    out = tmp_path / "out"
    result = speed(folder, base, head, outside, "--max-seconds", 40, "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr  # the same file for both: never slower
    variants = {r["variant"] for r in json.loads((out / "speed.json").read_text())["results"]}
    assert variants == {"mine/4", "mine/8"}
