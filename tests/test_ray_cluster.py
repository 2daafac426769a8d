"""--ray-address against Ray as it ships: a cluster `ray start --head` started with token authentication
on is joined without any setting, and a refused connection is one line saying why (issue part 4).

The slow tests run the cluster recipe of docs/ray.md on this machine: a token (`ray get-auth-token
--generate`, into a home folder of their own), `ray start --head --node-ip-address 127.0.0.1 --port P`,
then `python -m tfbench run ... --executor ray --ray-address 127.0.0.1:P` with no RAY_AUTH_* variable.
They stop that cluster alone, by its process group: `ray stop` would stop every Ray on the machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from tfbench.engine.ray_cluster import token_source

REPO = Path(__file__).resolve().parents[1]
AUTH_VARIABLES = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")

SUITE_FILE = """
    from tfbench import Setup, Suite

    SUITE = Suite(
        name="ray_cluster_probe",
        factor="activation",
        question="Do runs train on a cluster started by ray start --head?",
        base=Setup(model="mlp", data="digits", depth=2, width=8, steps=20),
        levels=["tanh", "relu"],
    )
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """This environment without Ray's authentication variables, with its own home (and ~/.ray)."""
    env = {k: v for k, v in os.environ.items() if k not in AUTH_VARIABLES}
    return {**env, "HOME": str(home), "PYTHONPATH": str(REPO), **extra}


def tfbench_run(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tfbench", "run", *map(str, args)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def assert_one_error_line(result: subprocess.CompletedProcess, *quoted: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tfbench: error: ") and "expected" in lines[0], lines[0]
    assert all(text in lines[0] for text in quoted), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@needs_ray
def test_an_address_where_nothing_listens_is_one_line_saying_so_and_exit_2(tmp_path):
    suite = tmp_path / "ray_cluster_probe.py"
    suite.write_text(textwrap.dedent(SUITE_FILE))
    address = f"127.0.0.1:{free_port()}"  # bound and released: nothing listens there
    started = time.monotonic()
    result = tfbench_run(suite, "--executor", "ray", "--ray-address", address, "--out", tmp_path / "out",
                         env=child_env(tmp_path / "home"))  # fmt: skip
    line = assert_one_error_line(result, repr(address), "nothing is listening")
    assert "authentication" not in line
    assert time.monotonic() - started < 60  # Ray's own client retries such an address for minutes
    assert not (tmp_path / "out").exists()


# Where a token can be, as (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH names, ~/.ray/auth_token); None: absent.
TOKEN_CASES = {
    "nowhere": (None, None, None),
    "the default file": (None, None, "t0k3n"),
    "a blank default file": (None, None, " \n"),
    "the variable": ("t0k3n", None, None),
    "an empty variable, then the default file": ("", None, "t0k3n"),
    "a blank variable over the default file": ("  ", None, "t0k3n"),
    "the file the path variable names": (None, "t0k3n", None),
    "a path variable naming no file, over the default file": (None, "", "t0k3n"),
}


def token_case_env(folder: Path, variable, named, default) -> dict[str, str]:
    home = folder / "home"
    (home / ".ray").mkdir(parents=True)
    env = {"HOME": str(home)}
    if default is not None:
        (home / ".ray" / "auth_token").write_text(default)
    if variable is not None:
        env["RAY_AUTH_TOKEN"] = variable
    if named is not None:
        env["RAY_AUTH_TOKEN_PATH"] = str(folder / "named_token")
        if named:
            (folder / "named_token").write_text(named)
    return env


RAY_FINDS_A_TOKEN = """
import json, os, sys
from ray._raylet import AuthenticationTokenLoader

found = {}
for name, env in json.loads(sys.argv[1]).items():
    for key in ("HOME", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        os.environ.pop(key, None)
    os.environ.update(env)
    AuthenticationTokenLoader.instance().reset_cache()
    try:
        found[name] = AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True)
    except Exception:  # RAY_AUTH_TOKEN_PATH naming no file is an error to Ray: no token
        found[name] = False
print(json.dumps(found))
"""


