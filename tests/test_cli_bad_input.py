"""Passwords never leave the program: a wrong one is reported without it, and no command prints one.

Every other kind of bad input is a case of tests/test_bad_input_corpus.py."""

from __future__ import annotations

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
