"""Reading and writing the record files of docs/design.md §6 (their columns: tfbench/records/schema.py).

Every file is written atomically (a temporary file in the same folder, then os.replace), so a
reader, or a run killed at any moment, never sees a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tfbench.errors import TfbenchError
from tfbench.records.schema import (
    LAYER_COLUMNS,
    LAYERS_FILE,
    MANIFEST_FILE,
    RUN_COLUMNS,
    RUN_TEXT_DTYPES,
    RUNS_FILE,
    SCHEMA_VERSION,
    STEP_COLUMNS,
    STEPS_FILE,
    TIMESTEP_COLUMNS,
    TIMESTEPS_FILE,
)


def atomic_write(path: Path, write) -> None:
    """Call write(temp_path), then move the finished file into place in one rename."""
    path = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise _write_error(path, error) from None
    os.close(fd)
    try:
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; records are as readable as any new file
        write(temp)
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):  # a full disk: the file is named, the one in place is untouched
            raise _write_error(path, error) from None
        raise


def _write_error(path: Path, error: OSError) -> TfbenchError:
    reason = error.strerror or " ".join(str(error).split()) or type(error).__name__
    return TfbenchError(f"cannot write {str(path)!r} ({reason}): expected room and write permission there "
                        f"(the file already there, if any, is unchanged)")  # fmt: skip


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: Path, data: dict) -> None:
    def write(temp):
        Path(temp).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    atomic_write(path, write)


@dataclass
class SuiteRecords:
    runs: pd.DataFrame
    steps: pd.DataFrame
    layers: pd.DataFrame
    # Input gradient per time step (rnn models); empty for suites without recurrent models.
    timesteps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TIMESTEP_COLUMNS)))

    @classmethod
    def empty(cls) -> SuiteRecords:
        return cls(
            runs=pd.DataFrame(columns=list(RUN_COLUMNS)),
            steps=pd.DataFrame(columns=list(STEP_COLUMNS)),
            layers=pd.DataFrame(columns=list(LAYER_COLUMNS)),
        )

    def without_run(self, variant: str, seed: int) -> SuiteRecords:
        """These records less every row of one (variant, seed)."""

        def keep(table):
            if table.empty:
                return table
            return table[~((table.variant.astype(str) == variant) & (table.seed == seed))]

        return SuiteRecords(runs=keep(self.runs), steps=keep(self.steps), layers=keep(self.layers),
                            timesteps=keep(self.timesteps))  # fmt: skip

    def with_run(self, row: dict, steps=None, layers=None, timesteps=None) -> SuiteRecords:
        """These records with one run's rows in place of any earlier ones of its (variant, seed);
        a failed run brings only its runs.csv row."""
        kept = self.without_run(str(row["variant"]), row["seed"])
        return SuiteRecords(
            runs=_appended(kept.runs, pd.DataFrame([row])),
            steps=_appended(kept.steps, steps),
            layers=_appended(kept.layers, layers),
            timesteps=_appended(kept.timesteps, timesteps),
        )


def _appended(table: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    if extra is None or extra.empty:
        return table
    return extra.copy() if table.empty else pd.concat([table, extra], ignore_index=True)


def write_suite(folder: Path, records: SuiteRecords) -> None:
    """Write runs.csv, steps.parquet, layers.parquet (and timesteps.parquet when there are time-step
    rows) of one suite, each atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    runs = records.runs.reindex(columns=list(RUN_COLUMNS))
    atomic_write(folder / STEPS_FILE, lambda t: _typed(records.steps, STEP_COLUMNS).to_parquet(t, index=False))
    atomic_write(folder / LAYERS_FILE, lambda t: _typed(records.layers, LAYER_COLUMNS).to_parquet(t, index=False))
    if not records.timesteps.empty:
        timesteps = _typed(records.timesteps, TIMESTEP_COLUMNS)
        atomic_write(folder / TIMESTEPS_FILE, lambda t: timesteps.to_parquet(t, index=False))
    else:  # an earlier run's time steps must not outlive the runs that made them
        (folder / TIMESTEPS_FILE).unlink(missing_ok=True)
    # runs.csv last: a run listed there always has its steps and layers on disk.
    atomic_write(folder / RUNS_FILE, lambda t: runs.to_csv(t, index=False))


def _typed(table: pd.DataFrame, columns) -> pd.DataFrame:
    table = table.reindex(columns=list(columns))
    for name in table.columns:
        if name in ("suite", "variant", "layer"):
            table[name] = table[name].astype(str)
        elif name == "weight":  # records from before the column held layers with a kernel only
            table[name] = table[name].fillna("kernel").astype(str)
        elif name in ("seed", "step", "depth", "timestep"):
            table[name] = table[name].astype("int64")
        else:
            table[name] = table[name].astype("float64")
    return table


def read_runs(folder: Path) -> pd.DataFrame:
    """One suite's runs.csv alone (all that `compare` and a committed baseline need)."""
    try:
        return _read_runs_csv(Path(folder) / RUNS_FILE)
    except (OSError, ValueError) as error:
        path = str(Path(folder) / RUNS_FILE)
        raise TfbenchError(f"{path!r} cannot be read ({error}): expected a tfbench runs.csv") from None


def _read_runs_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=RUN_TEXT_DTYPES)


def read_suite(folder: Path) -> SuiteRecords:
    folder = Path(folder)
    try:
        runs = _read_runs_csv(folder / RUNS_FILE)
        steps = pd.read_parquet(folder / STEPS_FILE)
        layers = pd.read_parquet(folder / LAYERS_FILE)
        timesteps = pd.read_parquet(folder / TIMESTEPS_FILE) if (folder / TIMESTEPS_FILE).is_file() else None
    except (OSError, ValueError) as error:
        raise TfbenchError(
            f"records in {str(folder)!r} cannot be read ({error}): expected the files of a tfbench run"
        ) from None
    if timesteps is None:
        return SuiteRecords(runs=runs, steps=steps, layers=layers)
    return SuiteRecords(runs=runs, steps=steps, layers=layers, timesteps=timesteps)


def suite_names(out: str | Path) -> list[str]:
    """The suites recorded under a run's output folder (which must hold a manifest)."""
    out = Path(out)
    if not (out / MANIFEST_FILE).is_file():
        raise TfbenchError(f"{str(out)!r} is not a tfbench output folder: expected {MANIFEST_FILE} inside it")
    return [p.parent.name for p in sorted(out.glob(f"*/{RUNS_FILE}"))]


def load_results(out: str | Path) -> dict[str, SuiteRecords]:
    """Every suite's records under a run's output folder, by suite name."""
    names = suite_names(out)  # a run folder: it holds a manifest
    read_manifest(out)  # records of a newer schema are refused, not misread
    return {name: read_suite(Path(out) / name) for name in names}


def read_manifest(out: str | Path) -> dict:
    """The run's manifest; refused when a newer tfbench wrote it under a schema this one cannot read."""
    path = Path(out) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise TfbenchError(
            f"manifest {str(path)!r} cannot be read ({error}): expected a tfbench run's manifest.json"
        ) from None
    if not isinstance(manifest, dict):
        raise TfbenchError(f"manifest {str(path)!r} is not a JSON object: expected a tfbench run's manifest.json")
    version = manifest.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version > SCHEMA_VERSION:
        raise TfbenchError(
            f"manifest {str(path)!r} has schema_version {version!r}, which this tfbench cannot read: expected "
            f"schema_version <= {SCHEMA_VERSION} (a newer tfbench wrote these records; upgrade to read them)"
        )
    return manifest
