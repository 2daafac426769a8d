"""Validate suites and the output folder before anything trains or anything is written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tfbench.errors import TfbenchError


def check_suites(suites, profile, build: bool = True, log=None) -> int:
    """Resolve every variant's values through Keras and load its data; with `build`, also build and
    compile each model (what `tfbench check` does). Returns the number of variants checked."""
    from tfbench.data.loading import load_data
    from tfbench.harness.build import build_model, resolve_fields

    count = 0
    for suite in suites:
        for variant in suite.variants():
            setup = profile.apply(variant.setup)
            try:
                data = load_data(setup.data)
                resolve_fields(setup)
                if build:
                    build_model(setup, data, seed=0)
            except TfbenchError as error:
                raise TfbenchError(f"suite {suite.name!r}, level {variant.label!r}: {error}") from None
            count += 1
        if log:
            log(f"{suite.name:<15} ok  {len(suite.variants())} variants of {suite.factor_name}")
    return count


def ensure_output_folder(out, option: str = "--out") -> Path:
    """Create `out` if needed and prove it is a writable directory; nothing else is written.
    `option` names the command-line option in the error."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise TfbenchError(f"{option} {str(path)!r} is not a directory: expected a writable directory path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tfbench-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise TfbenchError(
            f"{option} {str(path)!r} is not writable ({error.strerror or error}): expected a writable directory path"
        ) from None
    return path
