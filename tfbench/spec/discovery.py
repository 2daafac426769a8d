"""Find suites: every file in suites/, one by name, or a user's own file by path."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from tfbench.errors import SuiteError, TfbenchError
from tfbench.spec.setup import Setup
from tfbench.spec.suite import Suite


def shipped_folder() -> Path:
    """The built-in suites: inside the package when installed from a wheel or sdist (setup.py ships
    suites/ as tfbench/builtin_suites), else suites/ of the source checkout (also an editable install)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "builtin_suites"
    return installed if installed.is_dir() else package.parent / "suites"


def searched_folders() -> list[Path]:
    """Where suites are looked for, in order, each once: suites/ in the working directory, then the built-in ones."""
    seen, folders = set(), []
    for folder in (Path.cwd() / "suites", shipped_folder()):
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            folders.append(folder)
    return folders


def suite_folders() -> list[Path]:
    return [folder for folder in searched_folders() if folder.is_dir()]


def suite_files(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


# module name -> path of every suite file loaded in this process. Worker processes load the same files
# under the same names first, so a Setup holding a function from a user's file unpickles there.
LOADED_FILES: dict[str, str] = {}


def load_modules(files: dict[str, str]) -> None:
    """Load suite files under the module names another process gave them (once per process)."""
    for module_name, path in files.items():
        if module_name not in sys.modules:
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)


def load_file(path: str | Path) -> list[Suite]:
    """The suites a file defines through SUITE or SUITES = [...]."""
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"suite file {str(path)!r} does not exist: expected a path to a .py file")
    module_name = f"tfbench_suite_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None or path.suffix != ".py":
        raise SuiteError(f"suite file {str(path)!r} is not a Python file: expected a .py file defining SUITE")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
        LOADED_FILES[module_name] = str(path.resolve())
    except TfbenchError as error:
        raise SuiteError(f"{path}: {error}") from None
    except Exception as error:  # any error in a user's file is a user error, reported in one line
        raise SuiteError(
            f"suite file {str(path)!r} failed to load: {type(error).__name__}: {error}{_accepted_fields(error)}"
        ) from None
    suites = getattr(module, "SUITES", None)
    if suites is None:
        suites = [module.SUITE] if hasattr(module, "SUITE") else None
    if not suites:
        raise SuiteError(f"suite file {str(path)!r} defines no suite: expected SUITE = Suite(...) or SUITES = [...]")
    for suite in suites:
        if not isinstance(suite, Suite):
            raise SuiteError(f"suite file {str(path)!r} defines {suite!r}: expected tfbench.Suite objects")
    return list(suites)


def _accepted_fields(error: Exception) -> str:
    """For `Setup(depht=3)` or `Suite(nmae=...)`, the fields that would be accepted."""
    text = str(error)
    for cls in (Setup, Suite):
        if isinstance(error, TypeError) and text.startswith(f"{cls.__name__}.__init__() got an unexpected keyword"):
            return f": expected one of {', '.join(f.name for f in dataclasses.fields(cls))}"
    return ""


def all_suites() -> list[Suite]:
    suites: dict[str, Suite] = {}
    for folder in suite_folders():
        for path in suite_files(folder):
            for suite in load_file(path):
                suites.setdefault(suite.name, suite)
    if not suites:
        raise SuiteError(
            f"no suite found: looked in {no_suite_places()}; expected .py files defining SUITE or SUITES "
            "in one of them: run from the folder that holds suites/, or name a suite file (tfbench run FILE.py)"
        )
    return list(suites.values())


def no_suite_places() -> str:
    """Each searched folder with why it gave nothing, for the one-line error."""
    places = []
    for folder in searched_folders():
        state = "no .py file" if folder.is_dir() else "absent"
        places.append(f"{str(folder)!r} ({state})")
    return " and ".join(places)


def discover(targets: list[str] | tuple[str, ...] = ("all",)) -> list[Suite]:
    """Resolve command-line targets ('all', suite names, .py paths) to suites, in order, once each."""
    targets = list(targets) or ["all"]
    found: dict[str, Suite] = {}
    available = None
    for target in targets:
        if target.endswith(".py") or "/" in target:
            suites = load_file(target)
        else:
            available = available if available is not None else all_suites()
            if target == "all":
                suites = available
            else:
                suites = [s for s in available if s.name == target]
                if not suites:
                    names = ", ".join(s.name for s in available)
                    raise SuiteError(
                        f"suite {target!r} is unknown: expected 'all', a path to a .py file, or one of {names}"
                    )
        for suite in suites:
            found.setdefault(suite.name, suite)
    return list(found.values())
