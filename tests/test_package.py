"""The installable package (docs/design.md §2, §8): the sdist and the wheel carry the built-in suites, an
installed copy lists them from any folder, and a tfbench without suites says where it looked and exits 2.

Each command runs in a subprocess whose PYTHONPATH holds only the copy under test, never this checkout,
from a working directory without suites/.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITE_FILES = sorted(p.name for p in (REPO / "suites").glob("*.py"))


def python(*args, cwd: Path, path: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(path), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    command = [sys.executable, *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def shipped_suite_names() -> set[str]:
    """Names the repository's suites/ files define, read by importing each file directly."""
    names = set()
    for name in SUITE_FILES:
        spec = importlib.util.spec_from_file_location(f"package_test_{Path(name).stem}", REPO / "suites" / name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names |= {suite.name for suite in getattr(module, "SUITES", None) or [module.SUITE]}
    return names


def build_sdist(tmp_path: Path) -> Path:
    """The sdist, through the build backend pyproject.toml names (no network, no `build` package), from a
    copy of the checkout: a stale egg-info or build/ folder left in the checkout would add files to it."""
    source, dist = tmp_path / "source", tmp_path / "dist"
    junk = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "reports", "tests")
    shutil.copytree(REPO, source, ignore=junk)
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(dist)!r}))"
    result = python("-c", code, cwd=source, path=source, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return dist / result.stdout.splitlines()[-1]


def test_the_sdist_and_its_wheel_carry_the_suites_and_an_installed_copy_lists_them_from_any_folder(tmp_path):
    sdist = build_sdist(tmp_path)
    with tarfile.open(sdist) as archive:
        in_sdist = {Path(name).relative_to(Path(name).parts[0]).as_posix() for name in archive.getnames()}
    assert {f"suites/{name}" for name in SUITE_FILES} <= in_sdist

    # the wheel is built from the sdist, as pip does for a user, so the sdist alone must suffice
    wheels = tmp_path / "wheels"
    result = python("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, sdist,
                    cwd=tmp_path, path=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = wheels.glob("tfbench-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    assert {f"tfbench/builtin_suites/{name}" for name in SUITE_FILES} <= in_wheel
    assert not [name for name in in_wheel if name.startswith("suites/")]  # inside the package, not beside it

    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    install = ["-m", "pip", "install", "--no-deps", "--no-index", "--target", site, wheel]
    result = python(*install, cwd=tmp_path, path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

    where = python("-c", "import tfbench; print(tfbench.__file__)", cwd=elsewhere, path=site)
    assert Path(where.stdout.strip()) == site / "tfbench" / "__init__.py", where.stdout + where.stderr
    listed = python("-m", "tfbench", "list", cwd=elsewhere, path=site)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines() if line and not line.startswith(" ")}
    assert names == shipped_suite_names()


def test_without_suites_list_and_run_all_name_where_they_looked_and_exit_2(tmp_path):
    # a copy of the package alone: no suites/ beside it, none inside it, and an empty suites/ here
    package = tmp_path / "package"
    shutil.copytree(REPO / "tfbench", package / "tfbench", ignore=shutil.ignore_patterns("__pycache__"))
    here = tmp_path / "here"
    (here / "suites").mkdir(parents=True)
    for command in (["list"], ["run", "all", "--profile", "quick"]):
        result = python("-m", "tfbench", *command, cwd=here, path=package)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"'{here / 'suites'}' (no .py file)" in result.stderr
        assert f"'{package / 'suites'}' (absent)" in result.stderr
        assert "SUITE" in result.stderr
        assert not (here / "reports").exists()
