"""Joining a running Ray cluster: is anything listening at the address, and does Ray send its token.

Ray protects a cluster with a token once one exists: `ray start --head` turns token authentication on
when it finds a token (RAY_AUTH_TOKEN, the file RAY_AUTH_TOKEN_PATH names, or ~/.ray/auth_token,
which `ray get-auth-token --generate` and every local `ray.init()` write). A driver that joins by
address sends its token only with RAY_AUTH_MODE=token, which `ray start` sets for itself but nothing
sets for the driver; `use_token_mode` sets it for this process while it is joined, the way
`ray start` decides: when the user chose no mode and a token is at hand. A cluster without
authentication accepts a driver that sends one.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from tfbench.errors import TfbenchError

AUTH_MODE = "RAY_AUTH_MODE"
PROBE_TIMEOUT_S = 5.0
TOKEN_PLACES = "RAY_AUTH_TOKEN, in the file RAY_AUTH_TOKEN_PATH names, or in {default}"


def host_and_port(address: str) -> tuple[str, int] | None:
    """(host, port) of HOST:PORT or ray://HOST:PORT; None for the addresses Ray resolves itself (auto, local)."""
    host, colon, port = address.split("://")[-1].rpartition(":")
    if not colon or not port.isdigit():
        return None
    return host.strip("[]"), int(port)  # [::1]:6379 -> ::1


def check_listening(address: str, option: str = "--ray-address") -> None:
    """A TfbenchError naming the address when no process accepts a connection there, or the one that
    does is no Ray (it does not answer gRPC's greeting).

    Ray's own client retries an address where nothing listens for minutes, and waits longer still on
    a port held by something else; one TCP connection and one greeting say so within seconds."""
    where = host_and_port(address)
    if where is None:
        return
    try:
        with socket.create_connection(where, timeout=PROBE_TIMEOUT_S) as connection:
            answered = _answers_grpc(connection)
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__  # a timeout has no strerror
        raise TfbenchError(
            f"{option} {address!r}: nothing is listening there ({reason}): expected the address of a running "
            "Ray cluster's head node, HOST:PORT as `ray start --head --port PORT` prints it"
        ) from None
    if not answered:
        raise TfbenchError(
            f"{option} {address!r}: something listens there but does not answer as a Ray cluster (no gRPC reply "
            f"within {PROBE_TIMEOUT_S:g} s): expected the address of a running Ray cluster's head node, HOST:PORT "
            "as `ray start --head --port PORT` prints it"
        )


# The client's HTTP/2 connection preface and an empty SETTINGS frame: every gRPC server (Ray's GCS and
# its client server are gRPC) answers with a SETTINGS frame, frame type 4 in the 4th byte of its header.
HTTP2_GREETING = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
SETTINGS_FRAME = 4


def _answers_grpc(connection: socket.socket) -> bool:
    """Whether the peer answers HTTP/2 as a gRPC server does; True where Ray encrypts (RAY_USE_TLS),
    as a plain greeting cannot tell then."""
    if os.environ.get("RAY_USE_TLS", "").lower() in ("1", "true"):
        return True
    try:
        connection.sendall(HTTP2_GREETING)
        header = b""
        while len(header) < 9:
            chunk = connection.recv(9 - len(header))
            if not chunk:
                break
            header += chunk
    except OSError:  # a timeout or a reset: no answer
        return False
    return len(header) == 9 and header[3] == SETTINGS_FRAME


def default_token_file(environ=os.environ) -> Path:
    """~/.ray/auth_token: where `ray get-auth-token --generate` and a local `ray.init()` write the token."""
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".ray" / "auth_token"


def _has_text(path: Path) -> bool:
    try:
        return bool(path.read_text().strip())
    except (OSError, UnicodeDecodeError):
        return False


def token_source(environ=os.environ) -> str | None:
    """Where Ray's client takes its token from, in Ray's order; None when it finds none. Never the token."""
    token = environ.get("RAY_AUTH_TOKEN", "")
    if token:  # set, even blank, it wins over the files
        return "RAY_AUTH_TOKEN" if token.strip() else None
    named = environ.get("RAY_AUTH_TOKEN_PATH")
    if named:  # Ray reads this file alone when the variable is set
        return f"RAY_AUTH_TOKEN_PATH ({named})" if _has_text(Path(named)) else None
    default = default_token_file(environ)
    return str(default) if _has_text(default) else None


def _reload_ray_config() -> None:
    """Ray reads RAY_* variables into a configuration cached in C++; reread it, as Ray's own token setup does."""
    with contextlib.suppress(ImportError, AttributeError):  # a Ray without that cache reads the environment
        from ray._raylet import Config

        Config.initialize("")


def use_token_mode() -> bool:
    """RAY_AUTH_MODE=token for this process when the user set no mode and a token is at hand; True if set here."""
    if AUTH_MODE in os.environ or token_source() is None:
        return False
    os.environ[AUTH_MODE] = "token"
    _reload_ray_config()
    return True


def drop_token_mode() -> None:
    """Undo use_token_mode once this process has left the cluster."""
    os.environ.pop(AUTH_MODE, None)
    _reload_ray_config()


def refused_for_token(error: BaseException) -> bool:
    """Whether a failure to join was the cluster refusing this driver's token, or its lack of one.

    Ray raises ray.exceptions.AuthenticationError, or after its retries a ConnectionError caused by a
    RuntimeError that quotes it."""
    seen: BaseException | None = error
    for _ in range(8):  # cause chains are short; a cycle must not loop
        if seen is None:
            return False
        if type(seen).__name__ == "AuthenticationError" or any(
            mark in str(seen) for mark in ("AuthenticationError", "InvalidAuthToken")
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def join_error(address: str, error: BaseException, option: str = "--ray-address") -> TfbenchError:
    """One line for a cluster that refused this driver: its token, or what Ray said."""
    if not refused_for_token(error):
        return TfbenchError(
            f"{option} {address!r}: cannot connect ({error}): expected the address of a running Ray cluster "
            "(ray start --head prints it)"
        )
    mode, source = os.environ.get(AUTH_MODE, ""), token_source()
    expected = "the cluster's token (the head node's ~/.ray/auth_token) in " + TOKEN_PLACES.format(
        default=default_token_file()
    )
    if mode.lower() not in ("", "token"):
        refusal, expected = f"{AUTH_MODE}={mode} sends none", f"{AUTH_MODE} unset or token, and {expected}"
    elif source is None:
        refusal = "none was found"
    else:
        refusal = f"the one from {source} was not accepted"
    return TfbenchError(
        f"{option} {address!r}: authentication refused, the cluster requires a token and {refusal}: expected {expected}"
    )