@needs_ray
def test_token_source_finds_a_token_exactly_where_rays_own_loader_does(tmp_path):
    envs = {}
    for i, (name, case) in enumerate(TOKEN_CASES.items()):
        envs[name] = token_case_env(tmp_path / f"case_{i}", *case)
    ours = {name: token_source(env) is not None for name, env in envs.items()}
    ray_loader = subprocess.run([sys.executable, "-c", RAY_FINDS_A_TOKEN, json.dumps(envs)],
                                capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ray_loader.returncode == 0, ray_loader.stderr
    assert ours == json.loads(ray_loader.stdout.splitlines()[-1])
    assert "t0k3n" not in "".join(str(token_source(env)) for env in envs.values())  # a place, never the token


@needs_ray
def test_token_mode_is_set_for_ray_while_joined_and_only_when_a_token_is_at_hand(tmp_path, monkeypatch):
    from ray._raylet import AuthenticationMode, get_authentication_mode

    from tfbench.engine.ray_cluster import drop_token_mode, use_token_mode

    for key in AUTH_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert use_token_mode() is False  # no token: Ray's default mode, as `ray start` decides
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("t0k3n")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert use_token_mode() is False and os.environ["RAY_AUTH_MODE"] == "disabled"  # the user's choice stands
    monkeypatch.delenv("RAY_AUTH_MODE")
    try:
        assert use_token_mode() is True
        assert get_authentication_mode() == AuthenticationMode.TOKEN  # Ray's C++ configuration sees it
    finally:
        drop_token_mode()
    assert "RAY_AUTH_MODE" not in os.environ
    assert get_authentication_mode() == AuthenticationMode.DISABLED


def ray_cli() -> str:
    beside = Path(sys.executable).with_name("ray")  # the ray CLI of this virtualenv
    return str(beside) if beside.is_file() else shutil.which("ray") or "ray"


def stop_process_group(group: int) -> None:
    """SIGKILL every process `ray start` left in its group (what `ray stop --force` does to every Ray)."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node as docs/ray.md starts one, with token authentication on; stopped after the module."""
    home = tmp_path_factory.mktemp("home")
    temp_dir = tempfile.mkdtemp(prefix="tfbray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    env = child_env(home)
    generate = subprocess.run([ray_cli(), "get-auth-token", "--generate"], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
    assert generate.returncode == 0, generate.stderr
    port = free_port()
    own_ports = ["--ray-client-server-port", str(free_port()), "--dashboard-agent-listen-port", str(free_port())]
    start = [ray_cli(), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
             "--include-dashboard=false", "--temp-dir", temp_dir, "--disable-usage-stats", *own_ports]  # fmt: skip
    head = subprocess.Popen(start, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip  # its daemons share its process group
    try:
        output, _ = head.communicate(timeout=120)
        assert head.returncode == 0, output
        assert "Token authentication is enabled" in output, output  # the case this module is about
        yield {"address": f"127.0.0.1:{port}", "home": home, "token": generate.stdout.strip()}
    finally:
        stop_process_group(head.pid)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "ray_cluster_probe.py"
    path.write_text(textwrap.dedent(SUITE_FILE))
    return path


@pytest.mark.slow
@needs_ray
def test_a_suite_trains_on_a_token_cluster_with_no_setting_from_the_user(cluster, suite_file, tmp_path):
    result = tfbench_run(suite_file, "--profile", "quick", "--executor", "ray", "--ray-address",
                         cluster["address"], "--out", tmp_path, env=child_env(cluster["home"]))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    runs = pd.read_csv(tmp_path / "ray_cluster_probe" / "runs.csv")
    assert sorted(runs["variant"]) == ["relu", "tanh"]
    assert (runs["status"] == "ok").all(), runs[["variant", "status", "error"]]
    assert cluster["token"] not in result.stdout + result.stderr


@pytest.mark.slow
@needs_ray
def test_a_wrong_token_is_one_line_saying_authentication_and_exit_2(cluster, suite_file, tmp_path):
    env = child_env(cluster["home"], RAY_AUTH_TOKEN="wrong-token")
    result = tfbench_run(suite_file, "--profile", "quick", "--executor", "ray", "--ray-address",
                         cluster["address"], "--out", tmp_path / "out", env=env)  # fmt: skip
    line = assert_one_error_line(result, repr(cluster["address"]), "authentication refused", "RAY_AUTH_TOKEN")
    assert "nothing is listening" not in line
    assert "wrong-token" not in line and cluster["token"] not in line
    assert not (tmp_path / "out").exists()
