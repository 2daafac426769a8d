"""Keep a run's records as a baseline for `compare`: manifest.json and each <suite>/runs.csv, nothing else.

The step and layer Parquet files and the report are what a reader of one run needs; a comparison needs
only the per-run rows, so a committed baseline stays a few kilobytes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tfbench import records
from tfbench.errors import TfbenchError


def save_baseline(source: str | Path, destination: str | Path) -> list[str]:
    """Replace `destination` with the records of `source` needed by compare; return the suites kept.

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
    if destination.resolve() == source.resolve():
        raise TfbenchError(f"baseline destination {str(destination)!r} is the source: expected another folder")
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
