"""`dbkit lint --database URL`: lock-taking findings graded by the target's real table sizes.

The target is a real database of the session's throwaway server with 1,000,000 rows in
``app.accounts`` (generate_series). Lint only reads it: the tests check that nothing
changed, that no ANALYZE ran, and that a lock other sessions hold never blocks it beyond
``lock_timeout``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbkit import dblint, lint
from dbkit.config import load_settings
from dbkit.ephemeral import Server
from helpers import row_counts_and_sequences, run_dbkit, write_project

MILLION = 1_000_000
TABLES = """-- Test migration: the tables the later migrations alter.
create schema app;
create table app.accounts (id bigint primary key, user_id bigint, note text);
create table app.empty_log (id bigint primary key, note text);
create table app.settings (id bigint primary key, note text);
create table app.events (id bigint primary key, note text);
create table app.parted (id bigint not null, note text) partition by range (id);
create table app.parted_low partition of app.parted
for values from (0) to (60001);
create table app.parted_high partition of app.parted
for values from (60001) to (maxvalue);
"""
UNDO = "-- Undo.\ndrop table app.parted;\ndrop table app.events;\ndrop table app.settings;\ndrop table app.empty_log;\n" \
       "drop table app.accounts;\ndrop schema app;\n"


@pytest.fixture(scope="module")
def target(server: Server) -> Iterator[str]:
    """accounts: 1,000,000 rows (vacuumed); settings: 50,000; empty_log: none; events: 1,000 never analyzed;
    parted: two partitions of 60,000 rows."""
    with server.database(prefix="grading_") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(TABLES.split("\n", 1)[1])
            conn.execute("alter table app.events set (autovacuum_enabled = false)")
            conn.execute("insert into app.accounts select g, g % 1000, 'row ' || g "
                         f"from generate_series(1, {MILLION}) g")
            conn.execute("insert into app.settings select g, 'row ' || g from generate_series(1, 50000) g")
            conn.execute("insert into app.events select g, 'row ' || g from generate_series(1, 1000) g")
            conn.execute("insert into app.parted select g, 'row ' || g from generate_series(1, 120000) g")
            conn.execute("vacuum analyze app.accounts, app.settings, app.empty_log, app.parted_low, app.parted_high")
        yield url


def project(tmp_path: Path, *changes: str) -> Path:
    files = {"migrations/app/0001_app_tables.sql": TABLES, "migrations/app/0001_app_tables.rollback.sql": UNDO}
    for number, body in enumerate(changes, start=2):
        stem = f"migrations/app/{number:04d}_app_change_{number}"
        files[f"{stem}.sql"] = f"-- Test migration {number}.\n{body}"
        files[f"{stem}.rollback.sql"] = "-- Undo.\nselect 1;\n"
    return write_project(tmp_path, files)


def graded(root: Path, url: str, **thresholds: int) -> lint.LintReport:
    settings = load_settings(root)
    on_target = settings.with_database(url)
    return lint.lint(settings, sqlfluff=False, thresholds=lint.Thresholds(**thresholds),
                     target=lambda tables: dblint.read_target(on_target, tables))


def check_on(table: str) -> str:
    return f"alter table app.{table} add constraint {table}_id_check check (id > 0);\n"


def test_validating_a_check_on_a_million_rows_is_an_error(tmp_path: Path, target: str) -> None:
    report = graded(project(tmp_path, check_on("accounts")), target)
    [finding] = report.findings
    assert (finding.rule, finding.severity) == ("DBK014", "error")
    assert "app.accounts on" in finding.message and "~1,000,000 rows" in finding.message
    assert report.target is not None and report.target.endswith("/" + target.rsplit("/", 1)[1])


def test_validating_a_foreign_key_on_a_million_rows_is_an_error(tmp_path: Path, target: str) -> None:
    body = "alter table app.accounts add constraint accounts_user_fk foreign key (user_id) references app.settings (id);\n"
    report = graded(project(tmp_path, body), target)
    assert [(f.rule, f.severity) for f in report.findings if f.rule != "DBK006"] == [("DBK015", "error")]


def test_validating_a_check_on_an_empty_table_is_fine(tmp_path: Path, target: str) -> None:
    report = graded(project(tmp_path, check_on("empty_log")), target)
    assert report.findings == () and report.ok
    [allowed] = report.allowed
    assert (allowed.finding.rule, allowed.by) == ("DBK014", "size")
    assert "~0 rows" in allowed.reason and "below the warning threshold (10,000 rows)" in allowed.reason


def test_a_table_between_the_thresholds_is_a_warning(tmp_path: Path, target: str) -> None:
    report = graded(project(tmp_path, check_on("settings")), target)
    assert [(f.rule, f.severity) for f in report.findings] == [("DBK014", "warning")]
    assert report.ok and "~50,000 rows" in report.findings[0].message


def test_thresholds_are_configurable(tmp_path: Path, target: str) -> None:
    root = project(tmp_path, check_on("accounts"), check_on("settings"))
    report = graded(root, target, warn_rows=100_000, error_rows=2_000_000)
    assert [(f.rule, f.severity, Path(f.path).name) for f in report.findings] == [
        ("DBK014", "warning", "0002_app_change_2.sql")]
    assert [a.by for a in report.allowed] == ["size"]  # settings: 50,000 rows < 100,000


def test_a_populated_table_never_analyzed_is_an_error_and_lint_does_not_analyze_it(tmp_path: Path,
                                                                                 target: str) -> None:
    report = graded(project(tmp_path, check_on("events")), target)
    [finding] = report.findings
    assert finding.severity == "error" and "an unknown number of rows (never analyzed)" in finding.message
    with psycopg.connect(target) as conn:
        row = conn.execute("select c.reltuples, s.analyze_count, s.autoanalyze_count, s.vacuum_count "
                           "from pg_class c join pg_stat_user_tables s on s.relid = c.oid "
                           "where c.oid = 'app.events'::regclass").fetchone()
    assert row == (-1, 0, 0, 0)


def test_a_partitioned_table_is_graded_by_its_partitions(tmp_path: Path, target: str) -> None:
    report = graded(project(tmp_path, "alter table app.parted add constraint parted_id_check check (id > 0);\n"),
                    target)
    [finding] = report.findings
    assert finding.severity == "error" and "~120,000 rows" in finding.message


def test_a_table_a_pending_migration_creates_is_fine(tmp_path: Path, target: str) -> None:
    body = "create table app.fresh (id bigint primary key);\n"
    report = graded(project(tmp_path, body, "alter table app.fresh add constraint fresh_id_check check (id > 0);\n"),
                    target)
    assert report.findings == ()
    assert "app.fresh does not exist on" in report.allowed[0].reason


def test_a_required_column_fails_on_a_table_with_rows_and_passes_on_an_empty_one(tmp_path: Path,
                                                                                 target: str) -> None:
    root = project(tmp_path, "alter table app.settings add column kind text not null;\n",
                   "alter table app.empty_log add column kind text not null;\n")
    report = graded(root, target)
    assert [(f.rule, f.severity, Path(f.path).name) for f in report.findings] == [
        ("DBK019", "error", "0002_app_change_2.sql")]
    assert [(a.finding.rule, a.reason.endswith("no row can violate NOT NULL")) for a in report.allowed] == [
        ("DBK019", True)]


def test_lint_waits_for_nothing_but_access_share(tmp_path: Path, target: str) -> None:
    root = project(tmp_path, check_on("accounts"))
    with psycopg.connect(target) as holder:
        holder.execute("lock table app.accounts in exclusive mode")  # conflicts with every lock but ACCESS SHARE
        report = graded(root, target)
    assert "~1,000,000 rows" in report.findings[0].message and "locked" not in report.findings[0].message


def test_a_table_locked_access_exclusive_is_sized_from_the_catalog(tmp_path: Path, target: str) -> None:
    root = project(tmp_path, check_on("accounts"))
    with psycopg.connect(target) as holder:
        holder.execute("lock table app.accounts in access exclusive mode")
        report = graded(root, target)
    [finding] = report.findings
    assert finding.severity == "error" and "size from pg_class: the table was locked" in finding.message


def test_grading_changes_nothing_on_the_target(tmp_path: Path, target: str) -> None:
    before = row_counts_and_sequences(target)
    graded(project(tmp_path, check_on("accounts"), check_on("events")), target)
    assert row_counts_and_sequences(target) == before


def test_migrations_applied_on_the_target_are_history(tmp_path: Path, empty_url: str) -> None:
    root = project(tmp_path, check_on("settings"))
    assert run_dbkit("apply", url=empty_url, cwd=root).exit_code == 0
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("insert into app.settings select g, 'row ' || g from generate_series(1, 150000) g")
        conn.execute("vacuum analyze app.settings")
    (root / "migrations/app/0003_app_change_3.sql").write_text(
        "-- Test migration 3.\nalter table app.settings add constraint settings_note_check check (note <> '');\n")
    (root / "migrations/app/0003_app_change_3.rollback.sql").write_text("-- Undo.\nselect 1;\n")
    report = graded(root, empty_url)
    assert [(f.rule, Path(f.path).name, f.severity) for f in report.findings] == [
        ("DBK014", "0003_app_change_3.sql", "error")]
    [history] = report.allowed
    assert history.by == "history" and history.finding.path.endswith("0002_app_change_2.sql")
    assert history.reason.startswith("applied on ")


def test_cli_grades_against_the_url_without_printing_its_password(tmp_path: Path, target: str) -> None:
    root = project(tmp_path, check_on("accounts"))
    secret_url = target.replace("://postgres@", "://postgres:Sup3r-Secr3t@")
    assert secret_url != target
    result = run_dbkit("lint", "--database", secret_url, "--format", "json", cwd=root)
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["target"].startswith("postgres@") and [f["rule"] for f in payload["findings"]] == ["DBK014"]
    assert "Sup3r-Secr3t" not in result.output
    relaxed = run_dbkit("lint", "--database", target, "--error-rows", "2000000", cwd=root)
    assert relaxed.exit_code == 0 and "DBK014" in relaxed.stdout and "[warning]" in relaxed.stdout


def test_an_unreachable_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = project(tmp_path, check_on("accounts"))
    result = run_dbkit("lint", "--database", "postgresql://nobody@127.0.0.1:1/nowhere", cwd=root)
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot connect to")
    assert len(result.stderr.strip().splitlines()) == 1
