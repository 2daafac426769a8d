"""manifest.json: what ran, where, with which versions (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from importlib import metadata

from tfbench.records.store import SCHEMA_VERSION
from tfbench.spec.profiles import get_profile
from tfbench.spec.suite import canonical


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


def suite_entry(suite, profile: str | None = None) -> dict:
    """What the report needs to know about a suite that the run records do not say.

    `setups` holds each level's effective Setup (the profile applied) in tfbench.spec.suite.canonical form,
    from which the report computes the mean-field prediction; manifests without it get no overlay.
    """
    apply = get_profile(profile).apply if profile else (lambda setup: setup)
    return {
        "factor": suite.factor_name,
        "question": suite.question,
        "reference": suite.reference_label,
        "levels": [v.label for v in suite.variants()],
        "tolerances": {key: str(value) for key, value in suite.tolerances.items()},  # compare's per-suite gates
        "setups": {v.label: canonical(apply(v.setup)) for v in suite.variants()},
    }


def build_manifest(profile: str, seeds: list[int], monitor: str, suites: list) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
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
        "suites": {suite.name: suite_entry(suite, profile) for suite in suites},
        "started": utc_now(),
        "finished": None,
    }
