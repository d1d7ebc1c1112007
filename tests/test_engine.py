"""The engine's guarantees beyond yoyo: atomic records, checksums, locks, data-loss guard."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import psycopg
import pytest
from yoyo import get_backend

from dbkit import engine
from dbkit.config import DatabaseTarget, load_settings
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
    result = run_dbkit("baseline", "--module", "m", "--through", "0001_m_t1", url=empty_url, cwd=project)
    assert result.exit_code == 0 and "baselined 0001_m_t1" in result.stdout
    assert _tables(empty_url) == []
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    assert _tables(empty_url) == ["m_t2"]


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
        result = run_dbkit("apply", "--lock-timeout", "0.5", url=empty_url, cwd=project)
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
    result = run_dbkit("apply", "--lock-timeout", "10", url=empty_url, cwd=project)
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

    assert refused.exit_code == 2 and "public.m_t1 (1 rows)" in refused.stderr
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
