"""Keep a run's records as a baseline for `compare`: manifest.json and each <suite>/runs.csv, nothing else.

The step and layer Parquet files and the report are what a reader of one run needs; a comparison needs
only the per-run rows, so a committed baseline stays a few kilobytes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tfbench.compare.comparison import load_side
from tfbench.errors import TfbenchError
from tfbench.records import output_folder
from tfbench.records import store as records


def holds_only_a_baseline(folder: Path) -> bool:
    """True when every entry is manifest.json or a <suite>/runs.csv (or a stale lock), so replacing the
    folder loses no other file."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if any(inner.name != records.RUNS_FILE or not inner.is_file() for inner in entry.iterdir()):
                return False
        elif entry.name not in (records.MANIFEST_FILE, output_folder.LOCK_FILE) or not entry.is_file():
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

    `source` is read and validated as `compare` reads it before anything is written. `destination`
    must be new, empty, or an earlier baseline (only a tfbench manifest.json and <suite>/runs.csv), so
    a mistyped path never deletes a folder of other files; it is locked while it is replaced.

    The copy is assembled in a new temporary folder beside `destination` and swapped into place; a
    failure leaves the old baseline as it was, and only that temporary folder is ever deleted.
    """
    source, destination = Path(source), Path(destination)
    if not source.is_dir():
        raise TfbenchError(f"{str(source)!r} is not a directory: expected a folder written by 'tfbench run'")
    load_side(source, "baseline source")  # compare's own reader: a source it would refuse leaves DEST untouched
    names = records.suite_names(source)
    check_destination(source, destination)
    with output_folder.writing(destination, option="baseline destination"):
        _replace(source, destination, names)
    return names


def _replace(source: Path, destination: Path, names: list[str]) -> None:
    """Assemble the baseline in a folder made here (tempfile), then swap it with `destination`."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    staging, old = scratch / "new", scratch / "old"
    try:
        staging.mkdir()
        shutil.copyfile(source / records.MANIFEST_FILE, staging / records.MANIFEST_FILE)
        for name in names:
            (staging / name).mkdir()
            shutil.copyfile(source / name / records.RUNS_FILE, staging / name / records.RUNS_FILE)
        staging.chmod(0o755)
        destination.rename(old)
        try:
            staging.rename(destination)
        except BaseException:
            old.rename(destination)
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # made by this call: the new copy or the old baseline
