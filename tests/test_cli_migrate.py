"""apply / rollback / status / repair on the command line: JSON errors, Ctrl-C, exit codes."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import psycopg

from helpers import dbkit_running, run_dbkit, table_migrations, write_project


def _records(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('dbkit._yoyo_migration')").fetchone() == (None,):
            return []
        return [r[0] for r in conn.execute("select migration_id from dbkit._yoyo_migration order by 1").fetchall()]


def test_apply_format_json_prints_a_json_error_object_on_failure(empty_url: str, tmp_path: Path) -> None:
    files = table_migrations("m", 1)
    files["migrations/m/0002_fails.sql"] = "-- Fails.\nselect 1 / 0;\n"
    files["migrations/m/0002_fails.rollback.sql"] = "select 1;\n"
    project = write_project(tmp_path, files)
    result = run_dbkit("apply", "--format", "json", url=empty_url, cwd=project)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["command"] == "apply"
    error = payload["error"]
    assert error["type"] == "MigrationFailed" and error["exit_code"] == 1
    assert error["path"] == "migrations/m/0002_fails.sql" and error["line"] == 2 and error["sqlstate"] == "22012"
    assert result.stderr.count("\n") == 1 and "division by zero" in result.stderr


def test_apply_format_json_error_object_for_bad_input_too(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("apply", "--format", "json", cwd=project)
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["error"]["type"] == "ConfigError" and "DATABASE_URL" in payload["error"]["message"]


def test_apply_format_json_success_says_ok(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("apply", "--format", "json", url=empty_url, cwd=project)
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True


def _wait_for_records(url: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(_records(url)) >= count:
                return
        except psycopg.Error:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{count} migration(s) never got recorded")


def test_ctrl_c_during_apply_exits_130_and_says_what_was_committed(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 4, sleep=1.0))
    with dbkit_running("apply", url=empty_url, cwd=project) as proc:
        _wait_for_records(empty_url, 1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    recorded = _records(empty_url)
    assert recorded and lines[0].startswith("error: interrupted during apply: committed before the interrupt: "
                                            f"applied {', '.join(recorded)}; nothing else was changed"), lines[0]


def test_ctrl_c_before_anything_committed_says_nothing_changed(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2, sleep=30))
    with dbkit_running("apply", url=empty_url, cwd=project) as proc:
        deadline = time.monotonic() + 60
        with psycopg.connect(empty_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("select count(*) from pg_stat_activity where query like '%pg_sleep(30%' "
                                   "and pid <> pg_backend_pid()").fetchone()
                if row and row[0]:
                    break
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip() == "error: interrupted during apply: nothing was changed"
    assert _records(empty_url) == []


def test_rollback_format_json_error_names_the_refusal(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        conn.execute("insert into public.m_t1 values (1)")
    result = run_dbkit("rollback", "--all", "--format", "json", url=empty_url, cwd=project)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["type"] == "DataLossRefused"
