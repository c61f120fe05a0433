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


# Services take plain inputs and return results: no Flask, no commit (the loops that commit each
# batch live with their callers: portal/cli.py, portal/roll/worker.py).
STILL_REACHING: dict[str, str] = {}


def _reaches(path: Path) -> set[str]:
    """'flask' if `path` imports Flask (any part of it), 'commit' if it calls `.commit(`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            if any(a.name == "flask" or a.name.startswith("flask.") for a in node.names):
                found.add("flask")
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").split(".")[0] == "flask":
                found.add("flask")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "commit"):
            found.add("commit")
    return found


def test_the_check_sees_flask_and_commits(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from flask import request\n", encoding="utf-8")
    assert _reaches(sample) == {"flask"}
    sample.write_text("import flask.json\ndef f(db):\n    db.session.commit()\n",
                      encoding="utf-8")
    assert _reaches(sample) == {"flask", "commit"}
    sample.write_text("from .models import db\ndef f(db):\n    db.session.flush()\n",
                      encoding="utf-8")
    assert _reaches(sample) == set()


def test_no_service_imports_flask_or_commits() -> None:
    reaching = {p.stem: _reaches(p) for p in SERVICES.glob("*.py")}
    wrong = {name: found for name, found in reaching.items()
             if found - {STILL_REACHING.get(name)}}
    assert not wrong, f"services importing flask or committing: {wrong}"
