"""Nothing outside (docs/design.md §13): every name that becomes a path is a plain name, no read or
write follows a symbolic link out of the folder a command was given, and every link on a page is
relative and cannot carry a URL scheme."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from tfbench_cli import BASELINE, cli
from untrusted_folder import SUITE, copy_of, listing, read_manifest, valid_run, write_manifest

from tfbench import Setup, Suite
from tfbench.compare.comparison import compare
from tfbench.errors import TfbenchError
from tfbench.records import store as records
from tfbench.records.names import is_plain, plain_name
from tfbench.report.html import SHOWN, environment, relative_href, write_report
from tfbench.user.run_records import save_run

HOSTILE = ["javascript:alert(1)", "../x", "..", ".", "", "a/b", "a\\b", "a\x00b", ".hidden", "x" * 101, " x"]


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    return valid_run(tmp_path_factory.mktemp("valid"))


@pytest.fixture
def run(valid, tmp_path):
    return copy_of(valid, tmp_path / "run")


def one_line(action, *fragments) -> None:
    with pytest.raises(TfbenchError) as error:
        action()
    message = str(error.value)
    assert "\n" not in message and all(f in message for f in fragments), message


# --------------------------------------------------------------------------------------------- plain names


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_that_could_leave_its_folder_or_read_as_a_scheme_is_not_plain(name):
    assert not is_plain(name)
    one_line(lambda: plain_name(name, "suite name"), "suite name", "plain name")


@pytest.mark.parametrize("name", ["activation", "recurrent_20", "lr=0.1", "my-model.v2", "активация", "x" * 100])
def test_names_tfbench_writes_are_plain(name):
    assert plain_name(name, "suite name") == name


@pytest.mark.parametrize("name", ["../x", "javascript:alert(1)", "a" * 101])
def test_a_suite_whose_name_is_not_plain_is_refused(name):
    one_line(lambda: Suite(name=name, factor="activation", question="?", base=Setup(), levels=["relu"]), "Suite name")


@pytest.mark.parametrize("suite, variant", [("../x", "model"), ("javascript:alert(1)", "model"), ("ok", "a\nb")])
def test_save_records_refuses_a_name_that_is_not_plain_and_writes_nothing(tmp_path, suite, variant):
    row = {**records.read_runs(BASELINE / SUITE).iloc[0].to_dict(), "suite": suite, "variant": variant}
    out = tmp_path / "out"
    out.mkdir()
    one_line(lambda: save_run(out, suite, row, pd.DataFrame(), pd.DataFrame(), monitor="full"), "save_records")
    assert list(tmp_path.rglob("*")) == [out]


def test_a_tensorboard_run_folder_is_always_one_plain_segment_per_name():
    from tfbench.harness.tensorboard import run_directory  # imports TensorFlow

    for label in HOSTILE:
        path = run_directory("/logs", "suite", label, 3)
        assert path.parent.parent == Path("/logs/suite"), path
        assert is_plain(path.parent.name) and path.name == "seed_3", path
    one_line(lambda: run_directory("/logs", "../x", "relu", 0), "suite name")


# --------------------------------------------------------------------------------------------- names in records


@pytest.mark.parametrize("name", ["javascript:alert(1)", "a b"])
def test_a_suite_folder_whose_name_is_not_plain_is_refused_by_report_and_compare(run, name):
    (run / SUITE).rename(run / name)
    before = listing(run)
    one_line(lambda: write_report(run), repr(name), "plain name")
    assert listing(run) == before
    one_line(lambda: compare(BASELINE, run), repr(name), "plain name")


def test_a_manifest_naming_a_suite_javascript_is_refused(run):
    write_manifest(run, {**read_manifest(run), "suites": {"javascript:alert(1)": {}}})
    one_line(lambda: write_report(run), "manifest.json", "javascript:alert(1)", "plain name")


# --------------------------------------------------------------------------------------------- links on pages


@pytest.mark.parametrize("name", [SUITE, "javascript:alert(1)", "../x", "//evil.example", "a b"])
def test_a_suite_link_is_relative_and_carries_no_scheme_whatever_the_name(name):
    """Even a name that slipped past validation: the link stays a path beside the page."""
    href = relative_href(name) + "/index.html"
    parts = urllib.parse.urlsplit(href)
    assert parts.scheme == "" and parts.netloc == "" and href.startswith("./")
    assert href.count("/") == 2 and urllib.parse.unquote(href[2:-11]) == name


def test_the_index_and_claims_templates_build_links_with_the_safe_filter():
    """Rendered with a card and a claim named like a scheme: every href on the page is relative."""
    card = {
        "name": "javascript:alert(1)",
        "question": "",
        "factor": "",
        "rows": [],
        "reference": "",
        "best": None,
        "claims": None,
    }
    claim = {"claim": "c", "suite": "javascript:alert(1)", "metric": "m", "effect": 0.0, "ci_low": float("nan"),
             "ci_high": float("nan"), "seeds": 1, "status": "inconclusive", "source": "s"}  # fmt: skip
    page = environment().get_template("index.html").render(
        generated="now", version="0", root="", cards=[card], claims=[claim],
        manifest=dict.fromkeys(SHOWN), account={"time": "", "memory": "", "monitor": ""},
    )  # fmt: skip
    hrefs = [part.split('"', 1)[0] for part in page.split('href="')[1:]]
    assert len(hrefs) >= 3 and "./javascript%3Aalert%281%29/index.html" in hrefs
    assert all(urllib.parse.urlsplit(href).scheme == "" for href in hrefs), hrefs


# --------------------------------------------------------------------------------------------- symbolic links


def test_report_refuses_a_suite_folder_that_is_a_link_and_leaves_its_target_untouched(run, tmp_path):
    target = copy_of(run / SUITE, tmp_path / "elsewhere")
    (run / SUITE).rename(run / "real")
    (run / SUITE).symlink_to(target, target_is_directory=True)
    before = listing(target)
    one_line(lambda: write_report(run), "symbolic link", f"{SUITE}'")
    assert listing(target) == before
    assert not (run / "index.html").exists()
    one_line(lambda: compare(BASELINE, run), "symbolic link")


@pytest.mark.parametrize("entry", [records.MANIFEST_FILE, f"{SUITE}/{records.RUNS_FILE}", f"{SUITE}/figures",
                                   f"{SUITE}/{records.LAYERS_FILE}"])  # fmt: skip
def test_no_file_or_folder_inside_the_run_is_read_or_written_through_a_link(run, tmp_path, entry):
    outside = tmp_path / "outside"
    outside.mkdir()
    source = run / entry
    target = outside / source.name
    if source.name == "figures":  # not drawn yet (no layers): a folder a report would write into
        target.mkdir()
    else:  # a file the report would read
        target.write_bytes(source.read_bytes())
        source.unlink()
    source.symlink_to(target)
    before = listing(outside)
    one_line(lambda: write_report(run), "symbolic link", entry.split("/")[-1])
    assert listing(outside) == before


def test_the_command_line_refuses_a_linked_suite_folder_with_exit_2(run, tmp_path):
    target = copy_of(run / SUITE, tmp_path / "elsewhere")
    before = listing(target)
    (run / "linked").symlink_to(target, target_is_directory=True)
    result = cli("report", run)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "symbolic link" in result.stderr and "linked" in result.stderr
    assert listing(target) == before
