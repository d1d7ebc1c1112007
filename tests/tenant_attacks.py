"""Shared pieces of the tenant-isolation attack tests (issue 13).

``supabase_defaults_template`` builds, once per test module, a database prepared the way every
Supabase project is before any migration runs: the API roles exist and the applying role's
default privileges in schema public grant ALL on new tables, functions and sequences to anon,
authenticated and service_role. Then dbkit's real apply runs on it. ``attack_url`` gives each
test a clone of either that database or the plain migrated template (``plain``), so every
attack is tried on both.

``attempt`` runs one statement as an API identity the way PostgREST does (``set local role`` and
``request.jwt.claims``) inside a transaction that is rolled back, and reports the outcome:
``"rows"``, ``"0 rows"`` or the SQLSTATE of the error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dbkit import engine
from dbkit.config import load_settings
from dbkit.ephemeral import Server
from helpers import REPO_ROOT

ROWS, NO_ROWS = "rows", "0 rows"
DATABASES = ("plain", "supabase_defaults")

SUPABASE_DEFAULT_PRIVILEGES = """
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
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
"""


def build_supabase_defaults_template(server: Server) -> Iterator[str]:
    """A template database with Supabase's default privileges, then every module applied."""
    with server.database(prefix="supa_", is_template=True) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SUPABASE_DEFAULT_PRIVILEGES)
        engine.apply(load_settings(REPO_ROOT, database_url=url))
        yield url.rsplit("/", 1)[1]


def clone(server: Server, template: str) -> Iterator[str]:
    with server.database(template=template, prefix="atk_") as url:
        yield url


def become(cur: psycopg.Cursor[Any], role: str, sub: str | None = None) -> None:
    """Switch the current transaction to an API identity, as PostgREST does."""
    claims: dict[str, str] = {"role": role}
    if sub is not None:
        claims["sub"] = sub
    cur.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
    cur.execute(sql.SQL("set local request.jwt.claims = {}").format(sql.Literal(json.dumps(claims))))


def attempt(url: str, statement: str, *, role: str, sub: str | None = None, setup: str | None = None,
            params: Any = None) -> str:
    """Run ``statement`` as ``role`` (and JWT subject ``sub``); always rolled back."""
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        if setup:
            cur.execute(setup)
        become(cur, role, sub)
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


@pytest.fixture(scope="module")
def supabase_defaults_template(server: Server) -> Iterator[str]:
    yield from build_supabase_defaults_template(server)


@pytest.fixture(params=DATABASES)
def attack_url(request: pytest.FixtureRequest, server: Server, migrated_template: str) -> Iterator[str]:
    """A fresh database of each kind: plain PostgreSQL, and one with Supabase's default privileges."""
    template = migrated_template if request.param == "plain" else request.getfixturevalue("supabase_defaults_template")
    yield from clone(server, template)
