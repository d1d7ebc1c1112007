"""One throwaway cluster per test session; a fresh database per test.

The cluster comes from ``dbkit.ephemeral`` (pytest-postgresql's own process fixture
cannot run as root). A template database is migrated once with dbkit's real apply;
each test that needs a migrated database gets ``CREATE DATABASE … TEMPLATE`` through
pytest-postgresql's ``DatabaseJanitor``, which also drops it afterwards.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

from dbkit import engine
from dbkit.config import load_settings
from dbkit.ephemeral import Server, ephemeral_postgres
from helpers import REPO_ROOT

TEMPLATE = "dbkit_template"


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with ephemeral_postgres() as srv:
        yield srv


def _janitor(server: Server, dbname: str, **kwargs: object) -> DatabaseJanitor:
    return DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname=dbname, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def migrated_template(server: Server) -> Iterator[str]:
    janitor = _janitor(server, TEMPLATE, as_template=True)
    janitor.init()
    try:
        engine.apply(load_settings(REPO_ROOT, database_url=server.url(TEMPLATE)))
        yield TEMPLATE
    finally:
        janitor.drop()


@pytest.fixture
def migrated_url(server: Server, migrated_template: str) -> Iterator[str]:
    """A fresh database with every module applied."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _janitor(server, name, template_dbname=migrated_template):
        yield server.url(name)


@pytest.fixture
def empty_url(server: Server) -> Iterator[str]:
    """A fresh, empty database."""
    name = f"e_{uuid.uuid4().hex[:12]}"
    with _janitor(server, name):
        yield server.url(name)


@pytest.fixture(scope="session")
def demo_snapshots(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The catalog snapshots of the demo project (tests/demo_project.py), generated once per session."""
    from demo_project import generate_snapshots

    return generate_snapshots(server, tmp_path_factory.mktemp("demo-snapshot"))


FIXTURES = REPO_ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def supabase_server() -> Iterator[Server]:
    """A throwaway cluster shaped like hosted Supabase (tests/fixtures/supabase_cluster.sql): the
    bootstrap superuser is supabase_admin and ``postgres`` is a non-superuser member of the API roles.
    The yielded Server connects as supabase_admin."""
    with ephemeral_postgres() as srv:
        with psycopg.connect(srv.url(), autocommit=True) as conn:
            conn.execute("create role dbkit_fixture_admin superuser login")
        helper = dataclasses.replace(srv, user="dbkit_fixture_admin")
        with psycopg.connect(helper.url(), autocommit=True) as conn:
            conn.execute("alter role postgres rename to supabase_admin")
        admin = dataclasses.replace(srv, user="supabase_admin")
        with psycopg.connect(admin.url(), autocommit=True) as conn:
            conn.execute("drop role dbkit_fixture_admin")
            conn.execute((FIXTURES / "supabase_cluster.sql").read_text(encoding="utf-8"))
        yield admin


@pytest.fixture
def supabase_url(supabase_server: Server) -> Iterator[str]:
    """A fresh Supabase-shaped database (tests/fixtures/supabase_database.sql: API roles' default
    privileges, Supabase's own auth schema, auth.users and auth.uid()/role()/jwt()), as the
    non-superuser ``postgres``. Nothing of dbkit is applied."""
    name = f"supa_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(supabase_server.url(), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    with psycopg.connect(supabase_server.url(name), autocommit=True) as conn:
        conn.execute((FIXTURES / "supabase_database.sql").read_text(encoding="utf-8"))
    try:
        yield dataclasses.replace(supabase_server, user="postgres").url(name)
    finally:
        with psycopg.connect(supabase_server.url(), autocommit=True) as conn:
            conn.execute(f'drop database "{name}" with (force)')


@pytest.fixture
def existing_app_url(empty_url: str) -> str:
    """An existing application's database (tests/fixtures/existing_app.sql: its own agents, leads,
    conversations, workflow_sessions … with extra columns), the modules' first migrations baselined
    and everything else applied."""
    settings = load_settings(REPO_ROOT, database_url=empty_url)
    engine.apply(settings, module="platform")
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute((FIXTURES / "existing_app.sql").read_text(encoding="utf-8"))
    engine.baseline(settings, module="automations", through="0001_automations_base_tables")
    engine.baseline(settings, module="strategy_execution", through="0001_strategy_base_tables")
    engine.apply(settings)
    return empty_url
