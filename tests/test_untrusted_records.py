"""Every record file tfbench reads is untrusted (docs/design.md §13): a malformed manifest.json,
runs.csv or Parquet table, or a hostile .npz, is answered with one line naming the file and what is
wrong (a TfbenchError; exit 2 on the command line), never a traceback. Records written by older
tfbench versions within schema 1, which lack the appended columns, stay readable.

Most cases call report and compare in this process; a few run `python -m tfbench` where the exit code
and the absence of a traceback are the point."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from tfbench_cli import BASELINE, cli
from untrusted_folder import SUITE, copy_of, listing, read_manifest, valid_run, write_manifest

from tfbench.compare.comparison import compare
from tfbench.data.loading import load_data
from tfbench.errors import DataError, TfbenchError
from tfbench.records import store as records
from tfbench.report.html import write_report


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    return valid_run(tmp_path_factory.mktemp("valid"))


@pytest.fixture
def run(valid, tmp_path):
    return copy_of(valid, tmp_path / "run")


def refused(action, *fragments) -> str:
    """The one-line message of the TfbenchError `action` raises; it must hold every fragment."""
    with pytest.raises(TfbenchError) as error:
        action()
    message = str(error.value)
    assert message and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def test_the_valid_folder_renders_and_compares(run):
    assert write_report(run).is_file()
    assert not compare(run, run).failed


# --------------------------------------------------------------------------------------------- manifest.json


def _claim(edit):
    def change(manifest):
        edit(manifest["suites"][SUITE]["claims"][0])
        return manifest

    return change


MANIFESTS = {
    "a JSON list": (lambda m: [m], "is not a JSON object"),
    "suites a list": (lambda m: {**m, "suites": [m["suites"]]}, "suites is ["),
    "a suite entry a number": (lambda m: {**m, "suites": {SUITE: 3}}, f"suite {SUITE!r} is 3"),
    "claims text": (lambda m: {**m, "suites": {SUITE: {"claims": "all good"}}}, "claims is 'all good'"),
    "a claim a number": (lambda m: {**m, "suites": {SUITE: {"claims": [1]}}}, "claims is [1]"),
    "a claim without text": (_claim(lambda c: c.pop("text")), "a claim has no text"),
    "a claim with an unknown verdict": (_claim(lambda c: c.update(verdict="fine")), "verdict='fine' is unknown"),
    "a claim on a list": (_claim(lambda c: c.update(at=[])), "claim at is []"),
    "seeds text": (lambda m: {**m, "seeds": ["zero"]}, "seeds is ['zero']"),
    "a newer schema": (lambda m: {**m, "schema_version": 2}, "schema_version 2"),
    "a suite named ../x": (lambda m: {**m, "suites": {"../x": {}}}, "suite name '../x' is invalid"),
    "bad tolerances": (lambda m: {**m, "suites": {SUITE: {"tolerances": {"metric": "lots"}}}}, "tolerances"),
    "a calibration of text": (lambda m: {**m, "calibration": "fast"}, "calibration is 'fast'"),
    "a negative memory peak": (lambda m: {**m, "memory": {"peak_pss_mb": -1.0}}, "memory is {'peak_pss_mb': -1.0}"),
    "a memory of text": (lambda m: {**m, "memory": "lots"}, "memory is 'lots'"),
}


@pytest.mark.parametrize("case", list(MANIFESTS))
def test_a_malformed_manifest_is_one_line_naming_it_in_report_and_compare(run, case):
    edit, fragment = MANIFESTS[case]
    write_manifest(run, edit(read_manifest(run)))
    before = listing(run)
    refused(lambda: write_report(run), "manifest.json", fragment)
    assert listing(run) == before  # refused before anything was written
    refused(lambda: compare(BASELINE, run), "manifest.json", fragment)


@pytest.mark.parametrize("content", [b"{", b"\xff\xfe\x00garbage", b"[" * 100_000])
def test_a_manifest_that_is_not_json_is_one_line(run, content):
    (run / records.MANIFEST_FILE).write_bytes(content)
    refused(lambda: write_report(run), "manifest.json", "cannot be read")
    refused(lambda: compare(run, BASELINE), "manifest.json", "cannot be read")


def test_a_manifest_whose_setups_the_theory_cannot_read_is_one_line(run):
    manifest = read_manifest(run)
    setup = manifest["suites"][SUITE]["setups"]["relu"]
    setup["initializer"] = {"class_name": "RandomNormal", "config": {"stddev": 1e308}}  # σw² overflows
    write_manifest(run, manifest)
    refused(lambda: write_report(run), "manifest.json", "setups cannot be read")


def test_a_claim_that_leaves_out_fields_with_defaults_is_judged_with_them(run):
    """`on` and `at` have defaults in Claim; a manifest claim without them is judged as Claim reads it."""
    manifest = read_manifest(run)
    claims = manifest["suites"][SUITE]["claims"]
    for claim in claims:
        del claim["on"], claim["at"], claim["lower"]
    write_manifest(run, manifest)
    write_report(run)
    table = pd.read_csv(run / "claims.csv")
    assert len(table) == len(claims) and set(table.metric) <= {"final_metric", "verdict"}


def test_an_empty_manifest_still_renders_the_records(run):
    """`{}`: every key is optional (older manifests lack some); the page shows what the records tell."""
    write_manifest(run, {})
    page = write_report(run).read_text()
    assert f'href="./{SUITE}/index.html"' in page and "Profile</dt><dd>– · seeds  · monitor –" in page


# --------------------------------------------------------------------------------------------- runs.csv


def _runs(edit):
    def change(path):
        runs = pd.read_csv(path, dtype=str, keep_default_na=False)
        edit(runs).to_csv(path, index=False)

    return change


def _bytes(content: bytes):
    return lambda path: path.write_bytes(content)


RUNS = {
    "a column missing": (_runs(lambda r: r.drop(columns="status")), "lacks status"),
    "text in a metric column": (_runs(lambda r: r.assign(final_metric="oops")), "column final_metric holds 'oops'"),
    "text in the speed column": (_runs(lambda r: r.assign(steps_per_s="fast")), "column steps_per_s holds 'fast'"),
    "a fractional seed": (_runs(lambda r: r.assign(seed="0.5")), "column seed holds 0.5"),
    "an unknown status": (_runs(lambda r: r.assign(status="meh")), "column status holds 'meh'"),
    "an unknown verdict": (_runs(lambda r: r.assign(verdict="fine")), "column verdict holds 'fine'"),
    "a suite named ../x": (_runs(lambda r: r.assign(suite="../x")), "column suite holds '../x'"),
    "a repeated run": (_runs(lambda r: pd.concat([r, r.iloc[:1]])), "repeats"),
    "random bytes": (_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8))), "runs.csv"),
    "an empty file": (_bytes(b""), "cannot be read"),
}


@pytest.mark.parametrize("case", list(RUNS))
def test_a_malformed_runs_csv_is_one_line_naming_it_in_report_and_compare(run, case):
    edit, fragment = RUNS[case]
    edit(run / SUITE / records.RUNS_FILE)
    before = listing(run)
    refused(lambda: write_report(run), f"{SUITE}/runs.csv", fragment)
    assert listing(run) == before
    refused(lambda: compare(BASELINE, run), f"{SUITE}/runs.csv", fragment)


def test_a_bad_runs_csv_in_a_later_suite_leaves_every_earlier_suite_unwritten(run):
    later = copy_of(run / SUITE, run / "zz_later")
    RUNS["text in a metric column"][0](later / records.RUNS_FILE)
    before = listing(run)
    refused(lambda: write_report(run), "zz_later/runs.csv", "final_metric holds 'oops'")
    assert listing(run) == before and not (run / SUITE / "index.html").exists()


def test_runs_csv_of_an_older_tfbench_without_the_appended_columns_stays_readable(run):
    path = run / SUITE / records.RUNS_FILE
    old = pd.read_csv(path, dtype=str).drop(columns=["setup_s", "step_s", "monitor_s", "log10_time_ratio"])
    old.to_csv(path, index=False)
    assert write_report(run).is_file()
    assert not compare(run, BASELINE).failed


# --------------------------------------------------------------------------------------------- Parquet


def _parquet(name: str, edit):
    def change(folder):
        path = folder / name
        edit(pd.read_parquet(path)).to_parquet(path, index=False)

    return change


PARQUET = {
    "layers lacks a column": (_parquet(records.LAYERS_FILE, lambda t: t.drop(columns="depth")), "lacks depth"),
    "steps lacks a column": (_parquet(records.STEPS_FILE, lambda t: t.drop(columns="loss")), "lacks loss"),
    "steps with text steps": (_parquet(records.STEPS_FILE, lambda t: t.assign(step=t.step.astype(str))), "step"),
    "steps with a text loss": (_parquet(records.STEPS_FILE, lambda t: t.assign(loss="low")), "column loss"),
    "layers not Parquet": (lambda f: (f / records.LAYERS_FILE).write_text("suite,variant\n"), "cannot be read"),
    "timesteps not Parquet": (lambda f: (f / records.TIMESTEPS_FILE).write_bytes(b"PAR1\x00PAR1"), "cannot be read"),
}


@pytest.mark.parametrize("case", list(PARQUET))
def test_a_malformed_parquet_table_is_one_line_naming_it(run, case):
    edit, fragment = PARQUET[case]
    edit(run / SUITE)
    refused(lambda: write_report(run), f"{SUITE}/", ".parquet", fragment)


def test_a_bad_table_in_a_later_suite_leaves_every_earlier_page_as_it_was(run):
    """The tables of every suite are checked before the first page is rewritten, not suite by suite."""
    write_report(run)
    later = copy_of(run / SUITE, run / "zz_later")
    PARQUET["layers lacks a column"][0](later)
    (later / "index.html").unlink()

    def pages():  # an atomic rewrite is a new inode, even with the same bytes
        return {path: path.stat().st_ino for path in run.rglob("*.html")}

    before = pages()
    refused(lambda: write_report(run), "zz_later/", "lacks depth")
    assert pages() == before


def test_a_layers_table_without_the_appended_weight_column_stays_readable(run):
    _parquet(records.LAYERS_FILE, lambda t: t.drop(columns="weight"))(run / SUITE)
    assert write_report(run).is_file()


# --------------------------------------------------------------------------------------------- the command line


CLI_CASES = {
    "report: suites a list": (
        "report", lambda run: write_manifest(run, {**read_manifest(run), "suites": []}), "suites is ["),
    "report: a claim without text": (
        "report", lambda run: write_manifest(run, _claim(lambda c: c.pop("text"))(read_manifest(run))),
        "a claim has no text"),
    "report: layers lacks a column": ("report", lambda run: PARQUET["layers lacks a column"][0](run / SUITE),
                                      "lacks depth"),
    "compare: text in a metric": (
        "compare", lambda run: RUNS["text in a metric column"][0](run / SUITE / records.RUNS_FILE),
        "final_metric holds 'oops'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_the_command_line_answers_a_bad_file_with_exit_2_and_one_line(run, case):
    command, edit, fragment = CLI_CASES[case]
    edit(run)
    result = cli(command, *([BASELINE, run] if command == "compare" else [run]))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("tfbench: error: ") and fragment in result.stderr
    assert str(run) in result.stderr and result.stdout == ""


# --------------------------------------------------------------------------------------------- .npz data


def hostile_npz(path, shape=(10**12,)) -> str:
    """An archive whose x_train.npy header claims `shape` of float64 but holds 64 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    labels = io.BytesIO()
    np.save(labels, np.arange(8))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", header.getvalue() + bytes(64))
        archive.writestr("y_train.npy", labels.getvalue())
    return str(path)


