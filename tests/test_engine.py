"""The engine's guarantees beyond yoyo: atomic records, checksums, locks, data-loss guard."""

from __future__ import annotations

import random
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from yoyo import get_backend

from dbkit import engine
from dbkit.config import DatabaseTarget, load_settings
from dbkit.ephemeral import Server
from dbkit.errors import DbkitError
from dbkit.project import Migration, load_project
from dbkit.statements import split
from helpers import REPO_ROOT, dbkit_process, run_dbkit, table_migrations, write_project


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public' order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def _records(url: str) -> list[tuple[str, int]]:
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('dbkit._yoyo_migration')").fetchone() == (None,):
            return []
        return conn.execute(
            "select migration_id, count(*)::int from dbkit._yoyo_migration group by 1 order by 1"
        ).fetchall()


def test_apply_status_rollback_all_and_apply_again_for_platform(empty_url: str, tmp_path: Path) -> None:
    applied = run_dbkit("apply", "--module", "platform", url=empty_url)
    assert applied.exit_code == 0, applied.output
    assert "applied 0001_platform_auth_shim" in applied.stdout

    status = run_dbkit("status", "--module", "platform", "--format", "json", url=empty_url)
    assert status.exit_code == 0
    assert '"state": "applied"' in status.stdout and '"pending": []' in status.stdout

    rolled = run_dbkit("rollback", "--module", "platform", "--all", url=empty_url)
    assert rolled.exit_code == 0, rolled.output
    with psycopg.connect(empty_url) as conn:
        left = conn.execute(
            "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "where n.nspname in ('public', 'auth')"
        ).fetchone()
        assert left == (0,)
        assert conn.execute("select to_regnamespace('auth')").fetchone() == (None,)

    again = run_dbkit("apply", "--module", "platform", url=empty_url)
    assert again.exit_code == 0 and "applied 0001_platform_auth_shim" in again.stdout


def test_yoyo_list_agrees_with_dbkit_status(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", "platform", url=empty_url).exit_code == 0
    backend = get_backend(DatabaseTarget.parse(empty_url).yoyo_uri())
    try:
        hashes = backend.get_applied_migration_hashes()
    finally:
        backend.connection.close()
    from yoyo.migrations import get_migration_hash

    from dbkit.project import load_project

    platform = load_project(load_settings(REPO_ROOT)).module("platform").migrations
    assert hashes == [get_migration_hash(m.id) for m in platform]
    assert hashes[0] == get_migration_hash("0001_platform_auth_shim")


_YOYO_TABLES = ("_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock")


def _table_layout(conn: psycopg.Connection[Any], schema: str) -> dict[str, object]:
    columns = conn.execute(
        "select table_name, ordinal_position, column_name, data_type, character_maximum_length, is_nullable, "
        "column_default from information_schema.columns where table_schema = %s and table_name = any(%s) "
        "order by 1, 2", (schema, list(_YOYO_TABLES))).fetchall()
    keys = conn.execute(
        "select c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid) from pg_constraint c "
        "where c.connamespace = to_regnamespace(%s) order by 1, 2, 3", (schema,)).fetchall()
    versions = conn.execute(f'select version from "{schema}"._yoyo_version order by 1').fetchall()
    return {"columns": columns, "keys": [(name.split(".")[-1], kind, text) for name, kind, text in keys],
            "versions": versions}


def test_yoyo_tables_dbkit_creates_are_the_ones_yoyo_creates(empty_url: str) -> None:
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("create schema yoyo_made")
    backend = get_backend(DatabaseTarget.parse(empty_url).yoyo_uri("yoyo_made"))
    try:
        backend.ensure_internal_schema_updated()
    finally:
        backend.connection.close()
    assert run_dbkit("apply", "--module", "platform", url=empty_url).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        made_by_yoyo = _table_layout(conn, "yoyo_made")
        made_by_dbkit = _table_layout(conn, "dbkit")
    assert made_by_yoyo["versions"] == [(2,)]
    assert {row[0] for row in made_by_yoyo["columns"]} == set(_YOYO_TABLES)  # type: ignore[attr-defined]
    assert made_by_dbkit["columns"] == made_by_yoyo["columns"]
    assert made_by_dbkit["versions"] == made_by_yoyo["versions"]
    dbkit_keys = [key for key in made_by_dbkit["keys"] if key[0] in _YOYO_TABLES]  # type: ignore[attr-defined]
    assert dbkit_keys == made_by_yoyo["keys"]


def test_failing_migration_leaves_nothing_and_names_file_and_line(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_broken.sql"] = (
        "-- Creates a table, then fails.\ncreate table public.half_done (id int);\n\nselect * from no_such_table;\n"
    )
    files["migrations/m/0002_broken.rollback.sql"] = "drop table public.half_done;\n"
    project = write_project(tmp_path, files)

    result = run_dbkit("apply", url=empty_url, cwd=project)

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "migrations/m/0002_broken.sql:4" in result.stderr
    assert 'relation "no_such_table" does not exist' in result.stderr
    assert "SQLSTATE 42P01" in result.stderr
    assert "half_done" not in _tables(empty_url)
    assert _records(empty_url) == [("0001_m_t1", 1)]


def test_migration_refused_at_commit_is_rolled_back_unrecorded_and_stops_the_apply(empty_url: str,
                                                                                  tmp_path: Path) -> None:
    # A deferred key fails at COMMIT, after the migration's statements and its record ran.
    files = {path: sql for path, sql in table_migrations("m", 3).items() if "/0002_" not in path}
    files["migrations/m/0002_deferred.sql"] = (
        "-- Breaks a deferred key, found only at commit.\n"
        "create table public.parent (id int primary key);\n"
        "create table public.child (parent_id int references public.parent deferrable initially deferred);\n"
        "insert into public.child values (7);\n"
    )
    files["migrations/m/0002_deferred.rollback.sql"] = "drop table public.child;\ndrop table public.parent;\n"
    project = write_project(tmp_path, files)

    result = run_dbkit("apply", url=empty_url, cwd=project)

    assert result.exit_code == 1
    assert "migrations/m/0002_deferred.sql" in result.stderr and "SQLSTATE 23503" in result.stderr
    assert _records(empty_url) == [("0001_m_t1", 1)]
    assert _tables(empty_url) == ["m_t1"]


def test_migrations_ending_without_semicolon_or_in_a_comment_apply_and_record(empty_url: str,
                                                                             tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/m/0001_no_semicolon.sql": "-- The last statement has no semicolon.\ncreate table public.a (id int)",
        "migrations/m/0001_no_semicolon.rollback.sql": "drop table public.a",
        "migrations/m/0002_trailing_comment.sql": "-- Ends in a comment.\ncreate table public.b (id int); -- done",
        "migrations/m/0002_trailing_comment.rollback.sql": "drop table public.b;\n",
    })
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.stderr
    assert _records(empty_url) == [("0001_no_semicolon", 1), ("0002_trailing_comment", 1)]
    assert _tables(empty_url) == ["a", "b"]


