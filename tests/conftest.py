"""One throwaway cluster per test session; a fresh database per test.

Everything comes from ``dbkit.ephemeral``, the one factory of throwaway PostgreSQL
(pytest-postgresql's own process fixture cannot run as root): the cluster, a template
database migrated once with dbkit's real apply, and per test ``CREATE DATABASE …
TEMPLATE`` (about 50 ms), dropped afterwards. The run's first line names the
PostgreSQL version and binary folder (``make test PG=16`` picks another version).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from dbkit.ephemeral import EphemeralError, Server, ephemeral_postgres, find_binaries
from helpers import REPO_ROOT

TEMPLATE = "dbkit_template"
OPTIONAL_EXTENSIONS = ("pg_cron", "plpgsql_check", "pgtap")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Name the server version and binary folder at the top of every run, whatever the verbosity.

    A wrong ``DBKIT_PG_BINDIR`` or ``DBKIT_PG_VERSION`` stops the run here, before any test.
    """
    try:
        binaries = find_binaries()
    except EphemeralError as exc:
        raise pytest.UsageError(str(exc)) from None
    found = ", ".join(f"{name} {'yes' if binaries.has_extension(name) else 'no'}" for name in OPTIONAL_EXTENSIONS)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"dbkit tests on {binaries.describe()}, chosen by {binaries.origin}; "
                            f"extensions: {found}")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with ephemeral_postgres() as srv:
        yield srv


@pytest.fixture(scope="session")
def migrated_template(server: Server) -> Iterator[str]:
    with server.database(TEMPLATE, is_template=True) as url:
        engine.apply(load_settings(REPO_ROOT, database_url=url))
        yield TEMPLATE


@pytest.fixture
def migrated_url(server: Server, migrated_template: str) -> Iterator[str]:
    """A fresh database with every module applied."""
    with server.database(template=migrated_template, prefix="t_") as url:
        yield url


@pytest.fixture
def empty_url(server: Server) -> Iterator[str]:
    """A fresh, empty database."""
    with server.database(prefix="e_") as url:
        yield url


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
    with supabase_server.database(prefix="supa_") as admin_url:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute((FIXTURES / "supabase_database.sql").read_text(encoding="utf-8"))
        yield admin_url.replace(f"//{supabase_server.user}@", "//postgres@", 1)


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
