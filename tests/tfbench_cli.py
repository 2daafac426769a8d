"""The tfbench command line as the tests run it: a subprocess of this checkout, and the committed
quick-profile baseline that compare and baseline tests read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "baseline" / "quick"


def cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tfbench", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)  # fmt: skip
