"""Every count a user gives has a largest accepted value: beyond it, one line naming the value and the
range, exit 2, before any work (tfbench/spec/limits.py) — never MemoryError, OverflowError, thousands
of processes or an hour-long loop."""

from __future__ import annotations

import socket
import textwrap
import threading
import time

import pytest
from tfbench_cli import cli

from tfbench.cli import main
from tfbench.errors import TfbenchError
from tfbench.spec import limits

QUICK = ["--profile", "quick"]


@pytest.mark.parametrize(
    ("args", "quoted"),
    [
        (["run", "activation", *QUICK, "--seeds", "1000000000000"],
         "'1000000000000' is invalid: expected an integer from 1 to 1000"),
        (["run", "activation", *QUICK, "--seeds", "100000000000000000000"], "'100000000000000000000'"),
        (["run", "activation", *QUICK, "--workers", "1000"], "'1000' is invalid: expected an integer from 1 to 256"),
        (["diagnose", "m.keras", "--data", "d.npz", "--batches", "1000000000"], "from 1 to 10000"),
        (["diagnose", "m.keras", "--data", "d.npz", "--batch-size", "1000000000"], "from 1 to 65536"),
    ],
)  # fmt: skip
def test_a_count_beyond_its_limit_is_one_line_naming_it_and_the_range(args, quoted, tmp_path, capsys):
    out = tmp_path / "out"
    code = main([*args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and quoted in err, err
    assert not out.exists()


def test_the_library_refuses_the_same_counts_as_the_command_line(tmp_path):
    from tfbench.engine.runner import run
    from tfbench.spec.discovery import discover

    suites = discover(["activation"])
    with pytest.raises(TfbenchError, match="--seeds 1000000000000 is invalid.*1 to 1000"):
        run(suites, profile="quick", seeds=10**12, out=tmp_path / "out")
    with pytest.raises(TfbenchError, match="--workers 1000 is invalid.*1 to 256"):
        run(suites, profile="quick", workers=1000, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_never_more_workers_than_runs():
    from tfbench.engine.scheduling import planned_workers
    from tfbench.spec.discovery import discover

    (suite,) = discover(["activation"])
    runs = len(suite.variants())  # one seed
    assert planned_workers(200, 1, [suite]) == runs
    assert planned_workers(2, 1, [suite]) == min(2, runs)


@pytest.mark.parametrize(
    ("field", "value", "maximum"),
    [("steps", 10**12, limits.MAX_STEPS), ("depth", 10**6, limits.MAX_DEPTH), ("width", 10**7, limits.MAX_WIDTH),
     ("batch_size", 10**9, limits.MAX_BATCH_SIZE), ("eval_every", 10**12, limits.MAX_STEPS),
     ("pretrain_steps", 10**12, limits.MAX_STEPS)],
)  # fmt: skip
def test_setup_counts_have_a_limit(field, value, maximum):
    from tfbench import Setup

    with pytest.raises(
        TfbenchError, match=rf"Setup\.{field}={value} is invalid: expected an integer from \d to {maximum}"
    ):
        Setup(**{field: value})


def test_a_suite_of_too_many_levels_is_refused():
    from tfbench import Setup, Suite

    with pytest.raises(TfbenchError, match=f"1001 levels are too many: expected from 1 to {limits.MAX_LEVELS}"):
        Suite(name="wide", factor="width", question="?", base=Setup(), levels=list(range(1, 1002)))


def test_eval_every_of_a_long_run_is_found_at_once():
    from tfbench import Setup

    started = time.monotonic()
    setup = Setup(steps=limits.MAX_STEPS)
    assert setup.effective_eval_every == limits.MAX_STEPS // 10
    assert Setup(steps=9_999_991).effective_eval_every in (1, 9_999_991)  # a prime: its only divisors
    assert time.monotonic() - started < 5  # a divisor search over every integer took minutes


@pytest.mark.parametrize(
    ("suite", "variant", "seed", "quoted"),
    [("../elsewhere", None, 0, "suite '../elsewhere'"), ("m", "", 0, "variant ''"), ("m", "x" * 201, 0, "variant 'xx"),
     ("m", None, -1, "seed=-1"), ("m", None, 2**40, f"seed={2**40}"), ("m", None, True, "seed=True")],
)  # fmt: skip
def test_save_records_arguments_are_checked(suite, variant, seed, quoted):
    from tfbench.user.run_records import check_record_names

    with pytest.raises(TfbenchError, match="expected") as raised:
        check_record_names(suite, variant, seed)
    assert quoted in str(raised.value)


def test_monitored_every_has_a_limit():
    import keras

    import tfbench

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(
        TfbenchError, match=f"every={10**12} is invalid: expected an integer from 1 to {limits.MAX_STEPS}"
    ):
        tfbench.monitored(model, every=10**12)


class SilentServer:
    """A TCP listener that is not Ray: it accepts connections and never answers."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        for connection in self.held:
            connection.close()
        self.socket.close()


def test_a_ray_address_held_by_something_else_fails_within_seconds_and_prints_no_token(tmp_path):
    pytest.importorskip("ray")
    suite = tmp_path / "probe.py"
    suite.write_text(textwrap.dedent("""
        from tfbench import Setup, Suite
        SUITE = Suite(name="probe", factor="activation", question="?", base=Setup(depth=2, width=8, steps=6),
                      levels=["relu"])
        """))  # fmt: skip
    server = SilentServer()
    token = "tfbench-test-token-5e3cret"
    try:
        started = time.monotonic()
        import os

        os.environ["RAY_AUTH_TOKEN"] = token  # inherited by the child
        try:
            result = cli("run", suite, *QUICK, "--executor", "ray", "--ray-address", server.address,
                         "--out", tmp_path / "out")  # fmt: skip
        finally:
            del os.environ["RAY_AUTH_TOKEN"]
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and repr(server.address) in lines[0] and "not answer as a Ray cluster" in lines[0], lines
    assert token not in result.stdout + result.stderr
    assert elapsed < 60  # Ray's own client waited more than four minutes on such a port
    assert not (tmp_path / "out").exists()
