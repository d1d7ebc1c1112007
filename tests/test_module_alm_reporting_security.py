"""alm_reporting is no API schema (issue 13): the API roles get exactly service_role's import
rights, whatever default privileges the database has, and nothing beyond.

Attacks run on plain PostgreSQL and on a database with Supabase's default privileges
(``attack_url``); the privilege comparison also covers database-wide default privileges, the
setting that reaches schema alm_reporting.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dbkit.ephemeral import Server
from dbkit.identity import Identity, act_as
from supabase_privileges import attack_url, effective_privileges, prepared_templates  # noqa: F401

TABLES = ("chronological_events", "daily_summary", "import_history", "processing_status", "processed_files")


def outcome(conn: psycopg.Connection[Any], role: str, sql: str) -> str | int:
    """Run ``sql`` as ``role`` in a rolled-back transaction: its SQLSTATE, or its row count."""
    try:
        with conn.transaction(force_rollback=True):
            act_as(conn.cursor(), Identity(role))
            return conn.execute(sql).rowcount
    except psycopg.Error as exc:
        return str(exc.sqlstate)


@pytest.mark.parametrize("preparation", ["supabase", "database_wide"])
def test_privileges_are_the_same_whatever_the_default_privileges(
        server: Server, prepared_templates: dict[str, str], preparation: str) -> None:
    plain = {k: v for k, v in effective_privileges(server.url(prepared_templates["plain"])).items()
             if "alm_reporting" in k}
    prepared = {k: v for k, v in effective_privileges(server.url(prepared_templates[preparation])).items()
                if "alm_reporting" in k}
    assert len(plain) > 100
    assert {k: (plain.get(k), prepared.get(k)) for k in plain.keys() | prepared.keys()
            if plain.get(k) != prepared.get(k)} == {}


@pytest.mark.parametrize("table", TABLES)
def test_service_role_imports_rows_but_cannot_truncate_or_attach_triggers(attack_url: str, table: str) -> None:
    with psycopg.connect(attack_url, autocommit=True) as conn:
        assert isinstance(outcome(conn, "service_role", f"select * from alm_reporting.{table}"), int)
        assert outcome(conn, "service_role", f"truncate alm_reporting.{table}") == "42501"
        assert outcome(conn, "service_role", f"create trigger attack before insert on alm_reporting.{table} "
                                             "for each row execute function public.update_last_updated_column()") == "42501"


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_api_roles_cannot_reach_the_schema(attack_url: str, role: str) -> None:
    with psycopg.connect(attack_url, autocommit=True) as conn:
        for table in TABLES:
            assert outcome(conn, role, f"select * from alm_reporting.{table}") == "42501", table
        assert outcome(conn, role, "select alm_reporting.start_import('1900-01-01')") == "42501"
        assert outcome(conn, role, "create table alm_reporting.planted (id int)") == "42501"


def test_service_role_runs_an_import(attack_url: str) -> None:
    with psycopg.connect(attack_url, autocommit=True) as conn:
        with conn.transaction(force_rollback=True):
            act_as(conn.cursor(), Identity("service_role"))
            conn.execute("select alm_reporting.start_import('1900-01-02', 'MANUAL')")
            conn.execute("select alm_reporting.complete_import('1900-01-02', 3, '[\"a.xml\"]')")
            row = conn.execute("select status, records_imported from alm_reporting.import_history "
                               "where import_date = '1900-01-02'").fetchone()
    assert row == ("SUCCESS", 3)
