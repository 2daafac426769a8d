"""The version has one source, `tfbench.__version__`: setup.cfg reads it from there, so the package's
metadata and the code never disagree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tfbench

REPO = Path(__file__).resolve().parents[1]


def test_the_build_reads_the_version_of_the_package():
    """What setuptools writes into the sdist and wheel metadata is the package's own version."""
    built = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.splitlines()[-1] == tfbench.__version__


def test_the_version_is_written_once():
    """No second literal: setup.cfg points at the package instead of repeating the number."""
    config = (REPO / "setup.cfg").read_text()
    assert re.search(r"^version = attr: tfbench\.__version__$", config, re.MULTILINE), "setup.cfg repeats the version"
    literals = re.findall(r"^__version__ = ", (REPO / "tfbench" / "__init__.py").read_text(), re.MULTILINE)
    assert len(literals) == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", tfbench.__version__), tfbench.__version__
