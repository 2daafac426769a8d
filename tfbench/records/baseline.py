"""Keep a run's records as a baseline for `compare`: manifest.json and each <suite>/runs.csv, nothing else.

The step and layer Parquet files and the report are what a reader of one run needs; a comparison needs
only the per-run rows, so a committed baseline stays a few kilobytes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tfbench.errors import TfbenchError
from tfbench.records import store as records


def holds_only_a_baseline(folder: Path) -> bool:
    """True when every entry is manifest.json or a <suite>/runs.csv, so replacing the folder loses no other file."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if any(inner.name != records.RUNS_FILE or not inner.is_file() for inner in entry.iterdir()):
                return False
        elif entry.name != records.MANIFEST_FILE or not entry.is_file():
            return False
    return True


def check_destination(source: Path, destination: Path) -> None:
    """Refuse a destination whose replacement would delete anything but an earlier baseline."""
    src, dest = source.resolve(), destination.resolve()
    if dest == src:
        raise TfbenchError(f"baseline destination {str(destination)!r} is the source: expected another folder")
    if dest.is_relative_to(src) or src.is_relative_to(dest):
        raise TfbenchError(f"baseline destination {str(destination)!r} and source {str(source)!r} are nested: "
                           "expected a folder outside the source, not containing it")  # fmt: skip
    if destination.exists() and not (destination.is_dir() and holds_only_a_baseline(destination)):
        raise TfbenchError(f"baseline destination {str(destination)!r} exists and holds more than manifest.json and "
                           f"<suite>/{records.RUNS_FILE}: expected a new folder or an earlier baseline")  # fmt: skip


def save_baseline(source: str | Path, destination: str | Path) -> list[str]:
    """Replace `destination` with the records of `source` needed by compare; return the suites kept.

    `destination` must be new, empty, or an earlier baseline (only manifest.json and <suite>/runs.csv),
    so a mistyped path never deletes a folder of other files.

    The copy is assembled in a temporary folder beside `destination` and renamed into place, so a
    failure leaves the old baseline as it was.
    """
    source, destination = Path(source), Path(destination)
    if not source.is_dir():
        raise TfbenchError(f"{str(source)!r} is not a directory: expected a folder written by 'tfbench run'")
    names = records.suite_names(source)  # raises when there is no manifest.json
    if not names:
        raise TfbenchError(
            f"{str(source)!r} holds no <suite>/{records.RUNS_FILE}: expected a folder written by 'tfbench run'"
        )
    check_destination(source, destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        shutil.copyfile(source / records.MANIFEST_FILE, staging / records.MANIFEST_FILE)
        for name in names:
            (staging / name).mkdir()
            shutil.copyfile(source / name / records.RUNS_FILE, staging / name / records.RUNS_FILE)
        staging.chmod(0o755)
        old = destination.with_name(f".{destination.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if destination.exists():
            destination.rename(old)
        staging.rename(destination)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return names
