"""One throwaway cluster per test session; a fresh database per test.

The cluster comes from ``dbkit.ephemeral`` (pytest-postgresql's own process fixture
cannot run as root). A template database is migrated once with dbkit's real apply;
each test that needs a migrated database gets ``CREATE DATABASE … TEMPLATE`` through
pytest-postgresql's ``DatabaseJanitor``, which also drops it afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

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
