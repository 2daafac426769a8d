"""Which folders a command may write into, and the lock that gives a folder one writer at a time.

A command writes only into a folder that is absent, empty, or a tfbench folder: one whose
manifest.json is a tfbench manifest (a JSON object with `schema_version` and `suites`), or one that
holds nothing but tfbench folders (e.g. `reports/` holding only `diagnose-<model>/`). Anything else is
someone else's, and is refused before any work starts.

The lock is `fcntl.flock` on OUT/.tfbench.lock, taken without waiting: a second writer is refused at
once, naming the holder. The kernel releases a flock when its process dies, so the file a killed run
leaves behind blocks nothing. The descriptor is close-on-exec and never handed to a worker (workers
start from an exec'd fork server, or are spawned), so only the writing process holds the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import sys
from pathlib import Path

from tfbench.errors import TfbenchError
from tfbench.records.schema import MANIFEST_FILE
from tfbench.records.store import read_manifest

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are checked but not locked
    fcntl = None

LOCK_FILE = ".tfbench.lock"
# Left behind by a process killed at the wrong moment: a stale lock, a temporary file of an atomic write.
_OURS = (LOCK_FILE,)
_HELD: dict[str, list] = {}  # real path -> [descriptor, depth]: a process may nest its own writers


def _leftover(name: str) -> bool:
    return name in _OURS or (name.startswith(".") and name.endswith(".tmp"))


def is_tfbench_manifest(data) -> bool:
    """A manifest tfbench wrote: a JSON object with an integer schema_version and a suites object."""
    version = data.get("schema_version") if isinstance(data, dict) else None
    return isinstance(version, int) and not isinstance(version, bool) and isinstance(data.get("suites"), dict)


def _manifest_of(folder: Path):
    try:
        return json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None


def is_tfbench_folder(folder: Path) -> bool:
    """Holds a tfbench manifest, or nothing but folders that hold one (and what a killed run leaves)."""
    if (folder / MANIFEST_FILE).exists():
        return is_tfbench_manifest(_manifest_of(folder))
    entries = [entry for entry in folder.iterdir() if not _leftover(entry.name)]
    return bool(entries) and all(
        e.is_dir() and not e.is_symlink() and is_tfbench_manifest(_manifest_of(e)) for e in entries
    )


def check_output_folder(out, option: str = "--out", existing: bool = False) -> Path:
    """Refuse, writing nothing, a folder this command must not write: a file, someone else's folder,
    records of a newer schema, a folder another process is writing. `existing`: the folder must
    already be a tfbench folder (report). Returns the path."""
    path = Path(out)
    ancestor = next(folder for folder in (path, *path.parents) if folder.exists() or folder == Path(folder.anchor))
    if not ancestor.is_dir():
        raise TfbenchError(f"{option} {str(path)!r} is a file or lies under one ({str(ancestor)!r}): expected a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise TfbenchError(f"{option} {str(path)!r} is not writable ({str(ancestor)!r} is read-only): "
                           "expected a writable folder")  # fmt: skip
    if ancestor != path:
        if existing:
            raise TfbenchError(f"{option} {str(path)!r} does not exist: expected a folder written by 'tfbench run'")
        return path
    if any(not _leftover(entry.name) for entry in path.iterdir()) or existing:
        _check_ours(path, option)
    _check_unlocked(path, option)
    return path


def _check_ours(path: Path, option: str) -> None:
    # A manifest is read once: a malformed or newer one is named as such (and never rewritten), then judged.
    own = (path / MANIFEST_FILE).exists()
    ours = is_tfbench_manifest(read_manifest(path)) if own else is_tfbench_folder(path)
    if not ours:
        found = ", ".join(sorted(e.name for e in path.iterdir() if not _leftover(e.name))[:3]) or "nothing"
        raise TfbenchError(
            f"{option} {str(path)!r} holds files tfbench did not write ({found}) and no tfbench {MANIFEST_FILE}: "
            "expected a new or empty folder, or one written by tfbench"
        )


def _holder(lock: Path) -> str:
    try:
        text = lock.read_text(errors="replace").strip()
    except OSError:
        text = ""
    return " ".join(text.split())[:300] or "another process"


def _busy(path: Path, option: str) -> TfbenchError:
    return TfbenchError(f"{option} {str(path)!r} is being written by {_holder(path / LOCK_FILE)}: expected a folder "
                        "no other tfbench process is writing (wait for it to finish, or choose another)")  # fmt: skip


def _check_unlocked(path: Path, option: str) -> None:
    """Refuse at once a folder whose lock another process holds; takes nothing, creates nothing."""
    if fcntl is None or os.path.realpath(path) in _HELD:
        return
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # no lock file: nobody writes here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        raise _busy(path, option) from None
    finally:
        os.close(fd)


@contextlib.contextmanager
def writing(out, option: str = "--out", existing: bool = False):
    """Check `out` (check_output_folder), create it, and hold its lock while the block writes into it.
    On leaving, the lock file goes, and so do the folders this call created if nothing was written."""
    path = check_output_folder(out, option, existing)
    created = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(path)
    if key in _HELD:  # this process already writes here (the CLI around the runner)
        _HELD[key][1] += 1
    else:
        _HELD[key] = [_lock(path, option), 1]
    try:
        yield path
    finally:
        _HELD[key][1] -= 1
        if _HELD[key][1] == 0:
            _unlock(path, _HELD.pop(key)[0])
            for folder in created:  # innermost first; a folder that holds anything stays
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _lock(path: Path, option: str):
    """Take the folder's lock without waiting and write who holds it; the descriptor."""
    if fcntl is None:
        return None
    lock = path / LOCK_FILE
    for _ in range(5):  # the file may be removed by the holder that just finished: lock the one at the path
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _busy(path, option) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except OSError:
            same = False
        if same:
            with contextlib.suppress(OSError):  # who holds it is only for the message: a full disk may refuse it
                os.ftruncate(fd, 0)
                os.write(fd, _holder_text().encode())
            return fd
        os.close(fd)
    raise _busy(path, option)


def _holder_text() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} ({shlex.join(sys.argv)})\n"


def _unlock(path: Path, fd) -> None:
    if fd is None:
        return
    with contextlib.suppress(OSError):  # removed while still held, so no one locks a file about to go
        (path / LOCK_FILE).unlink()
    os.close(fd)
