"""Rules of the source tree, read from the code itself (no database).

- The service modules import each other without circles, also through imports inside
  functions: a circle means two modules that cannot be understood (or changed) apart.
- Only the lifecycle owner assigns an incident's status; everything else asks it to move.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "cc_tui"
STATUS_OWNER = "cc_tui.services.incidents.lifecycle"


def _module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path, src: Path = SRC) -> dict[str, Path]:
    return {_module_name(p, src): p for p in sorted(root.rglob("*.py"))}


def _imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules `name` imports anywhere in its file (top level or in functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod; `from mod import f`, mod.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # The longest known module the target names (a.b.c -> a.b when c is a function).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path, src: Path = SRC) -> dict[str, set[str]]:
    known = _modules(root, src)
    return {name: _imported(name, path, known) for name, path in known.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_circle_through_a_function_import(tmp_path):
    pkg = tmp_path / "src" / "cc_tui" / "services"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cc_tui.services.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from cc_tui.services import a\n")
    (pkg / "c.py").write_text("from . import b\n")
    graph = import_graph(pkg, tmp_path / "src")
    assert graph["cc_tui.services.c"] == {"cc_tui.services.b", "cc_tui.services"}
    assert find_cycle(graph) == ["cc_tui.services.a", "cc_tui.services.b", "cc_tui.services.a"]
    del graph["cc_tui.services.b"]
    assert find_cycle(graph) is None


def test_services_import_each_other_without_circles():
    graph = import_graph(PACKAGE / "services")
    assert len(graph) > 30  # the scan sees the service modules
    assert "cc_tui.services.sla.deadlines" in graph["cc_tui.services.incidents.lifecycle"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


# --- one owner for the incident's status -----------------------------------------------

# Names an incident goes by in the source: `incident.status = ...`, `draft.status = ...`.
INCIDENT_NAMES = {"incident", "inc", "draft", "target", "row", "claimed", "linked"}


def status_assignments(source: str) -> list[int]:
    """Lines that assign `<incident>.status` (plain, augmented or annotated assignment, or
    setattr with the literal name)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
        ):
            targets = [ast.Attribute(value=node.args[0], attr="status")]
        for target in targets:
            for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                if (
                    isinstance(item, ast.Attribute)
                    and item.attr == "status"
                    and isinstance(item.value, ast.Name | ast.Attribute)
                    and _name_of(item.value) in INCIDENT_NAMES
                ):
                    lines.append(node.lineno)
    return lines


def _name_of(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "source, hits",
    [
        ("incident.status = 'closed'\n", [1]),
        ("self.incident.status = x\n", [1]),
        ("draft.status, n = 'closed', 1\n", [1]),
        ("setattr(inc, 'status', 'closed')\n", [1]),
        ("article.status = checked.status\n", []),
        ("status = incident.status\n", []),
    ],
)
def test_the_status_scan_sees_assignments_to_an_incident(source, hits):
    assert status_assignments(source) == hits


def test_only_the_lifecycle_assigns_an_incident_status():
    offenders = []
    owner_lines = []
    for name, path in _modules(PACKAGE).items():
        lines = status_assignments(path.read_text(encoding="utf-8"))
        if name == STATUS_OWNER:
            owner_lines = lines
        elif lines:
            offenders.append(f"{name}: lines {lines}")
    assert owner_lines, "the lifecycle owner moves the status itself"
    assert not offenders, "status changes go through lifecycle.move: " + "; ".join(offenders)
