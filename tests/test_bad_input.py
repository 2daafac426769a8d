"""Bad input (issue: reliability): every case exits 2 with one line on stderr that quotes the bad
value and says what would be accepted, prints no traceback, and writes nothing.

Most cases run through `tfbench.cli.main` in this process (the same parser and error mapping the
console script uses); a few run `python -m tfbench` in a subprocess, where TensorFlow's start-up
notices and Python's own traceback printing are real.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tfbench.cli import main
from tfbench.errors import TfbenchError

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--profile", "quick"]


def suite_text(setup: str = "depth=2, width=8, steps=6", factor: str = '"activation"', levels: str = '["relu"]'):
    return textwrap.dedent(
        f"""
        from tfbench import Setup, Suite
        SUITE = Suite(name="bad", factor={factor}, question="?", base=Setup({setup}), levels={levels})
        """
    )


def write_npz(path: Path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def make_inputs(folder: Path) -> dict[str, str]:
    """Files the cases point at, written here so each case names its own bad value."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 4)).astype("float32"), rng.integers(0, 3, size=20)
    npz = {
        "nan_filled": write_npz(folder / "nan_filled.npz", x_train=np.full((20, 4), np.nan, "float32"), y_train=y),
        "mismatched": write_npz(folder / "mismatched.npz", x_train=x, y_train=y[:15]),
        "missing": str(folder / "missing.npz"),
        "corrupt": str(folder / "corrupt.npz"),
    }
    (folder / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    suites = {
        "syntax_error": "SUITE = Suite(\n",
        "no_suite": "from tfbench import Setup\nBASE = Setup()\n",
        "unknown_field": suite_text(setup="depht=2"),
        "factor_not_field": suite_text(factor='"colour"', levels='["red"]'),
        "level_changes_other": suite_text(
            factor='("optimizer", "learning_rate")', levels='[{"optimizer": "sgd", "learning_rate": 0.1, "depth": 3}]'
        ),
        "activation": suite_text(levels='["relu", "nope"]'),
        "initializer": suite_text(factor='"initializer"', levels='["he_normal", "no_such_init"]'),
        "optimizer": suite_text(factor='"optimizer"', levels='["sgd", "no_such_optimizer"]'),
        "regularizer": suite_text(factor='"regularizer"', levels='[None, "l3"]'),
        "model": suite_text(factor='"model"', levels='["mlp", "transformer"]'),
        "duplicate": suite_text(levels='["relu", "tanh", "relu"]'),
        "zero_width": suite_text(setup="depth=2, width=0, steps=6"),
        "negative_steps": suite_text(setup="depth=2, width=8, steps=-5"),
        "zero_batch": suite_text(factor='"batch_size"', levels="[32, 0]"),
        **{f"npz_{name}": suite_text(factor='"data"', levels=f"[{path!r}]") for name, path in npz.items()},
    }
    for name, body in suites.items():
        (folder / f"{name}.py").write_text(body)
    (folder / "a_file").write_text("keep me\n")
    return {name: str(folder / f"{name}.py") for name in suites}


# case -> (arguments, text the error line must quote). {f} is the folder of inputs; {out} the --out.
CASES = {
    "unknown command": (["frobnicate"], "'frobnicate'"),
    "unknown profile": (["run", "activation", "--profile", "turbo"], "'turbo'"),
    "unknown monitor": (["run", "activation", *QUICK, "--monitor", "bogus"], "'bogus'"),
    "zero seeds": (["run", "activation", *QUICK, "--seeds", "0"], "'0'"),
    "zero workers": (["run", "activation", *QUICK, "--workers", "0"], "'0'"),
    "negative workers": (["run", "activation", *QUICK, "--workers=-1"], "'-1'"),
    "workers not a number": (["run", "activation", *QUICK, "--workers", "x"], "'x'"),
    "unknown executor": (["run", "activation", *QUICK, "--executor", "spark"], "'spark'"),
    "unknown suite": (["run", "no_such_suite", *QUICK], "'no_such_suite'"),
    "missing suite file": (["run", "{f}/missing.py", *QUICK], "{f}/missing.py"),
    "ill-formed suite file": (["run", "{f}/syntax_error.py", *QUICK], "{f}/syntax_error.py"),
    "file without SUITE": (["run", "{f}/no_suite.py", *QUICK], "{f}/no_suite.py"),
    "unknown Setup field": (["run", "{f}/unknown_field.py", *QUICK], "'depht'"),
    "factor that is not a field": (["run", "{f}/factor_not_field.py", *QUICK], "'colour'"),
    "level that changes another field": (["run", "{f}/level_changes_other.py", *QUICK], "'depth'"),
    "unknown activation": (["run", "{f}/activation.py", *QUICK], "'nope'"),
    "unknown initializer": (["run", "{f}/initializer.py", *QUICK], "'no_such_init'"),
    "unknown optimizer": (["run", "{f}/optimizer.py", *QUICK], "'no_such_optimizer'"),
    "unknown regularizer": (["run", "{f}/regularizer.py", *QUICK], "'l3'"),
    "unknown model family": (["run", "{f}/model.py", *QUICK], "'transformer'"),
    "duplicate level labels": (["run", "{f}/duplicate.py", *QUICK], "'relu'"),
    "zero width": (["run", "{f}/zero_width.py", *QUICK], "width=0"),
    "negative steps": (["run", "{f}/negative_steps.py", *QUICK], "steps=-5"),
    "zero batch size": (["run", "{f}/zero_batch.py", *QUICK], "batch_size=0"),
    "missing npz": (["run", "{f}/npz_missing.py", *QUICK], "{f}/missing.npz"),
    "corrupt npz": (["run", "{f}/npz_corrupt.py", *QUICK], "{f}/corrupt.npz"),
    "NaN-filled npz": (["run", "{f}/npz_nan_filled.py", *QUICK], "{f}/nan_filled.npz"),
    "length-mismatched npz": (["run", "{f}/npz_mismatched.py", *QUICK], "{f}/mismatched.npz"),
    "out is a file": (["run", "activation", *QUICK, "--out", "{f}/a_file"], "{f}/a_file"),
    "out inside a file": (["run", "activation", *QUICK, "--out", "{f}/a_file/sub"], "{f}/a_file/sub"),
    "tensorboard is a file": (["run", "activation", *QUICK, "--tensorboard", "{f}/a_file"], "--tensorboard '{f}/"),
    "report of a missing folder": (["report", "{out}"], "{out}"),
}  # fmt: skip
PYTHON_MESSAGES = {"ill-formed suite file"}  # Python's own message and line number are what helps there
SUBPROCESS_CASES = ["unknown command", "unknown profile", "workers not a number", "unknown Setup field", "corrupt npz"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad_inputs")
    make_inputs(folder)
    return folder


def arguments(case: str, folder: Path, out: Path) -> tuple[list[str], str]:
    args, quoted = CASES[case]
    args = [a.format(f=folder, out=out) for a in args]
    if args[0] == "run" and "--out" not in args:
        args += ["--out", str(out)]
    return args, quoted.format(f=folder, out=out)


def assert_one_error_line(case: str, code: int, stderr: str, quoted: str) -> None:
    assert code == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tfbench: error: ") and quoted in lines[0], lines[0]
    if case not in PYTHON_MESSAGES:
        assert "expected" in lines[0] or "choose from" in lines[0], lines[0]  # says what would be accepted
    assert "Traceback" not in stderr


def assert_nothing_written(folder: Path, out: Path, before: dict) -> None:
    assert not out.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before  # inputs untouched
    assert not [p for p in folder.iterdir() if p.is_dir()]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_nothing_written(case, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    args, quoted = arguments(case, inputs, out)
    before = snapshot(inputs)
    code = main(args)
    captured = capsys.readouterr()
    assert_one_error_line(case, code, captured.err, quoted)
    assert_nothing_written(inputs, out, before)


def test_at_least_twenty_cases_cover_the_issue_list():
    assert len(CASES) >= 20


# `python -m tfbench` with Ray hidden from the import system, as where the extra is not installed
WITHOUT_RAY = ["-c", "import sys; sys.modules['ray'] = None; import tfbench.cli; sys.exit(tfbench.cli.main())"]


def console(*args: str, python: tuple = ("-m", "tfbench")) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the silencing is tested too
    return subprocess.run([sys.executable, *python, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def console_runs(inputs, tmp_path_factory):
    """The subprocess cases, run concurrently (each starts a Python; most import TensorFlow)."""
    folder = tmp_path_factory.mktemp("console")
    cases = {case: arguments(case, inputs, folder / f"out_{i}") for i, case in enumerate(SUBPROCESS_CASES)}
    cases["ray not installed"] = (["run", "activation", *QUICK, "--executor", "ray", "--out", str(folder / "ray")],
                                  "--executor ray")  # fmt: skip
    before = snapshot(inputs)

    def start(case):
        return console(*cases[case][0], python=WITHOUT_RAY if case == "ray not installed" else ("-m", "tfbench"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(cases, pool.map(start, cases), strict=True))
    outs = {case: folder / f"out_{i}" for i, case in enumerate(SUBPROCESS_CASES)}
    outs["ray not installed"] = folder / "ray"
    return {case: (results[case], cases[case][1], outs[case]) for case in cases}, before


@pytest.mark.parametrize("case", [*SUBPROCESS_CASES, "ray not installed"])
def test_bad_input_through_the_console_is_one_line_and_no_traceback(case, console_runs, inputs):
    runs, before = console_runs
    result, quoted, out = runs[case]
    assert_one_error_line(case, result.returncode, result.stderr, quoted)
    assert result.stdout == ""
    assert_nothing_written(inputs, out, before)


def test_usage_errors_point_at_a_help_command_that_works(console_runs):
    runs, _ = console_runs
    for case in ("unknown command", "unknown profile"):
        line = runs[case][0].stderr
        hint = re.search(r"\(see: python -m tfbench (.*)\)", line)
        assert hint, line
        result = console(*hint.group(1).split())
        assert result.returncode == 0 and "usage:" in result.stdout, (line, result.stderr)


def test_ray_executor_without_ray_names_the_extra_to_install(console_runs):
    runs, _ = console_runs
    assert 'pip install "tfbench[ray]"' in runs["ray not installed"][0].stderr


def test_error_lines_drop_the_terminal_colour_codes_keras_puts_in_its_messages():
    from tfbench.cli import plain_text

    keras_style = TfbenchError("Could not interpret activation identifier: \x1b[1mnope\x1b[0m\n(expected a name)")
    assert plain_text(keras_style) == "Could not interpret activation identifier: nope (expected a name)"
