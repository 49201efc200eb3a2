"""Handlers only translate (issue #12): each handler function opens at most one unit of work
and reaches the database only through a service; the services own every longer sequence
(and never hold a transaction across a Telegram call)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "bot" / "handlers"
FILES = sorted(HANDLERS.glob("*.py"))
BANNED_IMPORTS = ("sqlalchemy", "storage.repositories", "storage.delivery", "storage.db")
MAX_UNITS = 1


def _uow_calls(node: ast.AST) -> list[int]:
    """Line numbers of the ``.uow()`` calls anywhere inside ``node`` (nested blocks and
    nested functions included)."""
    return [
        n.lineno
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "uow"
        and not n.args
    ]


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from (
                n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            )


def test_the_checker_counts_nested_units_of_work():
    source = """
async def h(update, context):
    s = svc(context)
    async with s.uow() as uow:
        pass
    if update:
        async def inner():
            async with svc(context).uow() as uow:
                pass
"""
    (fn,) = ast.parse(source).body
    assert len(_uow_calls(fn)) == 2


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_handler_function_opens_at_most_one_unit_of_work(path: Path):
    too_many = {
        fn.name: _uow_calls(fn) for fn in _functions(path) if len(_uow_calls(fn)) > MAX_UNITS
    }
    assert not too_many, (
        f"{path.name}: a handler opens more than one unit of work (lines): {too_many}; "
        "move the sequence into a service that owns its units of work"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_handlers_reach_the_database_only_through_services(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    banned = [m for m in imported if m.split(".")[0] == "sqlalchemy" or m in BANNED_IMPORTS]
    assert not banned, f"{path.name} imports {banned}: use a service"
    # Nor a repository through the unit of work (uow.patients, uow.audit, uow.commit ...):
    # the service called with the unit of work does that.
    direct = sorted(
        {
            f"uow.{n.attr} (line {n.lineno})"
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id == "uow"
        }
    )
    assert not direct, f"{path.name} uses the unit of work itself: {direct}"
