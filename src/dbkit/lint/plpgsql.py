"""plpgsql_check on every plpgsql function of a database the project was applied to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pglast import ast

from dbkit.config import Settings
from dbkit.lint.model import ERROR, WARNING, Finding
from dbkit.lint.source import parse
from dbkit.lint.rules.base import strings
from dbkit.project import load

if TYPE_CHECKING:
    import psycopg

PLPGSQL_CHECK_INSTALL = ("plpgsql_check is not installed on this server; install it "
                         "(Debian/Ubuntu: apt-get install postgresql-15-plpgsql-check) to check function bodies")


def plpgsql_functions(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str, bool, int, int | None]]:
    """(signature, schema, name, is_trigger, oid, a table one of its triggers is on) per plpgsql function.

    dbkit's one query of this kind; it moves to the shared catalog model once that exists.
    """
    rows = conn.execute("""
        select p.oid::regprocedure::text as signature, n.nspname, p.proname,
               p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype as is_trigger,
               p.oid::bigint as oid, t2.tgrelid::bigint as relid
          from pg_catalog.pg_proc p
          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          join pg_catalog.pg_language l on l.oid = p.prolang
          left join lateral (select t.tgrelid from pg_catalog.pg_trigger t where t.tgfoid = p.oid and not t.tgisinternal
                             order by t.tgrelid limit 1) t2 on true
         where l.lanname = 'plpgsql'
           and n.nspname not in ('pg_catalog', 'information_schema', 'dbkit')
           and not exists (select 1 from pg_catalog.pg_depend d
                            where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
         order by 1
    """).fetchall()
    return [(r[0], r[1], r[2], bool(r[3]), int(r[4]), None if r[5] is None else int(r[5])) for r in rows]


def check_functions(conn: psycopg.Connection[Any], settings: Settings) -> list[Finding]:
    """plpgsql_check's findings, mapped to the function's file and line.

    Returns one warning finding when the extension is not available on the server.
    """
    available = conn.execute("select 1 from pg_catalog.pg_available_extensions where name = 'plpgsql_check'").fetchone()
    if not available:
        return [Finding("DBK100", "(database)", 1, 1, PLPGSQL_CHECK_INSTALL, severity=WARNING,
                        checker="plpgsql_check")]
    conn.execute("create extension if not exists plpgsql_check")
    locations = function_locations(settings)
    findings: list[Finding] = []
    for signature, schema, name, is_trigger, oid, relid in plpgsql_functions(conn):
        if is_trigger and relid is None:
            continue  # a trigger function attached to no table cannot be checked without one
        rows = conn.execute(
            "select lineno, statement, sqlstate, message, detail, hint, level "
            "from plpgsql_check_function_tb(%s::oid, %s::oid, extra_warnings => true)",
            (oid, relid or 0),
        ).fetchall()
        where = locations.get((schema, name))
        for lineno, _statement, sqlstate, message, detail, hint, level in rows:
            path, line = ("(database)", 1)
            if where is not None:
                path, line = where[0], where[1] + max(int(lineno or 1), 1) - 1
            text = f"{signature}: {message}"
            if detail:
                text += f" ({detail})"
            if hint:
                text += f"; hint: {hint}"
            if sqlstate:
                text += f" [SQLSTATE {sqlstate}]"
            severity = ERROR if str(level).lower() == "error" else WARNING
            findings.append(Finding("DBK100", path, line, 1, text, severity=severity, checker="plpgsql_check"))
    return findings


def function_locations(settings: Settings) -> dict[tuple[str, str], tuple[str, int]]:
    """(schema, name) -> (file, line where the body string starts), forward files only."""
    project = load(settings).project
    forward = [m.forward for m in project.plan] + [inc.file for m in project.plan for inc in m.includes]
    found: dict[tuple[str, str], tuple[str, int]] = {}
    seen: set[str] = set()
    for source in forward:
        if source.name in seen:
            continue
        seen.add(source.name)
        parsed = parse(source)
        for stmt in parsed.statements:
            if not isinstance(stmt.node, ast.CreateFunctionStmt):
                continue
            names = strings(stmt.node.funcname)
            key = (names[0], names[1]) if len(names) > 1 else ("public", names[0])
            body = next((o for o in stmt.node.options or () if o.defname == "as"), None)
            offset = getattr(body, "arg_location", None) if body is not None else None
            line = parsed.line_of(offset) if isinstance(offset, int) and offset >= 0 else stmt.line
            found[key] = (source.name, line)  # a later definition (e.g. a function file) wins
    return found
