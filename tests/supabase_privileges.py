"""Databases prepared the way a Supabase project is before dbkit applies anything, and the
attacks tried on them (issue 13): the one fixture module of the security tests.

Every Supabase project has the API roles and, for the role that runs migrations,
``alter default privileges in schema public grant all on tables, functions, sequences
to anon, authenticated, service_role``: every table a migration creates in ``public``
starts with ALL (TRUNCATE, TRIGGER and REFERENCES included) for the three API roles,
every function with EXECUTE. The fixtures below write those statements themselves
(the roles are created where absent, with Supabase's attributes) and then run dbkit's
real apply, so a test sees exactly what a migration leaves behind on such a database.

``DATABASE_WIDE_DEFAULTS`` is the same grant without ``in schema public`` (a DBA's
setting that reaches every schema, alm_reporting included).

Every module is applied. A plain database is built the same way, so the two can be
compared object by object; ``attack_url`` gives each test a clone of either, so every
attack is tried on both.

``attempt`` runs one statement as an API identity the way PostgREST does
(``dbkit.identity.act_as``) inside a transaction that is rolled back, and reports the
outcome: ``"rows"``, ``"0 rows"`` or the SQLSTATE of the error. (The hosted-Supabase cluster
shape, with ``postgres`` a non-superuser, is conftest's ``supabase_url``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from dbkit.ephemeral import Server
from dbkit.identity import Identity, act_as
from helpers import REPO_ROOT

API_ROLES = ("anon", "authenticated", "service_role")
ROWS, NO_ROWS = "rows", "0 rows"

_ROLES = """
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
end
$$;
grant usage on schema public to anon, authenticated, service_role;
"""

SUPABASE_DEFAULTS = _ROLES + """
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
"""

DATABASE_WIDE_DEFAULTS = _ROLES + """
alter default privileges grant all on tables to anon, authenticated, service_role;
alter default privileges grant all on functions to anon, authenticated, service_role;
alter default privileges grant all on sequences to anon, authenticated, service_role;
"""

PREPARATIONS = {"plain": "", "supabase": SUPABASE_DEFAULTS, "database_wide": DATABASE_WIDE_DEFAULTS}


@pytest.fixture(scope="session")
def prepared_templates(server: Server) -> Iterator[dict[str, str]]:
    """One template per preparation ("plain", "supabase", "database_wide"), every module applied."""
    names: dict[str, str] = {}
    with ExitStack() as templates:
        for kind, preparation in PREPARATIONS.items():
            url = templates.enter_context(server.database(prefix=f"sec_{kind}_", is_template=True))
            if preparation:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(preparation)
            engine.apply(load_settings(REPO_ROOT, database_url=url))
            names[kind] = url.rsplit("/", 1)[1]
        yield names


@pytest.fixture(params=["plain", "supabase"])
def attack_url(request: pytest.FixtureRequest, server: Server, prepared_templates: dict[str, str]) -> Iterator[str]:
    """A fresh database with the modules applied: on plain PostgreSQL, then on Supabase's defaults."""
    with server.database(template=prepared_templates[request.param], prefix="a_") as url:
        yield url


def clone(server: Server, template: str) -> AbstractContextManager[str]:
    """A context manager giving the URL of a fresh copy of ``template`` (dropped afterwards)."""
    return server.database(template=template, prefix="c_")


_PRIVILEGES = """
with roles(rolname) as (select unnest(%(roles)s::text[])),
rels as (
    select c.oid, c.relkind, format('%%I.%%I', n.nspname, c.relname) as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('public', 'auth', 'alm_reporting') and c.relkind in ('r', 'p', 'v', 'm', 'S')
)
select 'relation ' || rels.name || ' ' || r.rolname,
       coalesce((select string_agg(p, ',' order by p) from unnest(
                    case when rels.relkind = 'S' then array['USAGE', 'SELECT', 'UPDATE']
                         else array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] end) p
                 where case when rels.relkind = 'S' then has_sequence_privilege(r.rolname, rels.oid, p)
                            else has_table_privilege(r.rolname, rels.oid, p) end), '-')
  from rels cross join roles r
union all
select 'column ' || rels.name || '.' || a.attname || ' ' || r.rolname,
       coalesce((select string_agg(p, ',' order by p) from unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p
                 where has_column_privilege(r.rolname, rels.oid, a.attnum, p)), '-')
  from rels join pg_attribute a on a.attrelid = rels.oid and a.attnum > 0 and not a.attisdropped
  cross join roles r
 where rels.relkind <> 'S'
union all
select 'function ' || p.oid::regprocedure::text || ' ' || r.rolname,
       has_function_privilege(r.rolname, p.oid, 'EXECUTE')::text
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace cross join roles r
 where n.nspname in ('public', 'auth', 'alm_reporting')
union all
select 'schema ' || n.nspname || ' ' || r.rolname,
       has_schema_privilege(r.rolname, n.oid, 'USAGE')::text || ',' || has_schema_privilege(r.rolname, n.oid, 'CREATE')::text
  from pg_namespace n cross join roles r
 where n.nspname in ('public', 'auth', 'alm_reporting')
"""


def effective_privileges(url: str) -> dict[str, str]:
    """What each API role may do on every relation, column, function and schema of the modules."""
    with psycopg.connect(url) as conn:
        conn.execute("set search_path = ''")
        rows: list[Any] = conn.execute(_PRIVILEGES, {"roles": list(API_ROLES)}).fetchall()
    return {str(k): str(v) for k, v in rows}


def attempt(url: str, statement: str, *, role: str, sub: str | None = None, setup: str | None = None,
            params: Any = None) -> str:
    """Run ``statement`` as ``role`` (and JWT subject ``sub``); always rolled back."""
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        if setup:
            cur.execute(setup)
        act_as(cur, Identity(role, sub))
        try:
            cur.execute(statement, params)
            affected = cur.rowcount
            cur.execute("set constraints all immediate")
        except psycopg.Error as exc:
            conn.rollback()
            return str(exc.sqlstate)
        result = ROWS if affected > 0 else NO_ROWS
        conn.rollback()
        return result


def table_privileges(url: str, tables: list[str], roles: tuple[str, ...]) -> dict[tuple[str, str], set[str]]:
    """Every table-level privilege each role holds (directly, through PUBLIC or a role it belongs to)."""
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    held: dict[tuple[str, str], set[str]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            for role in roles:
                held[(table, role)] = {
                    kind for kind in kinds
                    if conn.execute("select has_table_privilege(%s, %s, %s)", (role, table, kind)).fetchone() == (True,)
                }
    return held


def updatable_columns(url: str, table: str, role: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "select a.attname from pg_attribute as a where a.attrelid = %s::regclass and a.attnum > 0"
            " and not a.attisdropped and has_column_privilege(%s, a.attrelid, a.attnum, 'UPDATE')",
            (table, role)).fetchall()
    return {str(r[0]) for r in rows}


def privileges_beyond_rls(url: str, tables: list[str]) -> list[tuple[str, str, set[str]]]:
    """(table, role, privileges) where an API role holds what RLS does not govern (TRUNCATE,
    TRIGGER, REFERENCES), or anon holds anything at all: empty when the tables are closed."""
    found = []
    for (table, role), held in table_privileges(url, tables, API_ROLES).items():
        if held & {"TRUNCATE", "TRIGGER", "REFERENCES"} or (role == "anon" and held):
            found.append((table, role, held))
    return found

