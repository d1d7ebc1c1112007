"""Read-only snapshots of the live catalog, using the documents' own queries.

Tables and columns come from ``information_schema`` (as the seed documents query
them), joined to ``pg_attribute`` for ``format_type`` (information_schema's
``data_type`` says ``ARRAY`` or ``USER-DEFINED`` where a DBA wants ``text[]``); indexes
from ``pg_indexes``; RLS from ``pg_tables.rowsecurity``; constraints from
``pg_constraint`` with ``pg_get_constraintdef``; policies from ``pg_policies``;
functions from ``pg_proc``; triggers from ``pg_trigger``.

Callers run these inside a read-only transaction with ``search_path = ''`` so that
every name in the deparsed text is schema-qualified (see ``normalise``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

_WS = re.compile(r"\s+")
_PUBLIC = re.compile(r'(?<![\w."])(?:public|"public")\.')


def normalise(text: str | None) -> str | None:
    """Collapse whitespace; treat the ``public.`` qualifier as optional.

    The same object deparses as ``public.t`` or ``t`` depending on the reader's
    search_path, so expectations copied from psql (public on the path) and the
    verifier's reading (empty path) must compare equal.
    """
    if text is None:
        return None
    return _PUBLIC.sub("", _WS.sub(" ", text).strip())


@dataclass(frozen=True)
class TableInfo:
    columns: dict[str, str]  # name -> "<type>[ not null][ default <expr>]"
    rls: bool
    force_rls: bool
    extension: bool


@dataclass(frozen=True)
class IndexInfo:
    table: str
    definition: str
    constraint_backed: bool
    extension: bool


@dataclass(frozen=True)
class ConstraintInfo:
    table: str
    type: str  # primary | unique | check | foreign | exclude
    definition: str
    extension: bool


@dataclass(frozen=True)
class PolicyInfo:
    table: str
    command: str
    roles: tuple[str, ...]
    permissive: bool
    using: str | None
    with_check: str | None


@dataclass(frozen=True)
class FunctionInfo:
    returns: str
    language: str
    volatility: str
    security_definer: bool
    search_path: str | None
    execute: tuple[str, ...]  # grantees with EXECUTE other than the owner; "public" for PUBLIC
    effective: tuple[str, ...]  # of anon/authenticated/service_role: those that may EXECUTE at all
    extension: bool


@dataclass(frozen=True)
class TriggerInfo:
    table: str
    definition: str
    enabled: bool
    extension: bool


@dataclass(frozen=True)
class Catalog:
    schemas: tuple[str, ...]
    tables: dict[str, TableInfo]
    indexes: dict[str, IndexInfo]
    constraints: dict[str, ConstraintInfo]
    policies: dict[str, PolicyInfo]
    functions: dict[str, FunctionInfo]
    triggers: dict[str, TriggerInfo]
    cron: dict[str, tuple[str, str]] | None  # None when pg_cron is not installed


_CONTYPE = {"p": "primary", "u": "unique", "c": "check", "f": "foreign", "x": "exclude"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_API_ROLES = ("anon", "authenticated", "service_role")


def _ext(classid: str, oid_expr: str) -> str:
    return (
        "exists (select 1 from pg_catalog.pg_depend d where d.classid = "
        f"'{classid}'::pg_catalog.regclass and d.objid = {oid_expr} and d.deptype = 'e')"
    )


def column_spec(type_: str, not_null: bool, default: str | None, identity: str | None, generated: str | None) -> str:
    spec = type_
    if not_null:
        spec += " not null"
    if default is not None:
        spec += f" default {default}"
    if identity:
        spec += f" generated {identity.lower()} as identity"
    if generated:
        spec += f" generated always as ({generated}) stored"
    return spec


def read(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> Catalog:
    """Snapshot the objects of ``schemas``. Only reads."""
    s = list(schemas)
    cur = conn.cursor()

    tables: dict[str, TableInfo] = {}
    cur.execute(
        f"""
        select t.table_schema, t.table_name, pt.rowsecurity, k.relforcerowsecurity, {_ext('pg_class', 'k.oid')}
          from information_schema.tables t
          join pg_catalog.pg_tables pt on pt.schemaname = t.table_schema and pt.tablename = t.table_name
          join pg_catalog.pg_namespace n on n.nspname = t.table_schema
          join pg_catalog.pg_class k on k.relnamespace = n.oid and k.relname = t.table_name
         where t.table_schema = any(%s) and t.table_type = 'BASE TABLE'
         order by 1, 2
        """,
        (s,),
    )
    table_rows = cur.fetchall()
    cur.execute(
        """
        select c.table_schema, c.table_name, c.column_name,
               pg_catalog.format_type(a.atttypid, a.atttypmod), c.is_nullable, c.column_default,
               case when c.is_identity = 'YES' then c.identity_generation end,
               case when c.is_generated = 'ALWAYS' then c.generation_expression end
          from information_schema.columns c
          join pg_catalog.pg_namespace n on n.nspname = c.table_schema
          join pg_catalog.pg_class k on k.relnamespace = n.oid and k.relname = c.table_name
          join pg_catalog.pg_attribute a on a.attrelid = k.oid and a.attname = c.column_name
         where c.table_schema = any(%s)
         order by c.table_schema, c.table_name, c.ordinal_position
        """,
        (s,),
    )
    columns: dict[str, dict[str, str]] = {}
    for schema, table, col, type_, nullable, default, identity, generated in cur.fetchall():
        columns.setdefault(f"{schema}.{table}", {})[col] = column_spec(
            type_, nullable == "NO", default, identity, generated
        )
    for schema, table, rls, force, ext in table_rows:
        key = f"{schema}.{table}"
        tables[key] = TableInfo(columns.get(key, {}), bool(rls), bool(force), bool(ext))

    cur.execute(
        f"""
        select i.schemaname, i.indexname, i.tablename, i.indexdef,
               exists (select 1 from pg_catalog.pg_constraint c
                        where c.conindid = ic.oid and c.conrelid = ic_tab.oid and c.contype in ('p', 'u', 'x')),
               {_ext('pg_class', 'ic.oid')}
          from pg_catalog.pg_indexes i
          join pg_catalog.pg_namespace n on n.nspname = i.schemaname
          join pg_catalog.pg_class ic on ic.relnamespace = n.oid and ic.relname = i.indexname
          join pg_catalog.pg_class ic_tab on ic_tab.relnamespace = n.oid and ic_tab.relname = i.tablename
         where i.schemaname = any(%s)
         order by 1, 2
        """,
        (s,),
    )
    indexes = {
        f"{schema}.{name}": IndexInfo(f"{schema}.{table}", indexdef, bool(backed), bool(ext))
        for schema, name, table, indexdef, backed, ext in cur.fetchall()
    }

    cur.execute(
        f"""
        select n.nspname, k.relname, c.conname, c.contype::text, pg_catalog.pg_get_constraintdef(c.oid),
               {_ext('pg_class', 'k.oid')}
          from pg_catalog.pg_constraint c
          join pg_catalog.pg_class k on k.oid = c.conrelid
          join pg_catalog.pg_namespace n on n.oid = k.relnamespace
         where n.nspname = any(%s) and c.contype in ('p', 'u', 'c', 'f', 'x')
         order by 1, 2, 3
        """,
        (s,),
    )
    constraints = {
        f"{schema}.{table}.{name}": ConstraintInfo(f"{schema}.{table}", _CONTYPE[contype], definition, bool(ext))
        for schema, table, name, contype, definition, ext in cur.fetchall()
    }

    cur.execute(
        """
        select schemaname, tablename, policyname, cmd, roles::text[], permissive = 'PERMISSIVE', qual, with_check
          from pg_catalog.pg_policies
         where schemaname = any(%s)
         order by 1, 2, 3
        """,
        (s,),
    )
    policies = {
        f"{schema}.{table}.{name}": PolicyInfo(
            f"{schema}.{table}", cmd, tuple(sorted(roles)), bool(permissive), qual, with_check
        )
        for schema, table, name, cmd, roles, permissive, qual, with_check in cur.fetchall()
    }

    cur.execute(
        f"""
        select p.oid::pg_catalog.regprocedure::text,
               pg_catalog.pg_get_function_result(p.oid), l.lanname, p.provolatile::text, p.prosecdef,
               (select substr(cfg, length('search_path=') + 1) from unnest(p.proconfig) cfg
                 where cfg like 'search_path=%%' limit 1),
               array(select case when a.grantee = 0 then 'public' else a.grantee::pg_catalog.regrole::text end
                       from pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                      where a.privilege_type = 'EXECUTE' and a.grantee <> p.proowner
                      order by 1),
               array(select r.rolname::text from pg_catalog.pg_roles r
                      where r.rolname = any(%s) and pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')
                      order by 1),
               {_ext('pg_proc', 'p.oid')}
          from pg_catalog.pg_proc p
          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          join pg_catalog.pg_language l on l.oid = p.prolang
         where n.nspname = any(%s) and p.prokind in ('f', 'p')
         order by 1
        """,
        (list(_API_ROLES), s),
    )
    functions: dict[str, FunctionInfo] = {}
    for key, returns, lang, vol, secdef, path, execute, effective, ext in cur.fetchall():
        functions[key] = FunctionInfo(
            returns or "", lang, _VOLATILITY[vol], bool(secdef), unquote_search_path(path),
            tuple(execute), tuple(effective), bool(ext),
        )

    cur.execute(
        f"""
        select n.nspname, k.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled <> 'D',
               {_ext('pg_class', 'k.oid')}
          from pg_catalog.pg_trigger t
          join pg_catalog.pg_class k on k.oid = t.tgrelid
          join pg_catalog.pg_namespace n on n.oid = k.relnamespace
         where n.nspname = any(%s) and not t.tgisinternal
         order by 1, 2, 3
        """,
        (s,),
    )
    triggers = {
        f"{schema}.{table}.{name}": TriggerInfo(f"{schema}.{table}", definition, bool(enabled), bool(ext))
        for schema, table, name, definition, enabled, ext in cur.fetchall()
    }

    cron: dict[str, tuple[str, str]] | None = None
    cur.execute("select pg_catalog.to_regclass('cron.job') is not null")
    row = cur.fetchone()
    if row and row[0]:
        cur.execute("select jobname, schedule, command from cron.job where jobname is not null")
        cron = {name: (schedule, command) for name, schedule, command in cur.fetchall()}

    return Catalog(schemas, tables, indexes, constraints, policies, functions, triggers, cron)


def unquote_search_path(value: str | None) -> str | None:
    """``set search_path = ''`` is stored as ``search_path=""``: report it as ``""`` -> ``''``."""
    if value is None:
        return None
    return "" if value.strip() in {'""', "''"} else value


def canonical_function(conn: psycopg.Connection[Any], key: str) -> str | None:
    """The regprocedure text the server gives ``key`` (``timestamptz`` -> ``timestamp with time zone``)."""
    try:
        with conn.transaction():
            row = conn.execute("select pg_catalog.to_regprocedure(%s)::text", (key,)).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row and row[0] else None


@dataclass(frozen=True)
class Definitions:
    """What a repeatable file can change: function definitions and ACLs, policies, RLS switches."""

    functions: dict[str, str]
    policies: dict[str, str]
    rls: dict[str, str]


def read_definitions(conn: psycopg.Connection[Any]) -> Definitions:
    """Snapshot of every user function and policy (for the file-versus-live comparison)."""
    user_ns = (
        "n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%%'"
    )
    cur = conn.cursor()
    row = cur.execute("select pg_catalog.current_setting('search_path')").fetchone()
    saved = row[0] if row else ""
    cur.execute("select pg_catalog.set_config('search_path', '', true)")  # qualify every name
    try:
        return _read_definitions(cur, user_ns)
    finally:
        cur.execute("select pg_catalog.set_config('search_path', %s, true)", (saved,))


def _read_definitions(cur: psycopg.Cursor[Any], user_ns: str) -> Definitions:
    cur.execute(
        f"""
        select p.oid::pg_catalog.regprocedure::text,
               pg_catalog.pg_get_functiondef(p.oid)
               || E'\\n-- acl: ' || coalesce((select string_agg(a::text, ',' order by a::text)
                                               from unnest(p.proacl) a), '(default)')
               || E'\\n-- comment: ' || coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '(none)')
          from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where {user_ns} and p.prokind in ('f', 'p') and not {_ext('pg_proc', 'p.oid')}
        """
    )
    functions = {k: v for k, v in cur.fetchall()}
    cur.execute(
        """
        select p.schemaname || '.' || p.tablename || '.' || p.policyname,
               concat_ws(E'\\n', 'command: ' || p.cmd, 'roles: ' || p.roles::text, 'permissive: ' || p.permissive,
                         'using: ' || coalesce(p.qual, '(none)'), 'with check: ' || coalesce(p.with_check, '(none)'),
                         'comment: ' || coalesce(pg_catalog.obj_description(pol.oid, 'pg_policy'), '(none)'))
          from pg_catalog.pg_policies p
          join pg_catalog.pg_namespace n on n.nspname = p.schemaname
          join pg_catalog.pg_class k on k.relnamespace = n.oid and k.relname = p.tablename
          join pg_catalog.pg_policy pol on pol.polrelid = k.oid and pol.polname = p.policyname
        """
    )
    policies = {k: v for k, v in cur.fetchall()}
    cur.execute(
        f"""
        select n.nspname || '.' || k.relname,
               'row level security: ' || case when k.relrowsecurity then 'enabled' else 'disabled' end
               || ', forced: ' || case when k.relforcerowsecurity then 'yes' else 'no' end
          from pg_catalog.pg_class k join pg_catalog.pg_namespace n on n.oid = k.relnamespace
         where {user_ns} and k.relkind in ('r', 'p')
        """
    )
    rls = {k: v for k, v in cur.fetchall()}
    return Definitions(functions, policies, rls)
