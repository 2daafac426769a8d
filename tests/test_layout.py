"""The package's layout (docs/design.md §2), checked on its source with ast: no import cycles, no import
of another module's private names, imports only one way between the subpackages, and no TensorFlow in
the rooms that read records or declare suites."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tfbench"

# Which rooms each room may import (besides itself). records/ and analysis/ are leaves anyone may read.
LEAVES = {"records", "analysis", "errors", "vocabulary"}
MAY_IMPORT = {
    "__main__": {"cli"},
    "engine": {"harness", "models", "data", "spec", "quiet"} | LEAVES,
    "user": {"harness", "models", "data", "spec", "quiet"} | LEAVES,
    "harness": {"models", "data", "spec"} | LEAVES,
    "models": {"data", "spec", "errors"},
    "data": {"errors"},
    "spec": {"records", "errors", "vocabulary"},
    "compare": LEAVES,
    "report": LEAVES,
    "speed": {"harness", "data", "spec"} | LEAVES,  # worker.py runs a revision's harness in its own process
    "records": {"errors", "vocabulary"},
    "analysis": {"records", "errors", "vocabulary"},
    "errors": set(),
    "vocabulary": set(),  # names of verdicts, claim kinds and columns: imports nothing
    "sources": set(),  # citations the built-in suites use
    "quiet": set(),
}
# Single modules a room may import outside its rooms: a claim is checked and rebuilt by Claim's own rules
# (spec/claim.py imports only vocabulary and errors), wherever a manifest's claims are read.
MAY_IMPORT_MODULES = {"records": {"tfbench.spec.claim"}, "analysis": {"tfbench.spec.claim"}}
ANYTHING = {"__init__", "cli"}  # the public API and the command line sit on top of every room
WITHOUT_TENSORFLOW = {"cli", "spec", "records", "analysis", "compare", "report", "vocabulary", "sources"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str, source: str | None = None) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import statement, lazy ones included."""
    path = MODULES.get(module)
    package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source if source is not None else path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + [base] if base else anchor)
            for alias in node.names:
                whole = f"{base}.{alias.name}"
                found.append((whole, None) if whole in MODULES else (base, alias.name))
    return found


def edges() -> dict[str, set[str]]:
    return {m: {target for target, _ in imports(m) if target in MODULES and target != m} for m in MODULES}


def room(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle():
    graph = edges()
    found = cycles(graph)
    pairs = [f"{a} -> {b}" for component in found for a in component for b in sorted(graph[a]) if b in component]
    assert not found, "import cycles: " + "; ".join(pairs)


def test_no_module_imports_another_modules_private_names():
    offending = [
        f"{module} imports {target}.{name}"
        for module in MODULES
        for target, name in imports(module)
        if name and name.startswith("_") and not name.startswith("__") and target.startswith("tfbench")
    ]
    assert not offending, "; ".join(offending)


def test_imports_between_rooms_run_one_way():
    offending = []
    for module, targets in edges().items():
        source = room(module)
        for target in targets - {"tfbench"}:  # the package root: checked below
            allowed = source in ANYTHING or room(target) in MAY_IMPORT[source] | {source}
            allowed = allowed or target in MAY_IMPORT_MODULES.get(source, set())
            if not allowed:
                offending.append(f"{module} -> {target}")
    for module in MODULES:  # `from tfbench import __version__` only reads the package's version
        if room(module) not in ANYTHING and any(t == "tfbench" and n != "__version__" for t, n in imports(module)):
            offending.append(f"{module} -> tfbench (the public API)")
    assert not offending, "imports against the one-way rule of docs/design.md §2: " + "; ".join(offending)


def test_rooms_that_read_records_or_declare_suites_never_import_tensorflow():
    offending = [
        f"{module} imports {target}"
        for module in MODULES
        if room(module) in WITHOUT_TENSORFLOW
        for target, _ in imports(module)
        if target.split(".")[0] in ("tensorflow", "keras")
    ]
    assert not offending, "; ".join(offending)


def test_every_room_is_known_and_the_root_holds_at_most_eight_modules():
    rooms = {room(m) for m in MODULES}
    assert rooms <= set(MAY_IMPORT) | ANYTHING, f"rooms without an import rule: {rooms - set(MAY_IMPORT) - ANYTHING}"
    root = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(root) <= 8, f"{len(root)} modules at the root of tfbench/: {sorted(root)}"


def test_the_checks_find_a_planted_cycle_and_a_planted_private_import():
    """The checks above are not vacuous: a cycle and a private import written on purpose are found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    planted = "from tfbench.harness.train import _secret\nfrom . import store\n"
    found = imports("tfbench.records.planted", source=planted)
    assert ("tfbench.harness.train", "_secret") in found and ("tfbench.records.store", None) in found
