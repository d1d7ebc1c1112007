"""What a rollback would drop, and whether the objects a baseline claims exist.

``probe`` runs one rollback step inside a savepoint that is always rolled back and
compares the catalog before and after: tables that go while holding rows (what needs
``--force``), and what goes on the way — columns that held values, views, sequences,
functions, policies, triggers — reported, not refused: the table and its rows stay, and
the migration recreates the rest. Exact, because PostgreSQL ran the real SQL; no parsing.

``missing_objects`` reads the CREATE statements of migrations about to be baselined
(pglast, PostgreSQL's own parser) and says which of their schemas, tables, views,
sequences, types and functions do not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import parser
from psycopg import sql

from dbkit.config import TRACKING_SCHEMA
from dbkit.statements import Statements

_USER_NS = f"""n.nspname not in ('pg_catalog', 'information_schema', '{TRACKING_SCHEMA}')
   and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'"""


def _not_extension(classid: str, oid: str) -> str:
    return (f"not exists (select 1 from pg_catalog.pg_depend d where d.classid = '{classid}'::pg_catalog.regclass "
            f"and d.objid = {oid} and d.deptype = 'e')")


# (kind, key that survives no drop-and-recreate, description, schema, relation, column)
_CATALOG = f"""
select case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view'
                      when 'm' then 'materialized view' else 'sequence' end,
       c.oid::text, format('%I.%I', n.nspname, c.relname), n.nspname::text, c.relname::text, null::text
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'v', 'm', 'S') and {_USER_NS} and {_not_extension('pg_catalog.pg_class', 'c.oid')}
union all
select 'column', a.attrelid::text || '.' || a.attnum::text, format('%I.%I.%I', n.nspname, c.relname, a.attname),
       n.nspname::text, c.relname::text, a.attname::text
  from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and {_USER_NS}
union all
select 'function', p.oid::text,
       format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)),
       null, null, null
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where {_USER_NS} and {_not_extension('pg_catalog.pg_proc', 'p.oid')}
union all
select 'policy', pol.oid::text, format('%I on %I.%I', pol.polname, n.nspname, c.relname), null, null, null
  from pg_catalog.pg_policy pol join pg_catalog.pg_class c on c.oid = pol.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where {_USER_NS}
union all
select 'trigger', t.oid::text, format('%I on %I.%I', t.tgname, n.nspname, c.relname), null, null, null
  from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where not t.tgisinternal and {_USER_NS}
"""


@dataclass(frozen=True)
class Drops:
    data: tuple[str, ...]  # "public.t (3 rows)": tables holding rows, what needs --force
    objects: tuple[str, ...]  # "column public.t.c (2 values)", "function public.f()", "table public.empty" ...


def probe(conn: psycopg.Connection[Any], run: Callable[[], None]) -> Drops:
    """What ``run`` (one rollback step, inside the caller's transaction) drops.

    ``run`` is undone (savepoint); the row counts are read in the state before it.
    """
    before = {(r[0], r[1]): r for r in conn.execute(_CATALOG).fetchall()}
    with conn.transaction(savepoint_name="dbkit_probe", force_rollback=True):
        run()
        after = {(r[0], r[1]) for r in conn.execute(_CATALOG).fetchall()}
    gone = [row for key, row in before.items() if key not in after]
    dropped_tables = {row[1] for row in gone if row[0] == "table"}
    data: list[str] = []
    objects: list[str] = []
    for kind, key, name, schema, relation, column in gone:
        if kind == "table":
            _table_gone(conn, name, schema, relation, data, objects)
        elif kind != "column":
            objects.append(f"{kind} {name}")
        elif key.split(".")[0] not in dropped_tables:  # a column of a dropped table is counted with it
            _column_gone(conn, name, schema, relation, column, objects)
    return Drops(tuple(data), tuple(objects))


def _table_gone(conn: psycopg.Connection[Any], name: str, schema: str, relation: str,
                data: list[str], objects: list[str]) -> None:
    """A dropped table holding rows is data (what needs --force); an empty one is an object."""
    rows = _count(conn, schema, relation, None)
    if rows:
        data.append(f"{name} ({rows} {'row' if rows == 1 else 'rows'})")
    else:
        objects.append(f"table {name}")


def _column_gone(conn: psycopg.Connection[Any], name: str, schema: str, relation: str, column: str,
                 objects: list[str]) -> None:
    """A dropped column is reported only when it held values (the table and its rows stay)."""
    values = _count(conn, schema, relation, column)
    if values:
        objects.append(f"column {name} ({values} {'value' if values == 1 else 'values'})")


def _count(conn: psycopg.Connection[Any], schema: str, relation: str, column: str | None) -> int:
    counted = sql.SQL("*") if column is None else sql.Identifier(column)
    row = conn.execute(sql.SQL("select count({}) from {}.{}").format(
        counted, sql.Identifier(schema), sql.Identifier(relation))).fetchone()
    return int(row[0]) if row else 0


