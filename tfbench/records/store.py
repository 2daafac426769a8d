"""Reading and writing the record files of docs/design.md §6 (their columns: tfbench/records/schema.py).

Every file is written atomically (a temporary file in the same folder, then os.replace), so a
reader, or a run killed at any moment, never sees a half-written file.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.parquet

from tfbench.errors import TfbenchError
from tfbench.records.manifest_check import check_manifest
from tfbench.records.names import plain_name, refuse_links
from tfbench.records.schema import (
    LAYER_COLUMNS,
    LAYERS_FILE,
    MANIFEST_FILE,
    RUN_COLUMNS,
    RUN_TEXT_DTYPES,
    RUNS_FILE,
    STEP_COLUMNS,
    STEPS_FILE,
    TIMESTEP_COLUMNS,
    TIMESTEPS_FILE,
)
from tfbench.records.table_check import check_parquet, check_runs


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
    """One suite's runs.csv alone (all that `compare` and a committed baseline need), validated."""
    path = refuse_links(folder, RUNS_FILE)
    try:
        runs = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=RUN_TEXT_DTYPES)
    except (OSError, ValueError, OverflowError, csv.Error) as error:
        raise TfbenchError(f"{str(path)!r} cannot be read ({one_line(error)}): expected a tfbench runs.csv") from None
    return check_runs(runs, path)


def _read_parquet(folder: Path, name: str, kind: str) -> pd.DataFrame:
    path = refuse_links(folder, name)
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError, TypeError, NotImplementedError, pyarrow.ArrowException) as error:
        raise TfbenchError(
            f"{str(path)!r} cannot be read ({one_line(error)}): expected the {kind} table of a tfbench run"
        ) from None
    return check_parquet(table, kind, path)


def check_suite_tables(folder: Path) -> None:
    """Every Parquet table of one suite has the columns and types of a tfbench run, read from the files'
    footers alone (cheap): lets `report` refuse a bad table before it rewrites any page."""
    folder = Path(folder)
    for name, kind in ((STEPS_FILE, "steps"), (LAYERS_FILE, "layers"), (TIMESTEPS_FILE, "timesteps")):
        path = refuse_links(folder, name)
        if kind == "timesteps" and not path.is_file():
            continue
        try:
            empty = pyarrow.parquet.read_schema(path).empty_table().to_pandas()
        except (OSError, ValueError, TypeError, NotImplementedError, pyarrow.ArrowException) as error:
            raise TfbenchError(
                f"{str(path)!r} cannot be read ({one_line(error)}): expected the {kind} table of a tfbench run"
            ) from None
        check_parquet(empty, kind, path)


def read_suite(folder: Path) -> SuiteRecords:
    """One suite's records, each file validated (docs/design.md §13)."""
    folder = Path(folder)
    runs = read_runs(folder)
    steps = _read_parquet(folder, STEPS_FILE, "steps")
    layers = _read_parquet(folder, LAYERS_FILE, "layers")
    if not (folder / TIMESTEPS_FILE).is_file():
        return SuiteRecords(runs=runs, steps=steps, layers=layers)
    timesteps = _read_parquet(folder, TIMESTEPS_FILE, "timesteps")
    return SuiteRecords(runs=runs, steps=steps, layers=layers, timesteps=timesteps)


def one_line(error: Exception) -> str:
    """An error's message on one line (pyarrow's and pandas' can span several)."""
    return " ".join(f"{type(error).__name__}: {error}".split())


def suite_names(out: str | Path) -> list[str]:
    """The suites recorded under a run's output folder (which must hold a manifest): plain names of real
    folders, never links out of `out`."""
    out = Path(out)
    if not refuse_links(out, MANIFEST_FILE).is_file():
        raise TfbenchError(f"{str(out)!r} is not a tfbench output folder: expected {MANIFEST_FILE} inside it")
    names = [p.parent.name for p in sorted(out.glob(f"*/{RUNS_FILE}"))]
    for name in names:
        plain_name(name, f"suite folder in {str(out)!r}")
        refuse_links(out, name)
    return names


def load_results(out: str | Path) -> dict[str, SuiteRecords]:
    """Every suite's records under a run's output folder, by suite name."""
    names = suite_names(out)  # a run folder: it holds a manifest
    read_manifest(out)  # records of a newer schema are refused, not misread
    return {name: read_suite(Path(out) / name) for name in names}


def read_manifest(out: str | Path) -> dict:
    """The run's manifest, validated (tfbench/records/manifest_check.py); refused when a newer tfbench
    wrote it under a schema this one cannot read."""
    path = refuse_links(out, MANIFEST_FILE)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as error:
        raise TfbenchError(
            f"manifest {str(path)!r} cannot be read ({one_line(error)}): expected a tfbench run's manifest.json"
        ) from None
    return check_manifest(manifest, path)
