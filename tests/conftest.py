"""One throwaway cluster per test session; a fresh database per test.

Everything comes from ``dbkit.ephemeral``, the one factory of throwaway PostgreSQL
(pytest-postgresql's own process fixture cannot run as root): the cluster, a template
database migrated once with dbkit's real apply, and per test ``CREATE DATABASE …
TEMPLATE`` (about 50 ms), dropped afterwards. The run's first line names the
PostgreSQL version and binary folder (``make test PG=16`` picks another version).
"""

from __future__ import annotations

from collections.abc import Iterator

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
