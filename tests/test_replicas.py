"""apply and streaming standbys: replay lag reported per migration, waited for on request.

A real primary and a real hot standby (``dbkit.ephemeral.hot_standby``: pg_basebackup -R).
A standby is made to lag by pausing its WAL replay (``pg_wal_replay_pause()``), which is
what a long query there does to replay under ``max_standby_streaming_delay = -1``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbkit import engine, replicas
from dbkit.config import load_settings
from dbkit.ephemeral import Server, ephemeral_postgres, hot_standby
from dbkit.errors import ConfigError
from dbkit.verify import verify
from helpers import REPO_ROOT, run_dbkit, table_migrations, write_project


@pytest.fixture(scope="module")
def primary_and_standby() -> Iterator[tuple[Server, Server]]:
    with ephemeral_postgres() as primary, hot_standby(primary) as standby:
        with psycopg.connect(standby.url(), autocommit=True) as conn:
            # The standby reports its position every second (default 10 s), so the primary's
            # replay_lag of a paused standby grows in steps of a second, not ten.
            conn.execute("alter system set wal_receiver_status_interval = '1s'")
            conn.execute("select pg_reload_conf()")
        yield primary, standby


@pytest.fixture
def app(primary_and_standby: tuple[Server, Server]) -> Iterator[tuple[str, Server]]:
    """A fresh database on the primary (its URL) and the standby that follows it."""
    primary, standby = primary_and_standby
    with primary.database() as url:
        yield url, standby
        _resume(standby)


def _pause(standby: Server) -> None:
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        conn.execute("select pg_wal_replay_pause()")


def _resume(standby: Server) -> None:
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        conn.execute("select pg_wal_replay_resume()")


def _lagging(url: str, standby: Server, seconds: float) -> None:
    """Pause the standby's replay and write WAL until the primary sees its replay lag reach ``seconds``.

    Unknown lag does not count: right after the write the standby may not have reported yet
    (replay_lag NULL), and its first report after a burst of WAL reads close to 0 (the time
    since the oldest unreplayed WAL was sent). Only a reported lag of ``seconds`` or more
    makes the next apply's wait deterministic.
    """
    _pause(standby)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table public.written_while_paused (id int)")  # WAL the standby cannot replay
        for _ in range(300):
            lags = replicas.sample(conn)
            if lags and all(lag.lag_s is not None and lag.lag_s >= seconds for lag in lags):
                return
            time.sleep(0.1)
    raise AssertionError(f"the paused standby's replay lag did not reach {seconds} s within 30 s")


def _caught_up(url: str) -> None:
    """Every standby has replayed all the primary wrote (lag 0), within 30 s."""
    with psycopg.connect(url, autocommit=True) as conn:
        lags, _ = replicas.wait_below(conn, 1e-9, 30.0, before="the check", progress=lambda _: None)
    assert lags and all(lag.behind_bytes == 0 for lag in lags)


def test_apply_reports_each_standbys_replay_lag_before_and_after_each_migration(
        app: tuple[str, Server], tmp_path: Path) -> None:
    url, _ = app
    project = write_project(tmp_path, table_migrations("m", 3))
    result = engine.apply(load_settings(project, database_url=url))
    assert [lag.target for lag in result.replication] == list(result.done) == ["0001_m_t1", "0002_m_t2", "0003_m_t3"]
    for lag in result.replication:
        assert len(lag.before) == 1 and len(lag.after) == 1, lag
        assert lag.after[0].state == "streaming" and lag.after[0].behind_bytes is not None
        assert lag.waited_s == 0.0
    again = engine.apply(load_settings(project, database_url=url))
    assert again.steps == () and again.replication == ()  # nothing applied: no lag to report


def test_apply_text_output_shows_the_standby_lag_of_each_migration(app: tuple[str, Server], tmp_path: Path) -> None:
    url, _ = app
    project = write_project(tmp_path, table_migrations("m", 2))
    result = run_dbkit("apply", url=url, cwd=project)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "standby replay lag" in line]
    assert [line.split(":")[0].strip() for line in lines] == ["0001_m_t1", "0002_m_t2"], result.stdout
    assert all("before " in line and "; after " in line and "bytes behind" in line for line in lines)


def test_apply_waits_for_a_lagging_standby_before_the_next_migration(app: tuple[str, Server], tmp_path: Path) -> None:
    url, standby = app
    project = write_project(tmp_path, table_migrations("m", 3))
    settings = load_settings(project, database_url=url, wait_replica_lag_below="1s", replica_wait_limit=120)
    engine.apply(settings, to="0001_m_t1")
    _lagging(url, standby, 1.0)
    waiting = threading.Event()

    def progress(message: str) -> None:
        if message.startswith("waiting for standby replay lag"):
            waiting.set()

    def resume_once_waiting() -> None:
        if waiting.wait(60):
            _resume(standby)

    resumer = threading.Thread(target=resume_once_waiting)
    resumer.start()
    try:
        result = engine.apply(settings, progress=progress)
    finally:
        resumer.join()
    assert waiting.is_set()
    assert result.done == ("0002_m_t2", "0003_m_t3")
    assert result.replication[0].waited_s > 0  # it waited for the paused standby
    assert all(lag.below(1.0) for lag in result.replication[0].before)  # and started only once it caught up


def test_apply_stops_with_exit_1_when_a_standby_stays_behind_the_bound(app: tuple[str, Server],
                                                                       tmp_path: Path) -> None:
    url, standby = app
    project = write_project(tmp_path, table_migrations("m", 3))
    assert run_dbkit("apply", "--to", "0001_m_t1", url=url, cwd=project).exit_code == 0
    _lagging(url, standby, 0.5)
    result = run_dbkit("apply", "--wait-replica-lag-below", "500ms", "--replica-wait-limit", "1", url=url, cwd=project)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "replay lag stayed at or above 500 ms" in lines[0] and "before 0002_m_t2" in lines[0]
    assert "bytes behind" in lines[0] and "Traceback" not in result.output
    status = engine.status(load_settings(project, database_url=url))
    assert [m.id for m in status.migrations("applied")] == ["0001_m_t1"]


@pytest.mark.parametrize(("option", "value", "shown"), [
    ("--wait-replica-lag-below", "0", "positive duration"),
    ("--wait-replica-lag-below", "soon", "positive duration"),
    ("--replica-wait-limit", "-1", "number of seconds"),
])
def test_bad_replica_options_are_refused_before_touching_the_database(
        empty_url: str, tmp_path: Path, option: str, value: str, shown: str) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("apply", option, value, url=empty_url, cwd=project)
    assert result.exit_code == 2 and option in result.stderr and shown in result.stderr, result.output
    assert result.stderr.count("\n") == 1 and "applied" not in result.stdout
    with pytest.raises(ConfigError, match="DBKIT_WAIT_REPLICA_LAG_BELOW"):
        load_settings(project, environ={"DBKIT_WAIT_REPLICA_LAG_BELOW": "-2s"})


def test_verify_runs_read_only_on_the_standby_after_a_waited_apply(app: tuple[str, Server]) -> None:
    url, standby = app
    engine.apply(load_settings(REPO_ROOT, database_url=url, wait_replica_lag_below="5s"))
    _caught_up(url)
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(standby.url(dbname), autocommit=True) as conn:
        assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
    report = verify(load_settings(REPO_ROOT, database_url=standby.url(dbname)))
    failed = [f"{c.id}: {c.message}" for c in report.checks if c.status == "fail"]
    assert failed == [] and report.checks, "\n".join(failed)
