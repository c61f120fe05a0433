"""No import cycle between the service modules (portal.services.*).

Every import is counted, at the top of a module or inside a function (a lazy import hides a
cycle, it does not remove it). The handover module is the one both incidents and referrals use.
"""

from __future__ import annotations

import ast
from pathlib import Path

import portal.services

SERVICES = Path(portal.services.__file__).parent


def _imports(path: Path) -> set[str]:
    """The portal.services modules `path` imports (by short name)."""
    names = {p.stem for p in SERVICES.glob("*.py")} - {"__init__"}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:  # from .x import y / from . import x
                if module:
                    found.add(module.split(".")[0])
                else:
                    found.update(a.name for a in node.names)
            elif node.level == 0 and module.startswith("portal.services"):
                rest = module.removeprefix("portal.services").lstrip(".")
                if rest:
                    found.add(rest.split(".")[0])
                else:
                    found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("portal.services."):
                    found.add(alias.name.split(".")[2])
    return found & names - {path.stem}


def graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) for p in SERVICES.glob("*.py") if p.stem != "__init__"}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in `edges` as a path of module names, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_services() -> None:
    edges = graph()
    assert {"incidents", "referrals", "handover", "facts"} <= set(edges)
    assert cycle(edges) is None, " -> ".join(cycle(edges) or [])


def test_incidents_and_referrals_share_the_handover_module() -> None:
    edges = graph()
    assert "referrals" not in edges["incidents"]
    assert "incidents" not in edges["referrals"]
    assert "handover" in edges["incidents"] and "handover" in edges["referrals"]
    assert not edges["handover"] & {"incidents", "referrals"}
