"""Lock safety: DDL waiting behind another transaction fails fast and cleanly, or retries.

A second connection holds a lock on the table a migration alters (an open transaction
that read it, as a long report query would). Without lock_timeout the migration's
ALTER TABLE would queue behind it and every later query on the table behind the
ALTER. The holder is killed by idle_in_transaction_session_timeout after 60 s, so a
missing lock_timeout makes these tests fail rather than hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from dbkit.errors import MigrationFailed
from helpers import run_dbkit, write_project

ALTER = "migrations/app/0002_app_orders_note.sql"
FILES = {
    "migrations/app/0001_app_orders.sql": "-- Test migration.\ncreate table public.orders (id integer primary key);\n",
    "migrations/app/0001_app_orders.rollback.sql": "-- Undo.\ndrop table public.orders;\n",
    ALTER: "-- Test migration.\nalter table public.orders add column note text;\n",
    "migrations/app/0002_app_orders_note.rollback.sql": "-- Undo.\nalter table public.orders drop column note;\n",
}
CONFIG = 'ddl_lock_wait = "200ms"\nstatement_timeout = "30s"\n'


@pytest.fixture
def project(tmp_path: Path, empty_url: str) -> Path:
    root = write_project(tmp_path, FILES, config=CONFIG)
    engine.apply(load_settings(root, database_url=empty_url), to="0001_app_orders")
    return root


@pytest.fixture
def holder(empty_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection inside a transaction that has read public.orders (ACCESS SHARE lock)."""
    conn = psycopg.connect(empty_url)
    conn.execute("set idle_in_transaction_session_timeout = '60s'")
    conn.execute("select count(*) from public.orders")
    yield conn
    conn.close()


def has_note_column(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from information_schema.columns "
                           "where table_name = 'orders' and column_name = 'note'").fetchone()
    return row == (1,)


def applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("select migration_id from dbkit._yoyo_migration order by 1").fetchall()]


def test_default_ddl_lock_wait_is_a_few_seconds(tmp_path: Path) -> None:
    settings = load_settings(write_project(tmp_path, FILES))
    assert settings.ddl_lock_wait == "5s"


def test_apply_behind_a_lock_fails_fast_names_the_migration_and_applies_nothing(
        project: Path, holder: psycopg.Connection[tuple[object, ...]], empty_url: str) -> None:
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 1, result.output
    assert ALTER in result.stderr
    assert "lock timeout" in result.stderr and "behind another transaction" in result.stderr
    assert "55P03" in result.stderr
    holder.rollback()
    assert not has_note_column(empty_url)
    assert applied(empty_url) == ["0001_app_orders"]


def test_apply_error_carries_the_lock_sqlstate(
        project: Path, holder: psycopg.Connection[tuple[object, ...]], empty_url: str) -> None:
    with pytest.raises(MigrationFailed) as caught:
        engine.apply(load_settings(project, database_url=empty_url))
    assert caught.value.sqlstate == "55P03" and caught.value.migration_id == "0002_app_orders_note"


def test_apply_with_retries_succeeds_once_the_lock_is_released(
        project: Path, holder: psycopg.Connection[tuple[object, ...]], empty_url: str) -> None:
    messages: list[str] = []

    def progress(message: str) -> None:
        messages.append(message)
        if message.startswith("lock not available"):
            holder.rollback()  # the long transaction ends while dbkit backs off

    settings = load_settings(project, database_url=empty_url, retries=2)
    result = engine.apply(settings, progress=progress)
    assert result.done == ("0002_app_orders_note",)
    assert any(m.startswith("lock not available; retry 1 of 2") for m in messages)
    assert has_note_column(empty_url)


def test_retries_run_out_when_the_lock_is_never_released(
        project: Path, holder: psycopg.Connection[tuple[object, ...]], empty_url: str) -> None:
    result = run_dbkit("apply", "--retries", "1", url=empty_url, cwd=project)
    assert result.exit_code == 1 and "lock timeout" in result.stderr
    holder.rollback()
    assert applied(empty_url) == ["0001_app_orders"]


def test_rollback_behind_a_lock_fails_fast_and_keeps_the_migration(
        project: Path, empty_url: str) -> None:
    engine.apply(load_settings(project, database_url=empty_url))
    with psycopg.connect(empty_url) as holding:
        holding.execute("set idle_in_transaction_session_timeout = '60s'")
        holding.execute("select count(*) from public.orders")
        result = run_dbkit("rollback", "--steps", "1", url=empty_url, cwd=project)
        holding.rollback()
    assert result.exit_code == 1, result.output
    assert "0002_app_orders_note.rollback.sql" in result.stderr and "lock timeout" in result.stderr
    assert has_note_column(empty_url)
    assert applied(empty_url) == ["0001_app_orders", "0002_app_orders_note"]


@pytest.mark.parametrize("first_sets", ["", "set statement_timeout = 0;\n"], ids=["plain", "first-sets-its-own"])
def test_statement_timeout_stops_a_runaway_migration(tmp_path: Path, empty_url: str, first_sets: str) -> None:
    # The timeouts are set once per session: a migration that SETs one itself (session-wide,
    # committed) must not leave the next migration without the configured statement_timeout.
    files = dict(FILES)
    files["migrations/app/0001_app_orders.sql"] = ("-- Test migration.\n" + first_sets +
                                                   "create table public.orders (id integer primary key);\n")
    files[ALTER] = "-- Test migration.\nselect pg_sleep(60);\nalter table public.orders add column note text;\n"
    root = write_project(tmp_path, files, config='statement_timeout = "200ms"\n')
    result = run_dbkit("apply", url=empty_url, cwd=root)
    assert result.exit_code == 1
    assert "statement timeout" in result.stderr and "57014" in result.stderr
    assert applied(empty_url) == ["0001_app_orders"]

