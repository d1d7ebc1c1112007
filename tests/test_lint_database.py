"""`dbkit lint --database`: plpgsql_check on every function, in a throwaway cluster."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dbkit.ephemeral import Server
from helpers import REPO_ROOT, run_dbkit, write_project

FUNCTION = """-- Test migration: a table and a plpgsql function over it.
create schema private;
create table private.items (id integer primary key, price numeric not null);
create or replace function private.total_price() returns numeric
    language plpgsql stable
as $$
begin
    return (select sum(i.{column}) from private.items as i);
end;
$$;
"""
ROLLBACK = "-- Undo.\ndrop function private.total_price();\ndrop table private.items;\ndrop schema private;\n"


@pytest.fixture
def plpgsql_check(server: Server) -> None:
    with psycopg.connect(server.url()) as conn:
        row = conn.execute("select 1 from pg_available_extensions where name = 'plpgsql_check'").fetchone()
    if row is None:
        pytest.skip(f"plpgsql_check is not installed for {server.binaries.describe()} (Debian: apt-get install "
                    f"postgresql-{server.binaries.major}-plpgsql-check; the PyPI builds ship none)")


def project(tmp_path: Path, column: str) -> Path:
    return write_project(tmp_path, {
        ".sqlfluff": (REPO_ROOT / ".sqlfluff").read_text(encoding="utf-8"),
        "migrations/app/0001_app_items.sql": FUNCTION.format(column=column),
        "migrations/app/0001_app_items.rollback.sql": ROLLBACK,
    })


def run_lint(root: Path) -> tuple[int, dict[str, object]]:
    result = run_dbkit("lint", "--database", "--format", "json", cwd=root)
    return result.exit_code, json.loads(result.stdout)


def test_function_reading_a_missing_column_is_reported_at_its_line(tmp_path: Path, plpgsql_check: None) -> None:
    code, payload = run_lint(project(tmp_path, "cost"))
    assert code == 1
    findings = payload["findings"]
    assert isinstance(findings, list)
    [finding] = findings
    assert finding["rule"] == "DBK100" and finding["checker"] == "plpgsql_check"
    assert finding["path"] == "migrations/app/0001_app_items.sql" and finding["line"] == 8
    assert 'column i.cost does not exist' in finding["message"] and "private.total_price()" in finding["message"]
    assert payload["checkers"] == ["sqlfluff", "dbkit", "plpgsql_check"]


def test_correct_function_passes_the_database_check(tmp_path: Path, plpgsql_check: None) -> None:
    code, payload = run_lint(project(tmp_path, "price"))
    assert payload["findings"] == [] and code == 0
