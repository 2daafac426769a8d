"""The README and docs/ as a reader meets them: the README stays short and shows the test command CI
runs, every relative link leads to a file, and every tfbench import they teach resolves."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_the_readme_is_short_and_shows_the_test_command_ci_runs():
    readme = (REPO / "README.md").read_text().splitlines()
    assert len(readme) <= 300, f"README.md has {len(readme)} lines"
    assert 'pip install -e ".[test]" && pytest' in "\n".join(readme)
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^pytest </dev/null", ci, re.MULTILINE), ".ci/run does not run the README's `pytest`"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file(document):
    targets = [t for t in LINK.findall(document.read_text()) if not re.match(r"[a-z]+:", t)]
    missing = [t for t in targets if not (document.parent / t).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"


def taught_imports(text: str) -> list[tuple[str, str | None]]:
    """(module, name or None) of every tfbench import in the document's Python blocks."""
    found = []
    for block in PYTHON_BLOCK.findall(text):
        for line in block.splitlines():
            if not re.match(r"\s*(from|import) tfbench", line):
                continue
            node = ast.parse(line.strip().split("  #")[0]).body[0]
            if isinstance(node, ast.ImportFrom):
                found += [(node.module, alias.name) for alias in node.names]
            else:
                found += [(alias.name, None) for alias in node.names]
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_tfbench_import_a_document_teaches_resolves(document):
    for module, name in taught_imports(document.read_text()):
        imported = importlib.import_module(module)
        if name is not None and not hasattr(imported, name):
            importlib.import_module(f"{module}.{name}")  # a submodule: raises if there is none


def test_the_import_check_finds_an_import_that_does_not_resolve():
    """The check above is not vacuous: the alias the README once taught is caught."""
    assert taught_imports("```python\nfrom tfbench import theory  # old\n```") == [("tfbench", "theory")]
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("tfbench.theory")
