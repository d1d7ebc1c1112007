"""dbkit.ephemeral: which binaries run, clusters side by side, databases that always go away."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from dbkit.ephemeral import (
    BINDIR_ENV,
    CACHE_ENV,
    VERSION_ENV,
    EphemeralError,
    Server,
    binaries_cache,
    ephemeral_clusters,
    ephemeral_postgres,
    find_binaries,
    throwaway_database,
)
from helpers import REPO_ROOT, run_dbkit


def _scalar(url: str, query: str) -> object:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _exists(server: Server, dbname: str) -> bool:
    return _scalar(server.url(), f"select count(*) from pg_database where datname = '{dbname}'") == 1


# ---------------------------------------------------------------- which binaries


def test_a_wrong_bindir_is_an_error_never_a_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))
    with pytest.raises(EphemeralError, match=rf"{BINDIR_ENV}: {tmp_path} is not a PostgreSQL bin folder "
                                             r"\(no initdb, pg_ctl, postgres\)"):
        find_binaries()
    monkeypatch.setenv(BINDIR_ENV, "")
    with pytest.raises(EphemeralError, match=f"{BINDIR_ENV} is set but empty"):
        find_binaries()


def test_bindir_and_version_that_disagree_are_an_error(monkeypatch: pytest.MonkeyPatch, server: Server) -> None:
    other = server.binaries.major + 1
    monkeypatch.setenv(BINDIR_ENV, str(server.bindir))
    monkeypatch.setenv(VERSION_ENV, str(other))
    with pytest.raises(EphemeralError, match=f"holds PostgreSQL {server.version}, but {VERSION_ENV}={other}"):
        find_binaries()
    monkeypatch.setenv(VERSION_ENV, str(server.binaries.major))
    assert find_binaries().bindir == server.bindir


def test_a_version_that_is_not_installed_names_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.delenv(BINDIR_ENV, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.setenv(VERSION_ENV, "9")
    assert binaries_cache() == tmp_path
    with pytest.raises(EphemeralError, match=r"DBKIT_PG_VERSION=9, but no PostgreSQL 9 binaries .*"
                                             r"make pg-binaries PG=9"):
        find_binaries()
    monkeypatch.setenv(VERSION_ENV, "sixteen")
    with pytest.raises(EphemeralError, match="must be a PostgreSQL major version such as 16, not 'sixteen'"):
        find_binaries()


def test_binaries_know_their_version_and_extension_folders(server: Server) -> None:
    binaries = server.binaries
    with psycopg.connect(server.url(), autocommit=True) as conn:
        version = conn.execute("show server_version").fetchone()
        folders: dict[str, str] = dict(conn.execute("select name, setting from pg_config "
                                    "where name in ('PKGLIBDIR', 'SHAREDIR')").fetchall())
    assert version is not None and version[0].startswith(binaries.version)
    assert (str(binaries.pkglibdir), str(binaries.sharedir)) == (folders["PKGLIBDIR"], folders["SHAREDIR"])
    assert binaries.has_library("plpgsql") and binaries.has_extension("plpgsql")
    assert not binaries.has_library("no_such_library") and not binaries.has_extension("no_such_extension")
    assert server.describe() == f"PostgreSQL {binaries.version} on 127.0.0.1:{server.port} (binaries: {server.bindir})"


def test_the_test_run_names_its_server_and_refuses_a_wrong_bindir(tmp_path: Path) -> None:
    env = dict(os.environ)
    command = [sys.executable, "-m", "pytest", "-q", "--collect-only", "tests/test_ephemeral.py"]
    good = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[0] == (
        f"dbkit tests on {find_binaries().describe()}, chosen by {find_binaries().origin}; "
        f"extensions: pg_cron {'yes' if find_binaries().has_extension('pg_cron') else 'no'}, "
        f"plpgsql_check {'yes' if find_binaries().has_extension('plpgsql_check') else 'no'}, "
        f"pgtap {'yes' if find_binaries().has_extension('pgtap') else 'no'}")
    bad = subprocess.run(command, cwd=REPO_ROOT, env={**env, BINDIR_ENV: str(tmp_path)}, capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 4
    assert f"{BINDIR_ENV}: {tmp_path} is not a PostgreSQL bin folder" in bad.stderr


def test_dbkit_ci_with_a_wrong_bindir_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_dbkit("ci", env={BINDIR_ENV: str(tmp_path)})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {BINDIR_ENV}: {tmp_path} is not a PostgreSQL bin folder (no initdb, pg_ctl, postgres); "
        f"point {BINDIR_ENV} at one, e.g. /usr/lib/postgresql/15/bin"]


# ---------------------------------------------------------------- clusters


def test_two_clusters_run_side_by_side_and_both_are_removed() -> None:
    with ephemeral_clusters([None, None]) as (first, second):
        assert first.port != second.port and first.data_dir != second.data_dir
        _execute(first.url(), "create table only_here (id int)")
        assert _scalar(second.url(), "select to_regclass('only_here') is null") is True
        dirs = [first.socket_dir, second.socket_dir]
    assert not any(d.exists() for d in dirs)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(first.url(), connect_timeout=2)


def test_each_cluster_may_run_another_version() -> None:
    default = find_binaries()
    others = sorted(int(p.name.split(".")[0]) for p in binaries_cache().glob("*.*.*")
                    if int(p.name.split(".")[0]) != default.major and (p / "bin" / "postgres").is_file())
    if not others:
        pytest.skip(f"only PostgreSQL {default.major} is installed; `make pg-binaries PG=17` adds another")
    with ephemeral_clusters([None, others[0]]) as servers:
        versions = [int(str(_scalar(s.url(), "show server_version_num"))) // 10000 for s in servers]
    assert versions == [default.major, others[0]]


def test_cluster_is_stopped_and_removed_when_interrupted() -> None:
    with pytest.raises(KeyboardInterrupt):
        with ephemeral_postgres() as srv:
            assert _scalar(srv.url(), "select 1") == 1
            raise KeyboardInterrupt
    assert not srv.socket_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(srv.url(), connect_timeout=2)


@contextmanager
def _cluster_in_child() -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """A child process holding a throwaway cluster: (process, cluster directory, URL)."""
    script = ("import time\nfrom dbkit.ephemeral import ephemeral_postgres\n"
              "with ephemeral_postgres() as s:\n    print(s.socket_dir, s.url(), flush=True)\n    time.sleep(120)\n")
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as child:
        assert child.stdout is not None
        workdir, url = child.stdout.readline().split()
        yield child, workdir, url


def test_cluster_is_stopped_and_removed_when_its_process_gets_sigterm() -> None:
    with _cluster_in_child() as (child, workdir, url):
        assert _scalar(url, "select 1") == 1
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) != 0
    assert not Path(workdir).exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_a_cluster_whose_process_was_killed_is_removed_by_the_next_one() -> None:
    with _cluster_in_child() as (child, workdir, url):
        child.kill()  # SIGKILL: no finally block runs, the server and its directory stay
        child.wait(timeout=60)
    assert Path(workdir).exists() and _scalar(url, "select 1") == 1
    with ephemeral_postgres():
        assert not Path(workdir).exists()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)


def test_cluster_lives_on_dev_shm_and_runs_as_the_postgres_user_when_root(server: Server) -> None:
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        assert server.data_dir.is_relative_to("/dev/shm")
    if os.geteuid() != 0:
        pytest.skip("not root: the server runs as the current user")
    assert server.data_dir.stat().st_uid == pwd.getpwnam(os.environ.get("DBKIT_PG_OS_USER", "postgres")).pw_uid


# ---------------------------------------------------------------- databases


def test_database_from_a_template_is_a_copy_and_is_dropped_afterwards(server: Server) -> None:
    with server.database(prefix="tpl_", is_template=True) as template_url:
        _execute(template_url, "create table marker as select 42 as answer")
        template = template_url.rsplit("/", 1)[1]
        session = psycopg.connect(template_url)  # a session left on the template does not block the copy
        try:
            with server.database(template=template) as url:
                name = url.rsplit("/", 1)[1]
                assert _scalar(url, "select answer from marker") == 42
                assert _exists(server, name)
            assert not _exists(server, name)
        finally:
            session.close()
    assert not _exists(server, template)


def test_throwaway_database_is_dropped_when_the_body_fails(server: Server) -> None:
    with pytest.raises(RuntimeError):
        with throwaway_database(server.url(), prefix="gone_") as name:
            session = psycopg.connect(server.url(name))  # an open session does not keep it alive
            raise RuntimeError("boom")
    session.close()
    assert not _exists(server, name)


def test_creating_a_database_twice_is_an_error_naming_it(server: Server) -> None:
    with server.database("twice") as _:
        with pytest.raises(EphemeralError, match='cannot create database twice: database "twice" already exists'):
            server.create_database("twice")
