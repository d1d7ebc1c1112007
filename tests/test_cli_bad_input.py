"""Bad input: one line on stderr saying what is wrong, exit 2, no traceback, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from dbkit.ephemeral import Server
from helpers import Result, run_dbkit, table_migrations, write_project


def _assert_clean_usage_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _nothing_created(url: str) -> None:
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regnamespace('dbkit')").fetchone() == (None,)
        assert conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        ).fetchone() == (0,)


def test_malformed_url(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    _assert_clean_usage_error(run_dbkit("apply", url="postgresql://u@h:notaport/db", cwd=project), "port")
    _assert_clean_usage_error(run_dbkit("apply", url="mysql://u@h/db", cwd=project), "scheme")
    _assert_clean_usage_error(run_dbkit("apply", url="host=h port", cwd=project), "malformed database URL")


def test_unreachable_port(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("apply", url="postgresql://postgres@127.0.0.1:1/postgres", cwd=project)
    _assert_clean_usage_error(result, "cannot connect to postgres@127.0.0.1:1/postgres")


def test_unknown_database(server: Server, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("status", url=server.url("no_such_db"), cwd=project)
    _assert_clean_usage_error(result, 'database "no_such_db" does not exist')


def test_wrong_password_is_reported_without_the_password(server: Server, tmp_path: Path) -> None:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("drop role if exists dbkit_pw")
        conn.execute("create role dbkit_pw login password 'right-horse'")
    hba = server.data_dir / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("host all dbkit_pw 127.0.0.1/32 scram-sha-256\n" + original)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("select pg_reload_conf()")
    try:
        project = write_project(tmp_path, table_migrations("m", 1))
        url = f"postgresql://dbkit_pw:Wr0ng-Batt3ry@{server.host}:{server.port}/postgres"
        result = run_dbkit("apply", url=url, cwd=project)
        _assert_clean_usage_error(result, "password authentication failed")
        assert "Wr0ng-Batt3ry" not in result.output
    finally:
        hba.write_text(original)
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")
            conn.execute("drop role dbkit_pw")


def test_missing_database_url(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    _assert_clean_usage_error(run_dbkit("apply", cwd=project), "DATABASE_URL")


def _broken_projects() -> dict[str, tuple[dict[str, str | bytes], list[str], tuple[str, ...]]]:
    base: dict[str, str | bytes] = dict(table_migrations("m", 2))
    dup = dict(base)
    dup.update({"migrations/n/0001_m_t1.sql": "select 1;\n", "migrations/n/0001_m_t1.rollback.sql": "select 1;\n"})
    unknown_dep = dict(base)
    unknown_dep["migrations/m/0001_m_t1.sql"] = "-- depends: 0099_nowhere\ncreate table public.m_t1 (id int);\n"
    cycle: dict[str, str | bytes] = dict(table_migrations("a", 1))
    cycle.update(table_migrations("b", 1))
    cycle["migrations/a/0001_a_t1.sql"] = "-- depends: 0001_b_t1\nselect 1;\n"
    cycle["migrations/b/0001_b_t1.sql"] = "-- depends: 0001_a_t1\nselect 1;\n"
    directive = dict(base)
    directive["migrations/m/0002_m_t2.sql"] = "-- Adds t2.\n-- transaction: false\ncreate table public.m_t2 (id int);\n"
    latin1 = dict(base)
    latin1["migrations/m/0002_m_t2.sql"] = "-- caf\xe9\ncreate table public.m_t2 (id int);\n".encode("latin-1")
    no_rollback = dict(base)
    del no_rollback["migrations/m/0002_m_t2.rollback.sql"]
    bad_name = dict(base)
    bad_name["migrations/m/2_oops.sql"] = "select 1;\n"
    return {
        "duplicate id": (dup, ["apply"], ("duplicate migration id '0001_m_t1'",)),
        "depends on unknown id": (unknown_dep, ["apply"], ("migrations/m/0001_m_t1.sql:1", "0099_nowhere")),
        "dependency cycle": (cycle, ["apply"], ("dependency cycle", "0001_a_t1", "0001_b_t1")),
        "unknown directive": (directive, ["apply"], ("migrations/m/0002_m_t2.sql:2", "unknown header directive 'transaction'")),
        "non-utf8 file": (latin1, ["apply"], ("migrations/m/0002_m_t2.sql:1", "UTF-8")),
        "missing rollback": (no_rollback, ["apply"], ("migrations/m/0002_m_t2.sql", "no rollback file")),
        "malformed file name": (bad_name, ["apply"], ("migrations/m/2_oops.sql", "NNNN_name.sql")),
        "unknown module": (base, ["apply", "--module", "nope"], ("unknown module 'nope'", "known modules: m")),
        "rollback to unknown id": (base, ["rollback", "--to", "0042_nope"], ("unknown migration id '0042_nope'",)),
        "rollback with no range": (base, ["rollback"], ("exactly one of --steps N, --to ID or --all",)),
    }


@pytest.mark.parametrize("case", sorted(_broken_projects()))
def test_broken_project_is_rejected_before_touching_the_database(
    case: str, empty_url: str, tmp_path: Path
) -> None:
    files, args, fragments = _broken_projects()[case]
    project = write_project(tmp_path, files)
    _assert_clean_usage_error(run_dbkit(*args, url=empty_url, cwd=project), *fragments)
    _nothing_created(empty_url)


def test_missing_migrations_directory(empty_url: str, tmp_path: Path) -> None:
    (tmp_path / "dbkit.toml").write_text("")
    _assert_clean_usage_error(run_dbkit("apply", url=empty_url, cwd=tmp_path), "migrations directory", "does not exist")


def test_unknown_config_key(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1), config='migration_dir = "x"\n')
    _assert_clean_usage_error(run_dbkit("apply", url=empty_url, cwd=project), "unknown key(s) migration_dir")


def test_unknown_option_is_one_line() -> None:
    _assert_clean_usage_error(run_dbkit("apply", "--frobnicate"), "No such option", "dbkit apply --help")


SENTINEL = "S3ntinel-Passw0rd"
COMMANDS: list[tuple[str, ...]] = [
    ("apply",), ("apply", "--dry-run"), ("status",), ("status", "--format", "json"),
    ("rollback", "--all"), ("baseline", "--module", "m", "--through", "0001_m_t1"), ("repair",),
    ("verify",), ("verify", "--format", "json"), ("verify", "--format", "html", "--output", "report.html"),
    ("verify", "--format", "junit", "--output", "report.xml"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
@pytest.mark.parametrize("reachable", [True, False], ids=["reachable", "unreachable"])
def test_password_in_url_never_appears_in_output(
    args: tuple[str, ...], reachable: bool, server: Server, empty_url: str, tmp_path: Path
) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    # trust authentication accepts any password, so the reachable case runs for real
    url = empty_url.replace("postgres@", f"postgres:{SENTINEL}@")
    if not reachable:
        url = url.replace(f":{server.port}/", ":1/")
    result = run_dbkit(*args, url=url, cwd=project)
    assert SENTINEL not in result.output
    for written in project.glob("report.*"):
        assert SENTINEL not in written.read_text()
