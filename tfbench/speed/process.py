"""The coordinator's handle on one revision's worker process: JSON lines over pipes, stderr kept for errors."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tfbench.errors import TfbenchError


class WorkerCrashed(TfbenchError):
    """A worker ended or answered nonsense: the revision cannot be timed (exit 2, docs/speed.md)."""


class WorkerProcess:
    def __init__(self, name: str, tree: Path, script: Path):
        self.name = name
        self.tree = tree
        # stderr goes to a file, not a pipe: a chatty worker can never block on a full pipe
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        env = dict(os.environ, PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def request(self, op: str, **fields) -> dict:
        try:
            self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
            reply = json.loads(line) if line else None
        except (OSError, ValueError):
            reply = None
        if not isinstance(reply, dict):
            raise WorkerCrashed(f"the {self.name} worker stopped during {op!r}: {self.last_error()}")
        if "error" in reply:
            raise TfbenchError(f"{self.name} revision: {reply['error']}")
        return reply

    def last_error(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)  # its stdout closed: the exit code follows
        self.stderr.seek(0)
        lines = [line.strip() for line in self.stderr.read().splitlines() if line.strip()]
        code = self.process.returncode
        last = lines[-1] if lines else "no message"
        return f"{last} (exit code {code})" if code is not None else last

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.stderr.close()