# ---------------------------------------------------------------- baseline


_RELATION_KINDS = {"CreateStmt": ("table", "relation"), "ViewStmt": ("view", "view"),
                   "CreateSeqStmt": ("sequence", "sequence")}


_DROP_KINDS = {"OBJECT_TABLE": "table", "OBJECT_VIEW": "view", "OBJECT_SEQUENCE": "sequence",
               "OBJECT_SCHEMA": "schema", "OBJECT_TYPE": "type", "OBJECT_FUNCTION": "function",
               "OBJECT_MATVIEW": "materialized view"}


def created_objects(statements: Statements) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, qualified name parts) of each schema, table, view, sequence, type and function
    the top-level statements create; ``drop`` statements of the same kinds are returned
    with kind ``drop <kind>``."""
    tree = json.loads(parser.parse_sql_json(statements.expanded.text))
    found: list[tuple[str, tuple[str, ...]]] = []
    for item in tree.get("stmts", []):
        ((node, body),) = item["stmt"].items()
        if node in _RELATION_KINDS:
            kind, field = _RELATION_KINDS[node]
            found.append((kind, _range_var(body[field])))
        elif node == "CreateTableAsStmt":
            kind = "materialized view" if body.get("objtype") == "OBJECT_MATVIEW" else "table"
            found.append((kind, _range_var(body["into"]["rel"])))
        elif node == "CreateSchemaStmt" and "schemaname" in body:
            found.append(("schema", (body["schemaname"],)))
        elif node == "CreateFunctionStmt":
            found.append(("function", _names(body["funcname"])))
        elif node in ("CreateEnumStmt", "CreateDomainStmt", "CreateRangeStmt"):
            found.append(("type", _names(body.get("typeName") or body.get("domainname") or [])))
        elif node == "CompositeTypeStmt":
            found.append(("type", _range_var(body["typevar"])))
        elif node == "DropStmt":
            dropped = _DROP_KINDS.get(body.get("removeType", ""))
            for obj in body.get("objects", []) if dropped else []:
                found.append((f"drop {dropped}", _dropped_name(obj)))
    return found


def _range_var(node: dict[str, Any]) -> tuple[str, ...]:
    return tuple(p for p in (node.get("schemaname"), node["relname"]) if p)


def _names(items: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(i["String"]["sval"] for i in items if "String" in i)


def _dropped_name(obj: dict[str, Any]) -> tuple[str, ...]:
    if "List" in obj:
        return _names(obj["List"].get("items", []))
    if "String" in obj:
        return (obj["String"]["sval"],)
    if "ObjectWithArgs" in obj:
        return _names(obj["ObjectWithArgs"].get("objname", []))
    if "TypeName" in obj:
        return _names(obj["TypeName"].get("names", []))
    return ()


_EXISTS = {
    "schema": "select pg_catalog.to_regnamespace(%(name)s) is not null",
    "table": "select pg_catalog.to_regclass(%(name)s) is not null",
    "view": "select pg_catalog.to_regclass(%(name)s) is not null",
    "materialized view": "select pg_catalog.to_regclass(%(name)s) is not null",
    "sequence": "select pg_catalog.to_regclass(%(name)s) is not null",
    "type": "select pg_catalog.to_regtype(%(name)s) is not null",
    "function": """select exists (select 1 from pg_catalog.pg_proc p where p.proname = %(last)s
                     and p.pronamespace = any(case when %(schema)s::text is null
                                                   then pg_catalog.current_schemas(false)::regnamespace[]
                                                   else array[pg_catalog.to_regnamespace(%(schema)s)] end))""",
}


def missing_objects(conn: psycopg.Connection[Any],
                    migrations: list[tuple[str, Statements]]) -> dict[str, list[str]]:
    """For each migration, the objects it creates that this database does not have
    (leaving out what a later migration of the same list drops)."""
    created = [(mid, created_objects(statements)) for mid, statements in migrations]
    dropped = {(kind[len("drop "):], name) for _, objects in created for kind, name in objects
               if kind.startswith("drop ")}
    missing: dict[str, list[str]] = {}
    for mid, objects in created:
        for kind, name in objects:
            if kind.startswith("drop ") or (kind, name) in dropped or not name:
                continue
            quoted = ".".join(_quote_ident(part) for part in name)
            params = {"name": quoted, "last": name[-1], "schema": _quote_ident(name[0]) if len(name) > 1 else None}
            row = conn.execute(_EXISTS[kind], params).fetchone()
            if not (row and row[0]):
                missing.setdefault(mid, []).append(f"{kind} {'.'.join(name)}")
    return missing


def _quote_ident(name: str) -> str:
    if name.islower() and name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return '"' + name.replace('"', '""') + '"'
