"""Nothing lost: a command writes only into a new, empty or tfbench folder, one writer at a time, and
a full disk, a killed run or a garbage source leaves every record as it was (docs/guarantees.md).

Every case runs `python -m tfbench` in a real process: the lock, the kernel's release of it when a
process dies, and the exit code are properties of processes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from tfbench_cli import BASELINE, ROOT, cli

LOCK = ".tfbench.lock"


def suite_file(folder: Path, name: str, steps: int = 6, levels: str = '["relu"]') -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(f"""
        from tfbench import Setup, Suite
        SUITE = Suite(name="{name}", factor="activation", question="?",
                      base=Setup(depth=2, width=8, steps={steps}, learning_rate=0.05), levels={levels})
        """))  # fmt: skip
    return path


def start(*args, output: Path, marker: str = "") -> subprocess.Popen:
    """`python -m tfbench ARGS` in the background, its output in a file: a pipe would stay open as long
    as any process the run started lives, and a test reading it would wait for the last of them."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TFBENCH_TEST_RUN": marker}
    with open(output, "w") as sink:
        return subprocess.Popen([sys.executable, "-m", "tfbench", *map(str, args)], cwd=ROOT, env=env,
                                stdout=sink, stderr=subprocess.STDOUT, text=True)  # fmt: skip


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (a run's workers inherit its environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"TFBENCH_TEST_RUN={marker}".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # ended meanwhile, or not ours to read
            continue
    return found


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(result, *quoted: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfbench: error: ") and "expected" in lines[0], result.stderr
    assert all(text in lines[0] for text in quoted), lines[0]
    return lines[0]


def wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, "the run ended early"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A finished quick run of one tiny suite: records someone would not want to lose."""
    folder = tmp_path_factory.mktemp("finished")
    result = cli("run", suite_file(folder, "kept"), "--profile", "quick", "--out", folder / "out")
    assert result.returncode == 0, result.stderr
    return folder / "out"


def test_a_second_run_into_a_folder_being_written_is_refused_and_the_first_keeps_its_records(tmp_path):
    out = tmp_path / "out"
    log = tmp_path / "first.log"
    first = start("run", suite_file(tmp_path, "first", steps=120), "--seeds", "1", "--out", out, output=log)
    try:
        wait_for(lambda: (out / LOCK).is_file(), first)
        second = cli("run", suite_file(tmp_path, "second"), "--profile", "quick", "--out", out)
        assert first.poll() is None, "the first run ended before the second was refused"
        line = one_error_line(second, repr(str(out)), f"pid {first.pid} ", "first.py")  # the holder, named
        assert "being written" in line
        first.wait(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            first.kill()
    assert first.returncode == 0, log.read_text()
    assert list(json.loads((out / "manifest.json").read_text())["suites"]) == ["first"]
    assert len(pd.read_csv(out / "first" / "runs.csv")) == 1 and not (out / "second").exists()
    assert not (out / LOCK).exists()  # released and removed on the way out


@pytest.mark.slow  # two runs, a kill and a resume: over 30 s on a busy 2-core machine
@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="needs Linux's /proc")
def test_a_lock_left_by_a_killed_run_blocks_nothing_and_resume_completes_it(tmp_path):
    out = tmp_path / "out"
    # Two runs on two workers: the workers come from a fork server, and must not keep the lock.
    suite = suite_file(tmp_path, "killed", steps=60, levels='["relu", "tanh"]')
    marker = f"faults-{tmp_path.name}"
    driver = start("run", suite, "--seeds", "1", "--workers", "2", "--out", out, output=tmp_path / "killed.log",
                   marker=marker)  # fmt: skip
    try:
        runs = out / "killed" / "runs.csv"
        wait_for(lambda: runs.is_file() and len(pd.read_csv(runs)) >= 1, driver, seconds=240)
    finally:
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    assert (out / LOCK).is_file()  # left behind, and stale at once: the kernel released the lock
    import fcntl

    with open(out / LOCK) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if any process (a worker) still held it
    assert processes_with(marker), "no worker outlived the driver: the lock was not tested against one"
    resumed = cli("run", suite, "--seeds", "1", "--workers", "2", "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "kept from an earlier run" in resumed.stdout
    assert len(pd.read_csv(out / "killed" / "runs.csv")) == 2


@contextlib.contextmanager
def full_disk(folder: Path):
    """A folder on a full file system: a tiny tmpfs filled up (as root); elsewhere skipped."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()!r}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Write until not one more byte fits."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    with pytest.raises(OSError) as refused, open(folder / "probe", "wb", buffering=0) as probe:
        probe.write(b"x")
    assert refused.value.errno == errno.ENOSPC


def capped_files(limit: int):
    """For a child process: no file may grow past `limit` bytes (EFBIG, the signal ignored), as on a full
    disk for every file larger than that."""

    def limit_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_files


def copy_into(records: Path, out: Path) -> None:
    for name, data in snapshot(records).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)


@pytest.mark.parametrize("disk", ["filled tmpfs", "file size limit"])
def test_a_full_disk_is_one_line_naming_the_file_and_every_record_stays_readable(disk, finished_run, tmp_path):
    args = ["run", suite_file(tmp_path, "more"), "--profile", "quick", "--out"]
    with contextlib.ExitStack() as stack:
        if disk == "filled tmpfs":
            out = stack.enter_context(full_disk(tmp_path / "disk")) / "out"
            copy_into(finished_run, out)  # an earlier run's records on the disk
            fill(out.parent)
            result, reason = cli(*args, out), "No space left on device"
        else:
            out = tmp_path / "out"
            copy_into(finished_run, out)
            command = [sys.executable, "-m", "tfbench", *map(str, args), str(out)]
            result = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                                    text=True, timeout=120, preexec_fn=capped_files(64))  # fmt: skip
            reason = "File too large"
        before = snapshot(finished_run)
        line = one_error_line(result, "cannot write", "manifest.json", reason)
        assert "Traceback" not in result.stderr and str(out) in line
        assert snapshot(out) == before  # byte for byte: no half-written file, no temporary left behind
        assert len(pd.read_csv(out / "kept" / "runs.csv")) == 1


