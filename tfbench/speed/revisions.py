"""Git revisions: resolve them, check targets against them, and materialize each one's tree in a temporary folder."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from tfbench.errors import TfbenchError


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, args, result.stdout, result.stderr)
    return result.stdout.strip()


def repository_root(folder: Path) -> Path:
    try:
        return Path(git(folder, "rev-parse", "--show-toplevel"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        raise TfbenchError(f"{str(folder)!r} is not inside a git repository: run speed from a git checkout") from None


def resolve(repo: Path, revision: str) -> str:
    """The full commit hash of anything `git rev-parse` accepts."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except subprocess.CalledProcessError:
        raise TfbenchError(
            f"revision {revision!r} is unknown in {str(repo)!r}: expected a commit, branch, tag or anything "
            "`git rev-parse` accepts"
        ) from None


def target_paths(repo: Path, targets: list[str]) -> list[tuple[str, str | None]]:
    """(target as passed, path relative to the repository or None): files inside the repository are
    read from each revision's tree; names and files outside it are passed on as they are."""
    mapped = []
    for target in targets:
        if not (target.endswith(".py") or "/" in target):
            mapped.append((target, None))
            continue
        path = Path(target).resolve()
        try:
            mapped.append((target, path.relative_to(repo.resolve()).as_posix()))
        except ValueError:
            if not path.is_file():
                raise TfbenchError(f"suite file {target!r} does not exist: expected a path to a .py file") from None
            mapped.append((str(path), None))
    return mapped


def check_present(repo: Path, commit: str, label: str, relative: str) -> None:
    try:
        git(repo, "cat-file", "-e", f"{commit}:{relative}")
    except subprocess.CalledProcessError:
        raise TfbenchError(
            f"suite file {relative!r} is missing in the {label} revision {commit[:12]}: expected it in both revisions"
        ) from None


def materialize(repo: Path, commit: str, into: Path) -> Path:
    """The commit's tracked files under `into` (git archive), nothing of the working tree."""
    into.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit], stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(into, filter="data")
    return into


class Trees:
    """A temporary folder holding one tree per distinct commit; removed on exit, and only it."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.folder = Path(tempfile.mkdtemp(prefix="tfbench-speed-"))
        self.trees: dict[str, Path] = {}

    def tree(self, commit: str) -> Path:
        if commit not in self.trees:
            self.trees[commit] = materialize(self.repo, commit, self.folder / commit[:12])
        return self.trees[commit]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.folder, ignore_errors=True)
