"""`dbkit lint`: output formats, exit codes, sqlfluff configuration, and the repository itself."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from dbkit.lint.sqlfluff import CACHE_ENV
from helpers import REPO_ROOT, run_dbkit, write_project


@pytest.fixture(autouse=True)
def fresh_sqlfluff_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test lints for real: sqlfluff results are not reused across tests."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("sqlfluff-cache")))


BAD = {
    "migrations/app/0001_app_accounts.sql": (
        "-- Test migration.\n"
        "create table public.accounts (id uuid primary key);\n"
    ),
    "migrations/app/0001_app_accounts.rollback.sql": "-- Undo.\ndrop table public.accounts;\n",
}
GOOD = {
    "migrations/app/0001_app_jobs.sql": "-- Test migration.\ncreate schema private;\n",
    "migrations/app/0001_app_jobs.rollback.sql": "-- Undo.\ndrop schema private;\n",
}


def test_findings_exit_1_and_print_file_line_rule_and_fix(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    result = run_dbkit("lint", cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert re.search(r"^migrations/app/0001_app_accounts\.sql:2:1: DBK002 table public\.accounts .*enable RLS",
                     result.stdout, re.M)
    assert "1 error(s)" in result.stdout
    assert "lint found 1 error(s)" in result.stderr


def test_clean_project_exits_0(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    result = run_dbkit("lint", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("0 error(s), 0 warning(s) in 2 file(s) (sqlfluff + dbkit)")


def test_json_format_lists_findings_and_allowed_markers(tmp_path: Path) -> None:
    files = dict(BAD)
    files["migrations/app/0002_app_drop.sql"] = (
        "-- Test migration.\n-- dbkit-allow DBK009 accounts moved to the billing service\n"
        "alter table public.accounts drop column id;\n"
    )
    files["migrations/app/0002_app_drop.rollback.sql"] = "-- Undo.\nalter table public.accounts add column id uuid;\n"
    write_project(tmp_path, files)
    result = run_dbkit("lint", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["schema_version"] == 1 and payload["ok"] is False and payload["errors"] == 1
    [finding] = payload["findings"]
    assert finding["rule"] == "DBK002" and finding["path"] == "migrations/app/0001_app_accounts.sql"
    assert finding["line"] == 2 and finding["checker"] == "dbkit" and finding["severity"] == "error"
    [allowed] = payload["allowed"]
    assert allowed["rule"] == "DBK009" and allowed["reason"] == "accounts moved to the billing service"
    assert set(payload["rules"]) >= {f"DBK{n:03d}" for n in range(0, 14)}


def test_github_format_prints_workflow_annotations(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    result = run_dbkit("lint", "--format", "github", cwd=tmp_path)
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=migrations/app/0001_app_accounts.sql,line=2,col=1,title=DBK002::DBK002 table")
    # a comma or colon in a message does not break the annotation; a newline is escaped
    assert "\n" not in first and first.count("::") == 2


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    result = run_dbkit("lint", "--format", "xml", cwd=tmp_path)
    assert result.exit_code == 2
    assert "xml" in result.stderr and "Traceback" not in result.output


def test_missing_migrations_directory_exits_2(tmp_path: Path) -> None:
    (tmp_path / "dbkit.toml").write_text("", encoding="utf-8")
    result = run_dbkit("lint", cwd=tmp_path)
    assert result.exit_code == 2
    assert "migrations directory" in result.stderr and "does not exist" in result.stderr


def test_sqlfluff_lints_files_over_its_default_20kb_limit(tmp_path: Path) -> None:
    padding = "".join(f"-- padding line {n:05d} so that this file is larger than twenty kilobytes.\n"
                      for n in range(400))
    files = dict(GOOD)
    files["migrations/app/0001_app_jobs.sql"] = "-- Test migration.\n" + padding + "create schema private;   \n"
    write_project(tmp_path, files)
    assert (tmp_path / "migrations/app/0001_app_jobs.sql").stat().st_size > 25_000
    result = run_dbkit("lint", "--format", "json", cwd=tmp_path)
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["line"], f["checker"]) for f in findings] == [("LT01", 402, "sqlfluff")]
    assert result.exit_code == 1


def test_the_projects_sqlfluff_file_is_used(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["migrations/app/0001_app_jobs.sql"] = "-- Test migration.\nCREATE SCHEMA private;\n"
    write_project(tmp_path, files)
    shutil.copy(REPO_ROOT / ".sqlfluff", tmp_path / ".sqlfluff")
    result = run_dbkit("lint", "--format", "json", cwd=tmp_path)
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert rules == {"CP01"}  # keywords must be lowercase in this repository


def test_repository_sql_is_lint_clean() -> None:
    result = run_dbkit("lint", cwd=REPO_ROOT)
    assert result.exit_code == 0, result.stdout


def test_invalid_sqlfluff_configuration_exits_2(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    (tmp_path / ".sqlfluff").write_text(
        "[sqlfluff:rules:capitalisation.keywords]\ncapitalisation_policy = shouty\n", encoding="utf-8")
    result = run_dbkit("lint", cwd=tmp_path)
    assert result.exit_code == 2
    assert "sqlfluff configuration" in result.stderr and "shouty" in result.stderr


def test_the_sqlfluff_configuration_points_at_decisions_that_exist() -> None:
    comments = "\n".join(line for line in (REPO_ROOT / ".sqlfluff").read_text().splitlines() if line.startswith("#"))
    documents = re.findall(r"docs/[\w.-]+\.md", comments)
    assert documents == ["docs/decisions.md"]
    sections = re.findall(r'section\s+#\s+"([^"]+)"', comments)
    assert sections and f"### {sections[0].replace('.sqlfluff', '`.sqlfluff`')}" in (REPO_ROOT / documents[0]).read_text()
