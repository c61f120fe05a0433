"""SQL kept across requests is kept per thread (portal/kept.py): a construct SQLAlchemy fills
in on first use is never shared by two threads (served, one worker answered every dashboard
with an error after its kept statement was first used by several threads at once)."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from portal.kept import kept
from portal.models import Child

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# What a function building SQL names; a function kept by functools that names one builds SQL.
SQL_BUILDERS = {"select", "aliased", "bindparam", "exists", "union_all", "and_", "or_",
                "load_only", "joinedload", "selectinload", "update", "insert", "delete"}
SQL_TYPES = ("Select", "ColumnElement", "Update", "Insert", "Delete", "Exists")


def test_one_object_a_thread_and_never_one_shared_between_threads() -> None:
    built = []

    @kept
    def statement(name: str) -> object:
        child = aliased(Child, name=name)
        built.append(child)
        return select(child).where(child.id == bindparam("child_id"))

    mine = statement("child")
    assert statement("child") is mine  # built once in this thread
    assert statement("other") is not mine  # one for each set of arguments

    theirs: list[object] = []
    workers = [threading.Thread(target=lambda: theirs.append(statement("child")))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len({id(s) for s in theirs}) == 4 and all(s is not mine for s in theirs)
    assert len(built) == 6


def _functools_kept(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ("cache", "lru_cache"):
            return True
        if isinstance(target, ast.Name) and target.id in ("cache", "lru_cache"):
            return True
    return False


def test_no_sql_is_kept_per_process() -> None:
    """Every function kept with functools.cache or lru_cache builds no SQL: statements,
    clauses and aliases are kept with `portal.kept.kept`, per thread."""
    found = []
    for path in sorted(PORTAL.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef) or not _functools_kept(node):
                continue
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
            returns = ast.unparse(node.returns) if node.returns else ""
            if names & SQL_BUILDERS or any(t in returns for t in SQL_TYPES):
                found.append(f"{path.relative_to(PORTAL.parent)}: {node.name}")
    assert found == []
