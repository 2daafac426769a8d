"""Property tests for untrusted records (docs/design.md §13): any mutation of a valid manifest.json or
runs.csv ends in a rendered page (or a finished comparison) or a TfbenchError with a one-line message,
never another exception. In-process, so each example costs a report, not a Python start-up."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from untrusted_folder import SUITE, valid_run

from tfbench.compare.comparison import compare
from tfbench.errors import TfbenchError
from tfbench.records import store as records
from tfbench.report.html import write_report

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
CELLS = st.one_of(
    st.text(max_size=8),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "ok", "failed", "healthy", "relu", "../x", "0x1p3"]),
)
DELETE = object()
# Each example renders a report and runs a comparison (about half a second): modest counts keep the
# default run short (a longer hunt: raise max_examples locally).
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    return valid_run(tmp_path_factory.mktemp("valid"))


def paths(value, prefix=()):
    """Every path into a JSON document, the document itself first."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield from paths(inner, (*prefix, key))


def mutated(document, data):
    """`document` with one to three values replaced by random JSON or removed, at random paths."""
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(list(paths(document))), label="path")
        value = data.draw(st.one_of(st.just(DELETE), JSON), label="value")
        if not path:
            document = {} if value is DELETE else value
            continue
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if value is DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return document


def answers_in_one_line(valid: Path, folder: Path) -> None:
    """report and compare of the mutated `folder` finish or raise a one-line TfbenchError."""
    for action in (lambda: write_report(folder), lambda: compare(valid, folder)):
        try:
            action()
        except TfbenchError as error:
            assert str(error) and "\n" not in str(error), str(error)


@FUZZ
@given(data=st.data())
def test_any_mutation_of_a_valid_manifest_renders_or_is_one_line(valid, data):
    manifest = mutated(json.loads((valid / records.MANIFEST_FILE).read_text()), data)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(shutil.copytree(valid, Path(temp) / "run"))
        (folder / records.MANIFEST_FILE).write_text(json.dumps(manifest))
        answers_in_one_line(valid, folder)


@FUZZ
@given(data=st.data())
def test_any_mutation_of_a_valid_runs_csv_renders_or_is_one_line(valid, data):
    runs = pd.read_csv(valid / SUITE / records.RUNS_FILE, dtype=str, keep_default_na=False)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        kind = data.draw(st.sampled_from(["cell", "cell", "column", "rows"]), label="kind")
        if kind == "cell" and len(runs) and len(runs.columns):
            row, column = data.draw(st.integers(0, len(runs) - 1)), data.draw(st.sampled_from(list(runs.columns)))
            runs.loc[runs.index[row], column] = data.draw(CELLS, label="cell")
        elif kind == "column" and len(runs.columns):
            runs = runs.drop(columns=data.draw(st.sampled_from(list(runs.columns)), label="dropped"))
        elif kind == "rows":
            runs = runs.iloc[: data.draw(st.integers(0, len(runs)), label="rows kept")]
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(shutil.copytree(valid, Path(temp) / "run"))
        runs.to_csv(folder / SUITE / records.RUNS_FILE, index=False)
        answers_in_one_line(valid, folder)


@settings(FUZZ, max_examples=20)
@given(cut=st.integers(0, 4000), tail=st.binary(max_size=40))
def test_a_truncated_or_garbled_runs_csv_renders_or_is_one_line(valid, cut, tail):
    content = (valid / SUITE / records.RUNS_FILE).read_bytes()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(shutil.copytree(valid, Path(temp) / "run"))
        (folder / SUITE / records.RUNS_FILE).write_bytes(content[: cut % (len(content) + 1)] + tail)
        answers_in_one_line(valid, folder)
