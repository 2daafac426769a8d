"""runs.csv and the Parquet tables as read back (docs/design.md §6, §13): the columns every reader
uses, with the types the harness writes, or the file is refused with one line naming it.

Columns appended after schema 1 was first written may be absent (older records stay readable); a
column that is present must hold its type.
"""

from __future__ import annotations

import math

import pandas as pd

from tfbench.errors import TfbenchError
from tfbench.records.names import PLAIN_RULE, is_plain, shown
from tfbench.records.schema import LAYER_COLUMNS, RUN_COLUMNS, RUN_TEXT_DTYPES, STEP_COLUMNS, TIMESTEP_COLUMNS
from tfbench.spec.claim import VERDICTS

# Appended after schema 1 was first written (schema.py): readers tolerate their absence.
APPENDED = {"runs": ("setup_s", "step_s", "monitor_s", "log10_time_ratio"), "layers": ("weight",)}
STATUSES = ("ok", "diverged", "failed")
INTEGER_COLUMNS = ("seed", "step", "depth", "timestep")
TEXT_COLUMNS = ("suite", "variant", "layer", "weight")
EXPECTED_RUNS = "expected schema version 1 of a tfbench runs.csv"


def check_runs(runs: pd.DataFrame, path) -> pd.DataFrame:
    """runs.csv read with RUN_TEXT_DTYPES: the columns present, numbers numeric, seeds whole, statuses
    and verdicts known, suite names plain. Returns the table with its number columns as numbers (a
    column of numbers and "inf" text comes back as floats) and its seeds as int64."""
    where = str(path)
    required = [c for c in RUN_COLUMNS if c not in APPENDED["runs"]]
    missing = [c for c in required if c not in runs]
    if missing:
        raise TfbenchError(f"{where!r} lacks {', '.join(missing)}: {EXPECTED_RUNS} with {', '.join(required)}")
    runs = runs.copy()
    for column in (c for c in RUN_COLUMNS if c in runs and c not in RUN_TEXT_DTYPES):
        runs[column] = _numbers(runs[column], column, where)
    seeds = runs["seed"]
    whole = seeds.notna() & seeds.map(lambda s: math.isfinite(s) and s == int(s) and abs(s) < 2**63)
    _refuse_first(runs, ~whole, "seed", where, "a whole number")
    runs["seed"] = seeds.astype("int64")
    _refuse_first(runs, ~runs["status"].isin(STATUSES), "status", where, " or ".join(STATUSES))
    for column in ("verdict", "verdict_end"):
        _refuse_first(runs, runs[column].notna() & ~runs[column].isin(VERDICTS), column, where,
                      f"empty or one of {', '.join(VERDICTS)}")  # fmt: skip
    _refuse_first(runs, ~runs["suite"].map(is_plain), "suite", where, PLAIN_RULE)
    _refuse_first(runs, runs["variant"].isna(), "variant", where, "a level label")
    twice = runs.duplicated(subset=["suite", "variant", "seed"])
    _refuse_first(runs, twice, "variant", where, "one row per (suite, variant, seed); this row repeats one")
    return runs


def _numbers(values: pd.Series, column: str, where: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        raise TfbenchError(f"{where!r}: column {column} holds true/false: {EXPECTED_RUNS}, numbers in {column}")
    if pd.api.types.is_numeric_dtype(values):
        return values
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise TfbenchError(f"{where!r}: column {column} holds {shown(values.iloc[row])} in row {row + 1}: "
                           f"{EXPECTED_RUNS}, numbers in {column}")  # fmt: skip
    return numbers.astype("float64")


def _refuse_first(table: pd.DataFrame, bad: pd.Series, column: str, where: str, expected: str) -> None:
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        value = table[column].iloc[row]
        value = value.item() if hasattr(value, "item") else value  # 0.5, not np.float64(0.5)
        raise TfbenchError(f"{where!r}: column {column} holds {shown(value)} in row {row + 1}: "
                           f"expected {expected}")  # fmt: skip


# file kind -> its columns
PARQUET_COLUMNS = {"steps": STEP_COLUMNS, "layers": LAYER_COLUMNS, "timesteps": TIMESTEP_COLUMNS}


def check_parquet(table: pd.DataFrame, kind: str, path) -> pd.DataFrame:
    """A steps, layers or timesteps table: its columns present, each of the type the harness writes."""
    where, columns = str(path), PARQUET_COLUMNS[kind]
    missing = [c for c in columns if c not in table and c not in APPENDED.get(kind, ())]
    if missing:
        raise TfbenchError(f"{where!r} lacks {', '.join(missing)}: expected a tfbench {kind} table with "
                           f"{', '.join(columns)}")  # fmt: skip
    for column in (c for c in columns if c in table):
        values = table[column]
        if column in TEXT_COLUMNS:
            good = pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")
            expected = "text"
        elif column in INTEGER_COLUMNS:
            good = pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values)
            expected = "integers"
        else:
            good = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            expected = "numbers"
        if not good:
            raise TfbenchError(f"{where!r}: column {column} has type {values.dtype}: expected {expected} in a "
                               f"tfbench {kind} table")  # fmt: skip
    return table
