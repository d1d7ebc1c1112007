"""Decide, without running it, whether a hand-written check can run in a READ ONLY transaction
taking nothing stronger than ACCESS SHARE.

A READ ONLY transaction rejects writes, but only after parse analysis has locked the target
table in ROW EXCLUSIVE mode, which queues behind an application's EXCLUSIVE lock. So a check
that would write is never attempted by the default verify: it runs only with --with-writes.

Read-only means: only SELECT / VALUES / SET / SHOW statements, no locking clause, no SELECT
INTO, no data-modifying CTE, and every function it calls is either built in (and not one
that takes locks, assigns a transaction id or changes sequences) or a module function that
is STABLE or IMMUTABLE in the live catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pglast
from pglast import ast
from pglast.visitors import Visitor

from dbkit import inspect

_STATEMENTS = (ast.SelectStmt, ast.VariableSetStmt, ast.VariableShowStmt)
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt) if hasattr(ast, "MergeStmt") else (
    ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)
_UNSAFE_BUILTINS = ("nextval", "setval", "txid_current", "pg_current_xact_id", "pg_notify", "lo_", "pg_advisory",
                    "pg_try_advisory", "pg_terminate_backend", "pg_cancel_backend", "pg_sleep", "dblink")


class _Finder(Visitor):
    def __init__(self, volatile: set[str]) -> None:
        super().__init__()
        self.volatile = volatile
        self.reasons: list[str] = []

    def visit(self, ancestors: Any, node: Any) -> None:
        if isinstance(node, _WRITES):
            self.reasons.append(f"{type(node).__name__[:-4].upper()} statement")
        elif isinstance(node, ast.SelectStmt) and (node.lockingClause or node.intoClause):
            self.reasons.append("SELECT FOR UPDATE/SHARE or SELECT INTO")
        elif isinstance(node, ast.FuncCall):
            name = ".".join(str(getattr(part, "sval", "")) for part in node.funcname or ())
            if name in self.volatile or name.split(".")[-1].startswith(_UNSAFE_BUILTINS):
                self.reasons.append(f"calls {name}()")


def volatile_functions(objects: Iterable[inspect.Named]) -> set[str]:
    """Names (``schema.name`` and, for public, ``name``) of the volatile functions among ``objects``."""
    names: set[str] = set()
    for function in objects:
        if function.kind == "function" and function.attrs.get("volatility") == "volatile":
            qualified = function.name.split("(", 1)[0]
            names.add(qualified)
            if qualified.startswith("public."):
                names.add(qualified[len("public."):])
    return names


def why_it_writes(texts: Iterable[str | None], volatile: set[str]) -> str | None:
    """None when every statement is read-only; otherwise the first reason it is not."""
    finder = _Finder(volatile)
    for text in texts:
        if not text:
            continue
        try:
            statements = pglast.parse_sql(text)
        except pglast.parser.ParseError as exc:
            return f"does not parse ({exc})"
        for raw in statements:
            if not isinstance(raw.stmt, _STATEMENTS):
                return f"{type(raw.stmt).__name__} statement"
        finder(statements)
        if finder.reasons:
            return finder.reasons[0]
    return None
