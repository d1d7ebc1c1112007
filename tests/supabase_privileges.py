"""Databases prepared the way a Supabase project is before dbkit applies anything.

Every Supabase project has the API roles and, for the role that runs migrations,
``alter default privileges in schema public grant all on tables, functions, sequences
to anon, authenticated, service_role``: every table a migration creates in ``public``
starts with ALL (TRUNCATE, TRIGGER and REFERENCES included) for the three API roles,
every function with EXECUTE. The fixtures below write those statements themselves
(the roles are created where absent, with Supabase's attributes) and then run dbkit's
real apply, so a test sees exactly what a migration leaves behind on such a database.

``DATABASE_WIDE_DEFAULTS`` is the same grant without ``in schema public`` (a DBA's
setting that reaches every schema, alm_reporting included).

The modules applied are the ones whose privileges these tests own: platform,
wealth_automation and alm_reporting. A plain database with the same modules is built
the same way, so the two can be compared object by object.
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
from helpers import REPO_ROOT

MODULES = ("platform", "wealth_automation", "alm_reporting")
API_ROLES = ("anon", "authenticated", "service_role")

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
    """One template per preparation ("plain", "supabase", "database_wide"), the modules applied."""
    names: dict[str, str] = {}
    with ExitStack() as templates:
        for kind, preparation in PREPARATIONS.items():
            url = templates.enter_context(server.database(prefix=f"sec_{kind}_", is_template=True))
            if preparation:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(preparation)
            for module in MODULES:
                engine.apply(load_settings(REPO_ROOT, database_url=url), module=module)
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