def test_an_os_error_reaching_main_names_the_file_and_says_the_records_are_intact():
    from tfbench.cli import os_error_text

    text = os_error_text(OSError(errno.ENOSPC, "No space left on device", "/r/x.csv"))
    assert text.startswith("'/r/x.csv': No space left on device: expected") and "intact" in text


def foreign_folder(folder: Path) -> Path:
    """A web project's root: its own manifest.json (not tfbench's) and index.html."""
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "my-app", "start_url": "/", "display": "standalone"}\n')
    (folder / "index.html").write_text("<!doctype html><title>my app</title>\n")
    return folder


@pytest.mark.parametrize("command", ["run", "report", "baseline", "diagnose"])
def test_a_folder_that_is_not_tfbench_s_is_refused_and_left_byte_identical(command, tmp_path):
    site = foreign_folder(tmp_path / "site")
    before = snapshot(site)
    args = {
        "run": ["run", suite_file(tmp_path, "s"), "--profile", "quick", "--out", site],
        "report": ["report", site],
        "baseline": ["baseline", BASELINE, site],
        "diagnose": ["diagnose", tmp_path / "model.keras", "--data", tmp_path / "d.npz", "--out", site],
    }[command]
    one_error_line(cli(*args), repr(str(site)))
    assert snapshot(site) == before and sorted(p.name for p in site.iterdir()) == ["index.html", "manifest.json"]


def test_a_folder_of_other_files_without_a_manifest_is_refused(tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("mine\n")
    before = snapshot(project)
    line = one_error_line(cli("run", "activation", "--profile", "quick", "--out", project), "README.md")
    assert "did not write" in line and snapshot(project) == before


def test_save_records_refuses_someone_else_s_folder(tmp_path):
    from tfbench.errors import TfbenchError
    from tfbench.user.run_records import save_run

    site = foreign_folder(tmp_path / "site")
    before = snapshot(site)
    with pytest.raises(TfbenchError, match="did not write"):
        save_run(site, "mymodel", {}, None, None, monitor="every 10 steps")  # refused before the rows are read
    assert snapshot(site) == before


@pytest.mark.parametrize(
    ("manifest", "runs"),
    [("[]", os.urandom(256)), ('{"schema_version": 1, "suites": {}}', os.urandom(256)), ("{not json", b"a,b\n")],
)
def test_baseline_from_a_garbage_source_leaves_the_destination_byte_identical(manifest, runs, tmp_path):
    source = tmp_path / "source"
    (source / "activation").mkdir(parents=True)
    (source / "manifest.json").write_text(manifest)
    (source / "activation" / "runs.csv").write_bytes(runs)
    dest = tmp_path / "dest"
    result = cli("baseline", BASELINE, dest)
    assert result.returncode == 0, result.stderr
    before = snapshot(dest)
    one_error_line(cli("baseline", source, dest), str(source))
    assert snapshot(dest) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "source"]  # nothing staged beside it


def test_baseline_leaves_a_sibling_named_like_its_old_scratch_folder_alone(tmp_path):
    dest = tmp_path / "quick"
    assert cli("baseline", BASELINE, dest).returncode == 0
    users = tmp_path / ".quick.old"  # where an earlier tfbench parked the old baseline, then deleted it
    users.mkdir()
    (users / "notes.txt").write_text("mine\n")
    result = cli("baseline", BASELINE, dest)
    assert result.returncode == 0, result.stderr
    assert (users / "notes.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".quick.old", "quick"]
    assert snapshot(dest) == snapshot(BASELINE)


def test_resume_into_records_of_a_newer_schema_is_refused_and_rewrites_nothing(finished_run, tmp_path):
    import shutil

    out = Path(shutil.copytree(finished_run, tmp_path / "out"))
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 99}))
    before = snapshot(out)
    suite = suite_file(tmp_path, "kept")
    line = one_error_line(cli("run", suite, "--profile", "quick", "--out", out, "--resume"), "schema_version 99")
    assert str(out / "manifest.json") in line and snapshot(out) == before


def test_resume_reads_every_kept_record_before_it_rewrites_the_manifest(finished_run, tmp_path):
    import shutil

    out = Path(shutil.copytree(finished_run, tmp_path / "out"))
    (out / "kept" / "steps.parquet").write_bytes(b"not parquet")
    before = snapshot(out)
    suite = suite_file(tmp_path, "kept")
    one_error_line(cli("run", suite, "--profile", "quick", "--out", out, "--resume"), "kept")
    assert snapshot(out) == before


def test_a_folder_holding_only_tfbench_folders_is_accepted_and_one_other_entry_is_not(tmp_path):
    from tfbench.errors import TfbenchError
    from tfbench.records.output_folder import check_output_folder

    reports = tmp_path / "reports"  # `diagnose` wrote reports/diagnose-model/ before any `run --out reports`
    page = reports / "diagnose-model"
    page.mkdir(parents=True)
    (page / "manifest.json").write_text('{"schema_version": 1, "kind": "diagnose", "suites": {}}')
    (page / "index.html").write_text("<html>")
    assert check_output_folder(reports) == reports
    (reports / "notes").mkdir()
    with pytest.raises(TfbenchError, match="did not write \\(diagnose-model, notes\\)"):
        check_output_folder(reports)
