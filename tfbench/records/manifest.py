"""manifest.json: what ran, where, with which versions (docs/design.md §6)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from tfbench.records.schema import SCHEMA_VERSION


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else what platform knows."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_line() -> str:
    """The command as a user would type it again (`python -m tfbench ...`, not the __main__ path)."""
    program = "python -m tfbench" if sys.argv[0].endswith("__main__.py") else sys.argv[0]
    return shlex.join([*program.split(), *sys.argv[1:]])


@functools.lru_cache(maxsize=1)
def source_revision() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout that holds this tfbench package, so a record says which code
    made it (the speed gate's CI baseline reads it); (None, None) for an installed wheel or without git.
    Asked once per process: two short git calls."""
    package_parent = Path(__file__).resolve().parents[2]
    try:
        top = _git(package_parent, "rev-parse", "--show-toplevel")
        if Path(top).resolve() != package_parent:  # a wheel installed inside some other repository
            return None, None
        return _git(package_parent, "rev-parse", "HEAD"), bool(_git(package_parent, "status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return None, None


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def build_manifest(profile: str, seeds: list[int], monitor: str, suites: dict) -> dict:
    """`suites`: name -> what the report needs to know of it (tfbench.spec.manifest_entry.suite_entry)."""
    revision, dirty = source_revision()
    return {
        "schema_version": SCHEMA_VERSION,
        "revision": revision,
        "dirty": dirty,
        "versions": {
            "tfbench": _version("tfbench"),
            "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
            "keras": _version("keras"),
            "numpy": _version("numpy"),
            "python": platform.python_version(),
        },
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "command_line": command_line(),
        "profile": profile,
        "seeds": seeds,
        "monitor": monitor,
        "suites": suites,
        "started": utc_now(),
        "finished": None,
    }
