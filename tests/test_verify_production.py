"""verify is safe on production: it takes no lock stronger than ACCESS SHARE, never queues behind
(or in front of) an application's locks, writes nothing, and runs on a read-only database and on
a real streaming hot standby.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from dbkit.ephemeral import Server, ephemeral_postgres, hot_standby
from dbkit.snapshot import load_all
from dbkit.project import load_project
from dbkit.verify import VerifyReport, verify
from helpers import REPO_ROOT, dbkit_process

DBKIT_LOCKS = """
select l.locktype, l.mode, l.granted, coalesce(n.nspname || '.' || c.relname, '')
  from pg_locks l join pg_stat_activity a on a.pid = l.pid
  left join pg_class c on c.oid = l.relation left join pg_namespace n on n.oid = c.relnamespace
 where a.application_name = 'dbkit' and l.pid <> pg_backend_pid()
"""
WAITING = "select count(*) from pg_locks where not granted"


def _problems(report: VerifyReport) -> list[str]:
    return [f"{c.status} {c.id}: {c.message}" for c in report.checks if c.status in ("fail", "warn")]


def _module_tables() -> list[str]:
    expected, _ = load_all(load_project(load_settings(REPO_ROOT)))
    return sorted(o.name for o in expected.values() if o.kind == "table")


def _sample_while_verify_runs(url: str, query: str, report: Path) -> list[tuple[object, ...]]:
    """Run `dbkit verify` as its own process and sample ``query`` from this session until it exits."""
    samples: list[tuple[object, ...]] = []
    process = dbkit_process("verify", "--format", "json", "--output", str(report), url=url)
    with psycopg.connect(url, autocommit=True) as watcher:
        while process.poll() is None:
            samples.extend(watcher.execute(query).fetchall())
            time.sleep(0.002)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    return samples


def test_verify_takes_no_lock_stronger_than_access_share_and_no_transaction_id(migrated_url: str,
                                                                              tmp_path: Path) -> None:
    samples = _sample_while_verify_runs(migrated_url, DBKIT_LOCKS, tmp_path / "verify.json")
    relation_locks = {(str(mode), str(relation)) for kind, mode, _, relation in samples if kind == "relation"}
    assert relation_locks, "no lock of verify's was ever sampled: the test saw nothing"
    assert {mode for mode, _ in relation_locks} == {"AccessShareLock"}
    # a transaction id is assigned on the first write: verify never had one
    assert [s for s in samples if s[0] == "transactionid"] == []
    assert any(relation.startswith("public.") for _, relation in relation_locks)  # it read the modules' tables


def test_verify_passes_while_an_application_holds_exclusive_locks_on_every_table(migrated_url: str,
                                                                                 tmp_path: Path) -> None:
    tables = _module_tables()
    with psycopg.connect(migrated_url) as app:
        for table in tables:  # writers blocked, readers allowed
            app.execute(f"lock table {table} in exclusive mode")
        waiting = _sample_while_verify_runs(migrated_url, WAITING, tmp_path / "verify.json")
        report = verify(load_settings(REPO_ROOT, database_url=migrated_url))
        assert app.execute("select count(*) from pg_locks where pid = pg_backend_pid() and mode = 'ExclusiveLock' "
                           "and locktype = 'relation'").fetchone() == (len(tables),)
    assert len(tables) >= 30
    assert _problems(report) == [], "\n".join(_problems(report))
    assert waiting and {count for (count,) in waiting} == {0}, "a lock request waited while verify ran"


def test_verify_passes_on_a_read_only_database(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(f'alter database "{migrated_url.rsplit("/", 1)[1]}" set default_transaction_read_only = on')
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url))
    assert _problems(report) == [], "\n".join(_problems(report))
    assert any(c.kind == "behaviour" and c.status == "pass" for c in report.checks)


@pytest.fixture(scope="module")
def primary_and_standby() -> Iterator[tuple[Server, Server]]:
    with ephemeral_postgres() as primary:
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("create database app")
        engine.apply(load_settings(REPO_ROOT, database_url=primary.url("app")))
        with hot_standby(primary) as standby:
            yield primary, standby


def _caught_up(primary: Server, standby: Server) -> None:
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        conn.execute("select pg_switch_wal()")  # nothing left waiting in a partly filled segment
        target = conn.execute("select pg_current_wal_lsn()").fetchone()
    assert target is not None
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        for _ in range(600):
            row = conn.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn", (target[0],)).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the standby did not replay the primary's WAL within 30 s")


def test_verify_passes_on_a_streaming_hot_standby(primary_and_standby: tuple[Server, Server]) -> None:
    primary, standby = primary_and_standby
    _caught_up(primary, standby)
    with psycopg.connect(standby.url("app"), autocommit=True) as conn:
        assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
    report = verify(load_settings(REPO_ROOT, database_url=standby.url("app")))
    assert _problems(report) == [], "\n".join(_problems(report))
    assert report.migration_status.startswith(f"{sum(1 for c in report.checks if c.kind == 'migration')} applied")


def test_verify_on_the_standby_sees_a_change_made_on_the_primary(primary_and_standby: tuple[Server, Server]) -> None:
    primary, standby = primary_and_standby
    with psycopg.connect(primary.url("app"), autocommit=True) as conn:
        conn.execute("grant truncate on public.leads to anon")
    try:
        _caught_up(primary, standby)
        report = verify(load_settings(REPO_ROOT, database_url=standby.url("app")), module="automations")
        failed = {c.id: c.message for c in report.checks if c.status == "fail"}
        assert failed == {"automations.privileges.public.leads": (
            "anon may TRUNCATE on table public.leads, which the SQL does not grant: given by "
            "`GRANT TRUNCATE ON TABLE public.leads TO anon`, removed by `REVOKE TRUNCATE ON TABLE public.leads FROM anon`")}
    finally:
        with psycopg.connect(primary.url("app"), autocommit=True) as conn:
            conn.execute("revoke truncate on public.leads from anon")