def object_npz(path) -> str:
    np.savez(path, x_train=np.array([{"a": 1}] * 8, dtype=object), y_train=np.arange(8))
    return str(path)


def test_an_npz_whose_header_claims_more_than_it_holds_is_refused_before_allocating(tmp_path):
    path = hostile_npz(tmp_path / "hostile.npz")
    with pytest.raises(DataError) as error:
        load_data(path)
    message = str(error.value)
    assert "hostile.npz" in message and "x_train.npy" in message and "8000000000000 bytes" in message
    assert "holds 64 bytes" in message and "\n" not in message


def test_an_npz_whose_header_matches_its_bytes_loads(tmp_path):
    """The control: the same construction with an honest header (8 x 1 float64 = 64 bytes) is data."""
    data = load_data(hostile_npz(tmp_path / "honest.npz", shape=(8, 1)))
    assert data.x_train.shape[1:] == (1,)


def test_an_npz_holding_an_object_array_is_refused_without_unpickling(tmp_path):
    path = object_npz(tmp_path / "objects.npz")
    with pytest.raises(DataError, match=r"objects\.npz.*x_train\.npy.*Python objects") as error:
        load_data(path)
    assert "\n" not in str(error.value)


def suite_on(data: str, folder) -> str:
    suite = folder / "on_data.py"
    suite.write_text(
        "from tfbench import Setup, Suite\n"
        f"SUITE = Suite(name='on_data', factor='data', question='?', base=Setup(depth=2, width=8, steps=6), "
        f"levels=[{data!r}])\n"
    )
    return str(suite)


@pytest.mark.parametrize("make, fragment", [(hostile_npz, "8000000000000 bytes"), (object_npz, "Python objects")])
def test_run_on_a_hostile_npz_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, make, fragment):
    """Through tfbench.cli.main, as the console script calls it (TensorFlow imported in this process)."""
    from tfbench.cli import main

    data = make(tmp_path / "data.npz")
    code = main(["run", suite_on(data, tmp_path), "--profile", "quick", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "data.npz" in err and fragment in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # imports TensorFlow in a subprocess; the in-process tests above prove the refusal
def test_check_of_a_suite_on_a_hostile_npz_exits_2_with_one_line(tmp_path):
    suite = suite_on(hostile_npz(tmp_path / "hostile.npz"), tmp_path)
    result = cli("check", suite)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "hostile.npz" in result.stderr and "8000000000000 bytes" in result.stderr