def test_error_inside_an_included_file_is_reported_at_that_file(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/m/0001_with_function.sql": "-- Pulls in a function.\n-- include: sql/functions/public.f.sql\n",
        "migrations/m/0001_with_function.rollback.sql": "drop function public.f();\n",
        "sql/functions/public.f.sql": "-- A broken function.\ncreate function public.f() returns int\n"
                                      "language sql as $$ select 1 $$;\nselect nonsense from nowhere;\n",
    })
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 1
    assert "sql/functions/public.f.sql:4" in result.stderr


def test_apply_refuses_edited_applied_migration_until_repair(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    edited = project / "migrations/m/0001_m_t1.sql"
    edited.write_text(edited.read_text() + "-- an afterthought\n")

    status = run_dbkit("status", url=empty_url, cwd=project)
    assert status.exit_code == 0
    assert "changed  0001_m_t1" in status.stdout

    refused = run_dbkit("apply", url=empty_url, cwd=project)
    assert refused.exit_code == 2
    assert "migrations/m/0001_m_t1.sql" in refused.stderr and "dbkit repair" in refused.stderr

    repaired = run_dbkit("repair", url=empty_url, cwd=project)
    assert repaired.exit_code == 0 and "re-recorded 0001_m_t1" in repaired.stdout
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0


def test_changed_function_file_is_reapplied_by_checksum(empty_url: str, tmp_path: Path) -> None:
    fn = "sql/functions/public.answer.sql"
    project = write_project(tmp_path, {
        "migrations/m/0001_answer.sql": f"-- The answer.\n-- include: {fn}\n",
        "migrations/m/0001_answer.rollback.sql": "drop function public.answer();\n",
        fn: "create or replace function public.answer() returns int language sql as $$ select 41 $$;\n",
    })
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    (project / fn).write_text("create or replace function public.answer() returns int language sql as $$ select 42 $$;\n")

    status = run_dbkit("status", url=empty_url, cwd=project)
    assert f"file changed {fn}" in status.stdout
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0 and f"applied {fn}" in result.stdout
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select public.answer()").fetchone() == (42,)
    assert "nothing to apply" in run_dbkit("apply", url=empty_url, cwd=project).stdout


def test_dry_run_prints_plan_and_sql_and_changes_nothing(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    result = run_dbkit("apply", "--dry-run", url=empty_url, cwd=project)
    assert result.exit_code == 0
    assert "would apply 0001_m_t1" in result.stdout and "create table public.m_t2" in result.stdout
    assert _tables(empty_url) == []
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select to_regnamespace('dbkit')").fetchone() == (None,)


def test_rollback_of_table_with_rows_needs_force(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        conn.execute("insert into public.m_t1 select generate_series(1, 3)")

    refused = run_dbkit("rollback", "--all", url=empty_url, cwd=project)
    assert refused.exit_code == 2
    assert "public.m_t1 (3 rows)" in refused.stderr and "--force" in refused.stderr
    assert "m_t1" in _tables(empty_url)

    forced = run_dbkit("rollback", "--all", "--force", url=empty_url, cwd=project)
    assert forced.exit_code == 0
    assert _tables(empty_url) == []


def test_rollback_steps_and_to(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 4))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    assert run_dbkit("rollback", "--steps", "1", url=empty_url, cwd=project).exit_code == 0
    assert _tables(empty_url) == ["m_t1", "m_t2", "m_t3"]
    assert run_dbkit("rollback", "--to", "0001_m_t1", url=empty_url, cwd=project).exit_code == 0
    assert _tables(empty_url) == ["m_t1"]


def test_apply_to_applies_dependencies_across_modules(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("a", 2)
    files.update(table_migrations("b", 1))
    files["migrations/b/0001_b_t1.sql"] = "-- depends: 0002_a_t2\ncreate table public.b_t1 (id int);\n"
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", "--module", "b", url=empty_url, cwd=project)
    assert result.exit_code == 0
    assert _tables(empty_url) == ["a_t1", "a_t2", "b_t1"]
    blocked = run_dbkit("rollback", "--module", "a", "--all", url=empty_url, cwd=project)
    assert blocked.exit_code == 2 and "0001_b_t1" in blocked.stderr


def test_baseline_marks_without_running(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("create table public.m_t1 (id int primary key)")  # the application's own table
    result = run_dbkit("baseline", "--module", "m", "--through", "0001_m_t1", url=empty_url, cwd=project)
    assert result.exit_code == 0 and "baselined 0001_m_t1" in result.stdout
    assert _tables(empty_url) == ["m_t1"]
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    assert _tables(empty_url) == ["m_t1", "m_t2"]
    assert _records(empty_url) == [("0001_m_t1", 1), ("0002_m_t2", 1)]


def test_non_transactional_migration_runs_create_index_concurrently(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_index.sql"] = (
        "-- transactional: false\ncreate index concurrently m_t1_id_idx on public.m_t1 (id);\n"
    )
    files["migrations/m/0002_index.rollback.sql"] = "-- transactional: false\ndrop index concurrently public.m_t1_id_idx;\n"
    project = write_project(tmp_path, files)
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select to_regclass('public.m_t1_id_idx')").fetchone() == ("m_t1_id_idx",)
    assert run_dbkit("rollback", "--steps", "1", url=empty_url, cwd=project).exit_code == 0


def test_second_apply_waits_for_the_lock_then_times_out_cleanly(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    with psycopg.connect(empty_url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (engine.ADVISORY_LOCK_KEY,))
        result = run_dbkit("apply", "--migration-lock-wait", "0.5", url=empty_url, cwd=project)
    assert result.exit_code == 2
    assert "holds the migration lock" in result.stderr
    assert _tables(empty_url) == []


def test_four_concurrent_applies_apply_every_migration_once(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 6, sleep=0.05))
    procs = [dbkit_process("apply", url=empty_url, cwd=project) for _ in range(4)]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for proc in procs:
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
    assert _records(empty_url) == [(f"{n:04d}_m_t{n}", 1) for n in range(1, 7)]
    assert len(_tables(empty_url)) == 6


@pytest.mark.parametrize("kill_after", [0.3, 0.9, 1.6])
def test_apply_killed_mid_way_leaves_no_stale_lock_and_nothing_half_done(
    empty_url: str, tmp_path: Path, kill_after: float
) -> None:
    project = write_project(tmp_path, table_migrations("m", 5, sleep=0.4))
    proc = dbkit_process("apply", url=empty_url, cwd=project)
    time.sleep(kill_after + random.uniform(0, 0.1))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    recorded = {mid for mid, _ in _records(empty_url)}
    assert set(t.replace("m_t", "") for t in _tables(empty_url)) == {m.split("_t")[1] for m in recorded}

    started = time.monotonic()
    result = run_dbkit("apply", "--migration-lock-wait", "10", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 9  # it never sat out the lock timeout
    assert _records(empty_url) == [(f"{n:04d}_m_t{n}", 1) for n in range(1, 6)]
    assert len(_tables(empty_url)) == 5


def test_role_without_create_privilege_gets_a_clear_message(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("drop role if exists dbkit_weak")
        conn.execute("create role dbkit_weak login")
        conn.execute("revoke create on database " + empty_url.rsplit("/", 1)[1] + " from public")
    weak_url = empty_url.replace("postgres@", "dbkit_weak@")
    result = run_dbkit("apply", url=weak_url, cwd=project)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("drop role dbkit_weak")
    assert result.exit_code == 2
    assert "may not create schema dbkit" in result.stderr and "GRANT CREATE ON DATABASE" in result.stderr


def test_settings_url_parsing_keeps_password_out_of_repr() -> None:
    target = DatabaseTarget.parse("postgresql://app:sup3r@db.example:6432/prod?sslmode=require")
    assert "sup3r" not in repr(target) and "sup3r" not in target.describe()
    assert target.describe() == "app@db.example:6432/prod"
    assert "sslmode=require" in target.conninfo()
    settings = load_settings(Path("/"), database_url="postgresql://app:sup3r@db.example/prod")
    assert "sup3r" not in repr(settings)


def test_rolling_back_a_baselined_migration_forgets_it_and_drops_nothing(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("create table public.m_t1 (id int primary key)")  # the application's own table
    assert run_dbkit("baseline", "--module", "m", "--through", "0001_m_t1", url=empty_url, cwd=project).exit_code == 0
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0

    result = run_dbkit("rollback", "--all", url=empty_url, cwd=project)

    assert result.exit_code == 0, result.output
    assert "forgot the baseline of 0001_m_t1" in result.stdout
    assert _tables(empty_url) == ["m_t1"]
    assert _records(empty_url) == []


def test_refused_rollback_changes_nothing_even_when_newer_steps_were_fine(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 3))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        conn.execute("insert into public.m_t1 values (1)")  # the oldest table holds a row

    refused = run_dbkit("rollback", "--all", url=empty_url, cwd=project)

    assert refused.exit_code == 2 and "public.m_t1 (1 row)" in refused.stderr
    assert _tables(empty_url) == ["m_t1", "m_t2", "m_t3"]
    assert len(_records(empty_url)) == 3


def test_server_hint_is_part_of_the_failure_message(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/m/0001_hinted.sql": "do $$ begin raise exception 'stop' using hint = 'fix the data first'; end $$;\n",
        "migrations/m/0001_hinted.rollback.sql": "select 1;\n",
    })
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 1 and "Hint: fix the data first" in result.stderr


def test_statement_timeout_option_stops_a_runaway_migration(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1, sleep=3))
    result = run_dbkit("apply", "--statement-timeout", "200ms", url=empty_url, cwd=project)
    assert result.exit_code == 1
    assert "canceling statement due to statement timeout" in result.stderr and "57014" in result.stderr
    assert _tables(empty_url) == []


def test_status_says_when_pg_cron_is_missing_so_nothing_is_scheduled(migrated_url: str) -> None:
    result = run_dbkit("status", url=migrated_url)
    assert result.exit_code == 0
    assert "pg_cron: not installed in this database — no job is scheduled" in result.stdout
    as_json = run_dbkit("status", "--format", "json", url=migrated_url)
    assert '"cron_jobs": null' in as_json.stdout


def test_readme_and_python_files_in_a_module_folder_are_not_migrations(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/README.md"] = "# notes\n"
    files["migrations/m/__init__.py"] = "raise SystemExit('yoyo would run this as a migration')\n"
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert _records(empty_url) == [("0001_m_t1", 1)]


# ---------------------------------------------------------------- statements dbkit refuses before running


def _snapshot_tables_and_records(url: str) -> tuple[list[str], list[tuple[str, int]]]:
    return _tables(url), _records(url)


@pytest.mark.parametrize("control", ["commit", "rollback", "begin", "end", "start transaction", "abort",
                                     "prepare transaction 'x'"])
def test_transaction_control_in_a_transactional_migration_is_refused_before_anything_runs(
        control: str, empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_sneaky.sql"] = (
        f"-- Ends the transaction half way.\ncreate table public.a (id int);\n{control};\n"
        "create table public.b (id int);\nselect 1/0;\n")
    files["migrations/m/0002_sneaky.rollback.sql"] = "drop table public.b;\ndrop table public.a;\n"
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "migrations/m/0002_sneaky.sql:3" in result.stderr
    assert "ends or opens a transaction" in result.stderr
    assert _snapshot_tables_and_records(empty_url) == ([], [])


def test_savepoints_inside_a_migration_are_allowed(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/m/0001_sp.sql": "savepoint s;\ncreate table public.a (id int);\nrollback to savepoint s;\n"
                                    "create table public.b (id int);\nrelease savepoint s;\n",
        "migrations/m/0001_sp.rollback.sql": "drop table public.b;\n",
    })
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert _tables(empty_url) == ["b"]


def test_create_index_concurrently_in_a_transactional_migration_is_refused_with_its_line(
        empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_idx.sql"] = "-- An index.\n\ncreate index concurrently m_t1_idx on public.m_t1 (id);\n"
    files["migrations/m/0002_idx.rollback.sql"] = "drop index public.m_t1_idx;\n"
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 2, result.output
    assert "migrations/m/0002_idx.sql:3" in result.stderr and "-- transactional: false" in result.stderr
    assert _tables(empty_url) == []


@pytest.mark.parametrize("which", ["forward", "rollback"])
@pytest.mark.parametrize("content", ["", "\n\n", "-- only a comment\n", "/* block */\n-- and line\n"])
def test_empty_or_comment_only_migration_files_are_refused(which: str, content: str, empty_url: str,
                                                            tmp_path: Path) -> None:
    files = table_migrations("m", 2)
    name = "migrations/m/0002_m_t2.sql" if which == "forward" else "migrations/m/0002_m_t2.rollback.sql"
    files[name] = content
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 2, result.output
    assert name in result.stderr and "has no SQL statement" in result.stderr
    assert _snapshot_tables_and_records(empty_url) == ([], [])


def test_comment_only_rollback_of_an_applied_migration_is_refused_not_reported_as_rolled_back(
        empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    (project / "migrations/m/0001_m_t1.rollback.sql").write_text("-- TODO: undo\n")
    result = run_dbkit("rollback", "--all", url=empty_url, cwd=project)
    assert result.exit_code == 2 and "has no SQL statement" in result.stderr
    assert "rolled back" not in result.stdout
    assert _snapshot_tables_and_records(empty_url) == (["m_t1"], [("0001_m_t1", 1)])


def test_untouched_new_template_is_refused_by_apply(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    assert run_dbkit("new", "m", "next_change", cwd=project).exit_code == 0
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 2
    assert "migrations/m/0002_next_change.sql" in result.stderr and "has no SQL statement" in result.stderr
    assert _snapshot_tables_and_records(empty_url) == ([], [])


def test_dry_run_fails_on_a_file_that_does_not_parse(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_typo.sql"] = "-- A typo.\ncreate table public.t (id int);\ncreat table public.u (id int);\n"
    files["migrations/m/0002_typo.rollback.sql"] = "drop table public.t;\n"
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", "--dry-run", url=empty_url, cwd=project)
    assert result.exit_code == 1, result.output
    assert "migrations/m/0002_typo.sql:3" in result.stderr and 'syntax error at or near "creat"' in result.stderr


def test_utf8_byte_order_mark_is_not_a_syntax_error(empty_url: str, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = dict(table_migrations("m", 1))
    files["migrations/m/0001_m_t1.sql"] = "\ufeff-- With a BOM.\ncreate table public.m_t1 (id int);\n".encode("utf-8")
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert _tables(empty_url) == ["m_t1"]


# ---------------------------------------------------------------- runtime errors carry file and line


def _failing(tmp_path: Path, body: str) -> Path:
    files = table_migrations("m", 1)
    files["migrations/m/0002_fails.sql"] = body
    files["migrations/m/0002_fails.rollback.sql"] = "select 1;\n"
    return write_project(tmp_path, files)


@pytest.mark.parametrize(("body", "line", "fragment"), [
    ("-- Three statements.\ncreate table public.x (id int primary key);\ninsert into public.x values (1);\n"
     "insert into public.x\n  values (1);\n", 4, "duplicate key value violates unique constraint"),
    ("-- Division.\nselect 1;\nselect 2;\n\nselect 1 / 0;\n", 5, "division by zero"),
    ("-- A DO block.\ndo $$\ndeclare n int;\nbegin\n  n := 1;\n  raise exception 'stop at %', n;\nend\n$$;\n",
     6, "stop at 1"),
])
def test_runtime_error_names_the_file_and_line_of_the_failing_statement(
        body: str, line: int, fragment: str, empty_url: str, tmp_path: Path) -> None:
    project = _failing(tmp_path, body)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert f"migrations/m/0002_fails.sql:{line}:" in result.stderr, result.stderr
    assert fragment in result.stderr
    assert _records(empty_url) == [("0001_m_t1", 1)]


def test_error_inside_a_function_called_by_a_migration_carries_the_plpgsql_context(
        empty_url: str, tmp_path: Path) -> None:
    project = _failing(tmp_path, (
        "-- Calls a function that fails.\n"
        "create function public.boom() returns void language plpgsql as $$\nbegin\n"
        "  perform 1 / 0;\nend $$;\n"
        "select public.boom();\n"))
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 1
    assert "migrations/m/0002_fails.sql:6:" in result.stderr
    assert "PL/pgSQL function boom() line 3 at PERFORM" in result.stderr


def test_notices_are_printed_only_for_work_that_was_committed(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/m/0001_loud.sql": "create table public.loud (id int);\n",
        "migrations/m/0001_loud.rollback.sql": "do $$ begin raise notice 'dropping loud'; end $$;\n"
                                               "drop table public.loud;\n",
    })
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    result = run_dbkit("rollback", "--all", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("notice: dropping loud") == 1, result.stderr


# ---------------------------------------------------------------- rollback follows what was applied


def _two_modules(tmp_path: Path) -> Path:
    files = table_migrations("a", 3)
    files.update(table_migrations("b", 2))
    return write_project(tmp_path, files)


def test_rollback_steps_without_module_undoes_what_was_applied_last(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("a", 1)
    files.update(table_migrations("b", 1))
    project = write_project(tmp_path, files)
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    assert run_dbkit("new", "a", "later", cwd=project).exit_code == 0
    (project / "migrations/a/0002_later.sql").write_text("create table public.later (id int);\n")
    (project / "migrations/a/0002_later.rollback.sql").write_text("drop table public.later;\n")
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0

    result = run_dbkit("rollback", "--steps", "1", url=empty_url, cwd=project)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "rolled back 0002_later (a)"
    assert not [line for line in result.stdout.splitlines()[1:] if line.startswith("rolled back")]
    assert _tables(empty_url) == ["a_t1", "b_t1"]


def test_rollback_to_undoes_only_what_follows_the_target_and_depends_on_it(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("a", 3)
    files.update(table_migrations("b", 2))
    files.update(table_migrations("c", 1))
    files["migrations/c/0001_c_t1.sql"] = "-- depends: 0002_a_t2\ncreate table public.c_t1 (id int);\n"
    project = write_project(tmp_path, files)
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0

    plan = run_dbkit("rollback", "--to", "0001_a_t1", "--dry-run", url=empty_url, cwd=project)
    assert plan.exit_code == 0, plan.output
    planned = [line.split()[3] for line in plan.stdout.splitlines() if line.startswith("would roll back")]
    assert planned == ["0001_c_t1", "0003_a_t3", "0002_a_t2"] or planned == ["0003_a_t3", "0001_c_t1", "0002_a_t2"]

    assert run_dbkit("rollback", "--to", "0001_a_t1", url=empty_url, cwd=project).exit_code == 0
    assert _tables(empty_url) == ["a_t1", "b_t1", "b_t2"]


def test_rollback_steps_beyond_what_is_applied_is_an_error_not_all(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    for steps in ("3", str(10 ** 23)):
        result = run_dbkit("rollback", "--steps", steps, url=empty_url, cwd=project)
        assert result.exit_code == 2, result.output
        assert "more than the 2 applied" in result.stderr and "--all" in result.stderr
    assert _tables(empty_url) == ["m_t1", "m_t2"]


def test_data_loss_refusal_also_names_functions_policies_and_triggers_dropped_on_the_way(
        empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/m/0001_owned.sql": (
            "create table public.owned (id int, owner text);\n"
            "alter table public.owned enable row level security;\n"
            "create policy owned_read on public.owned for select using (owner = current_user);\n"
            "create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;\n"
            "create trigger owned_touch before insert on public.owned for each row execute function public.touch();\n"),
        "migrations/m/0001_owned.rollback.sql": (
            "drop trigger owned_touch on public.owned;\ndrop function public.touch();\n"
            "drop policy owned_read on public.owned;\ndrop table public.owned;\n"),
    })
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        conn.execute("insert into public.owned values (1, 'x')")
    refused = run_dbkit("rollback", "--all", url=empty_url, cwd=project)
    assert refused.exit_code == 2
    line = refused.stderr.strip()
    assert "public.owned (1 row)" in line
    assert "function public.touch()" in line and "policy owned_read on public.owned" in line
    assert "trigger owned_touch on public.owned" in line
    forced = run_dbkit("rollback", "--all", "--force", url=empty_url, cwd=project)
    assert forced.exit_code == 0, forced.output
    assert "function public.touch()" in forced.stdout


def test_rollback_that_drops_a_column_holding_values_says_how_many_went(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_note.sql"] = "alter table public.m_t1 add column note text;\n"
    files["migrations/m/0002_note.rollback.sql"] = "alter table public.m_t1 drop column note;\n"
    project = write_project(tmp_path, files)
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        conn.execute("insert into public.m_t1 values (1, 'kept'), (2, null)")
    result = run_dbkit("rollback", "--steps", "1", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["rolled back 0002_note (m)", "  dropped column public.m_t1.note (1 value)"]
    assert lines[-1].endswith("m: rolled back 1 migration.")


# ---------------------------------------------------------------- targets dbkit must not write to


def test_apply_to_a_read_only_database_is_refused_as_read_only(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    dbname = empty_url.rsplit("/", 1)[1]
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(f'alter database "{dbname}" set default_transaction_read_only = on')
    try:
        for args in (("apply",), ("rollback", "--all"), ("baseline", "--module", "m", "--through", "0001_m_t1")):
            result = run_dbkit(*args, url=empty_url, cwd=project)
            assert result.exit_code == 2, (args, result.output)
            assert "target is read-only" in result.stderr and result.stderr.count("\n") == 1
        assert run_dbkit("status", url=empty_url, cwd=project).exit_code == 0
    finally:
        with psycopg.connect(empty_url, autocommit=True) as conn:
            conn.execute("set default_transaction_read_only = off")
            conn.execute(f'alter database "{dbname}" reset default_transaction_read_only')
    assert _snapshot_tables_and_records(empty_url) == ([], [])


# ---------------------------------------------------------------- baseline, orphans, symlinks


def test_baseline_of_a_migration_whose_objects_do_not_exist_says_so_and_changes_nothing(
        empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    result = run_dbkit("baseline", "--module", "m", "--through", "0002_m_t2", url=empty_url, cwd=project)
    assert result.exit_code == 2, result.output
    assert "0001_m_t1" in result.stderr and "table public.m_t1" in result.stderr and "do not exist" in result.stderr
    assert _records(empty_url) == []


def test_orphan_record_of_a_deleted_file_can_be_forgotten(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    (project / "migrations/m/0002_m_t2.sql").unlink()
    (project / "migrations/m/0002_m_t2.rollback.sql").unlink()
    status = run_dbkit("status", url=empty_url, cwd=project)
    assert "dbkit repair --forget 0002_m_t2" in status.stdout

    refused = run_dbkit("repair", "--forget", "0001_m_t1", url=empty_url, cwd=project)
    assert refused.exit_code == 2 and "has a file" in refused.stderr
    forgot = run_dbkit("repair", "--forget", "0002_m_t2", url=empty_url, cwd=project)
    assert forgot.exit_code == 0, forgot.output
    assert "forgot 0002_m_t2" in forgot.stdout
    assert _records(empty_url) == [("0001_m_t1", 1)]
    assert "recorded as applied but has no file" not in run_dbkit("status", url=empty_url, cwd=project).stdout


def test_symlinked_migrations_and_sql_do_not_reapply_files_or_duplicate_records(
        empty_url: str, tmp_path: Path) -> None:
    real = write_project(tmp_path / "real", {
        "migrations/m/0001_answer.sql": "-- The answer.\n-- include: sql/functions/public.answer.sql\n",
        "migrations/m/0001_answer.rollback.sql": "drop function public.answer();\n",
        "sql/functions/public.answer.sql": "create or replace function public.answer() returns int "
                                           "language sql as $$ select 42 $$;\n",
    })
    assert run_dbkit("apply", url=empty_url, cwd=real).exit_code == 0
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "dbkit.toml").write_text("")
    (linked / "migrations").symlink_to(real / "migrations")
    (linked / "sql").symlink_to(real / "sql")

    again = run_dbkit("apply", url=empty_url, cwd=linked)

    assert again.exit_code == 0, again.output
    assert "nothing to apply" in again.stdout
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select path from dbkit.file_checksum").fetchall() == [("sql/functions/public.answer.sql",)]


def test_backend_terminated_mid_migration_says_what_was_committed_and_leaves_nothing_half_done(
        empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 3, sleep=1.0))
    proc = dbkit_process("apply", url=empty_url, cwd=project)
    deadline = time.monotonic() + 60
    while len(_records(empty_url)) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    with psycopg.connect(empty_url, autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'dbkit'")
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "lost the connection during apply (terminating connection due to administrator command)" in stderr
    recorded = [mid for mid, _ in _records(empty_url)]
    assert f"committed before the connection went: applied {', '.join(recorded)}" in stderr
    assert _tables(empty_url) == [f"m_t{n}" for n in range(1, len(recorded) + 1)]
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0


# ---------------------------------------------------------------- non-transactional migrations re-run to completion


def _plan() -> tuple[Migration, ...]:
    return load_project(load_settings(REPO_ROOT, environ={})).plan


def _non_transactional() -> list[str]:
    return [m.id for m in _plan() if not m.transactional]


def _create_database(server: Server, name: str, template: str | None = None) -> str:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))
    return server.url(name)


def _drop_databases(server: Server, names: list[str]) -> None:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        for name in names:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def stages(server: Server) -> Iterator[dict[str, str]]:
    """For each non-transactional migration, template databases with the plan applied up to
    just before it (``forward``) and up to and including it (``rollback``): one pass."""
    settings = load_settings(REPO_ROOT, environ={})
    work = f"nt_work_{uuid.uuid4().hex[:8]}"
    target = replace(settings, database=DatabaseTarget.parse(_create_database(server, work)))
    made: dict[str, str] = {}
    try:
        for migration in _plan():
            if not migration.transactional:
                made[f"{migration.id} forward"] = f"nt_{uuid.uuid4().hex[:10]}"
                _create_database(server, made[f"{migration.id} forward"], template=work)
            engine.apply(target, to=migration.id)
            if not migration.transactional:
                made[f"{migration.id} rollback"] = f"nt_{uuid.uuid4().hex[:10]}"
                _create_database(server, made[f"{migration.id} rollback"], template=work)
        yield made
    finally:
        _drop_databases(server, [work, *made.values()])


@pytest.mark.parametrize("direction", ["forward", "rollback"])
@pytest.mark.parametrize("migration_id", _non_transactional())
def test_every_non_transactional_migration_completes_after_a_run_that_stopped_half_way(
        migration_id: str, direction: str, server: Server, stages: dict[str, str]) -> None:
    """A killed `-- transactional: false` run leaves its first statements applied and no
    record; the next apply (or rollback) must complete it, whatever statement it stopped at
    (also after the last one, before the record)."""
    settings = load_settings(REPO_ROOT, environ={})
    migration = load_project(settings).migration(migration_id)
    text = migration.expanded() if direction == "forward" else migration.expanded_rollback()
    statements = split(text).items
    for stopped_after in range(1, len(statements) + 1):
        name = f"nt_{uuid.uuid4().hex[:10]}"
        url = _create_database(server, name, template=stages[f"{migration_id} {direction}"])
        try:
            target = replace(settings, database=DatabaseTarget.parse(url))
            with psycopg.connect(url, autocommit=True) as conn:
                for statement in statements[:stopped_after]:
                    conn.execute(statement.text.encode(), prepare=False)
            if direction == "forward":
                engine.apply(target, to=migration_id)
            else:
                engine.rollback(target, module=migration.module, steps=1)
        except DbkitError as exc:
            pytest.fail(f"{migration_id} {direction}, stopped after statement {stopped_after}: the next run failed: "
                        f"{exc}")
        finally:
            _drop_databases(server, [name])


def test_a_rollback_killed_inside_a_non_transactional_step_completes_with_the_steps_before_it(
        empty_url: str, tmp_path: Path) -> None:
    # The data-loss probe runs the whole rollback plan in one undone transaction. A
    # non-transactional step a killed run left half done (its constraint dropped, its record
    # kept) must be probed too, in its transaction form, or the step before it would be probed
    # against a constraint that is gone and the next rollback could never run.
    files = table_migrations("m", 1)
    files["migrations/m/0002_m_check.sql"] = (
        "-- Test migration 2.\nalter table public.m_t1 add constraint m_t1_id_check check (id > 0);\n")
    files["migrations/m/0002_m_check.rollback.sql"] = "alter table public.m_t1 drop constraint m_t1_id_check;\n"
    files["migrations/m/0003_m_valid.sql"] = (
        "-- Test migration 3.\n-- transactional: false\ncreate index concurrently m_t1_id_idx on public.m_t1 (id);\n"
        "alter table public.m_t1 drop constraint m_t1_id_check;\n"
        "alter table public.m_t1 add constraint m_t1_id_check check (id > 0) not valid;\n")
    files["migrations/m/0003_m_valid.rollback.sql"] = (
        "-- transactional: false\nalter table public.m_t1 drop constraint if exists m_t1_id_check;\n"
        "alter table public.m_t1 add constraint m_t1_id_check check (id > 0);\n"
        "drop index concurrently if exists public.m_t1_id_idx;\n")
    project = write_project(tmp_path, files, config='modules = ["m"]\n')
    assert run_dbkit("apply", "--database-url", empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url, autocommit=True) as conn:  # killed after its first statement
        conn.execute("alter table public.m_t1 drop constraint if exists m_t1_id_check")
    result = run_dbkit("rollback", "--all", "--database-url", empty_url, cwd=project)
    assert result.exit_code == 0, result.stderr
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select to_regclass('public.m_t1')").fetchone() == (None,)


def test_a_non_transactional_migration_runs_each_included_file_as_one_unit(empty_url: str, tmp_path: Path) -> None:
    # Between an included function's CREATE and its REVOKE no other session may call it through
    # PUBLIC, and between a REVOKE and the GRANT after it the API role must not lose EXECUTE (the
    # fault soak caught that window in a safer form run in its own place). A file that fails
    # half-way therefore leaves nothing of itself behind, while the statements before it stay.
    files = table_migrations("m", 1)
    files["sql/functions/public.m_f.sql"] = (
        "create or replace function public.m_f() returns int language sql as $$ select 1 $$;\n"
        "revoke all on function public.m_f() from public;\n"
        "grant execute on function public.m_f() to no_such_role_here;\n")
    files["migrations/m/0002_m_online.sql"] = (
        "-- Test migration 2.\n-- transactional: false\n"
        "create index concurrently m_t1_id_idx on public.m_t1 (id);\n"
        "-- include: sql/functions/public.m_f.sql\n")
    files["migrations/m/0002_m_online.rollback.sql"] = (
        "-- transactional: false\ndrop function if exists public.m_f();\n"
        "drop index concurrently if exists public.m_t1_id_idx;\n")
    project = write_project(tmp_path, files, config='modules = ["m"]\n')
    result = run_dbkit("apply", "--database-url", empty_url, cwd=project)
    assert result.exit_code == 1 and "sql/functions/public.m_f.sql:3" in result.stderr, result.stderr
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select to_regclass('public.m_t1_id_idx') is not null, "
                            "to_regprocedure('public.m_f()') is null").fetchone() == (True, True)
