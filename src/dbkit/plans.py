"""One walker over ``EXPLAIN (FORMAT JSON)`` plans, for verify, tests and benchmarks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pglast
from pglast import ast
from pglast.stream import RawStream


def nodes(plan: Any) -> Iterator[dict[str, Any]]:
    """Every plan node (a dict with "Node Type"), depth first, from any part of EXPLAIN's JSON."""
    if isinstance(plan, dict):
        if "Node Type" in plan:
            yield plan
        for value in plan.values():
            yield from nodes(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from nodes(value)


def parse(raw: Any) -> Any:
    """EXPLAIN's JSON as psycopg returns it (already decoded, or text)."""
    return json.loads(raw) if isinstance(raw, (str, bytes)) else raw


def indexes_used(plan: Any) -> list[str]:
    return [n["Index Name"] for n in nodes(plan) if "Index Name" in n]


def scans(plan: Any) -> list[str]:
    """"Index Scan using i on s.t"-style lines for every scan node."""
    out = []
    for n in nodes(plan):
        if "Scan" not in n["Node Type"]:
            continue
        text = n["Node Type"]
        if "Index Name" in n:
            text += f" using {n['Index Name']}"
        if "Relation Name" in n:
            schema = f"{n['Schema']}." if n.get("Schema") else ""
            text += f" on {schema}{n['Relation Name']}"
        out.append(text)
    return out


def without_row_locks(query: str) -> str:
    """The query without FOR UPDATE/SHARE: same scans, but EXPLAIN takes only AccessShareLock."""
    try:
        statements = pglast.parse_sql(query)
    except pglast.parser.ParseError:
        return query
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return query
    stmt = statements[0].stmt
    if not stmt.lockingClause:
        return query
    return str(RawStream()(ast.SelectStmt(**{**{k: getattr(stmt, k) for k in stmt}, "lockingClause": None})))


__all__ = ["nodes", "parse", "indexes_used", "scans", "without_row_locks"]
