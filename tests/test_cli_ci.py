"""``dbkit ci``: the whole cycle on its own throwaway PostgreSQL, and each step can fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

from junitparser import JUnitXml

from dbkit.ephemeral import find_binaries
from helpers import run_dbkit, table_migrations, write_project

def _project(tmp_path: Path, rollback_of_t2: str = "drop table public.m_t2;\n") -> Path:
    files: dict[str, str | bytes] = dict(table_migrations("m", 2))
    files["migrations/m/0002_m_t2.rollback.sql"] = rollback_of_t2
    project = write_project(tmp_path, files)
    result = run_dbkit("snapshot", cwd=project)
    assert result.exit_code == 0, result.output
    return project


def test_ci_runs_the_whole_cycle_and_writes_the_report(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run_dbkit("ci", "--output", "reports/ci.xml", cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the report went to the file; the terminal gets the steps and the verdict
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"dbkit ci on a throwaway {find_binaries().describe()}")
    assert "ci PASSED: 8 of 8 steps ok" in lines
    assert lines[-1].startswith("wrote reports/ci.xml: PASSED: 0 failed")
    suites = list(JUnitXml.fromfile(str(project / "reports/ci.xml")))  # .xml: JUnit, from the suffix
    assert [suite.name for suite in suites] == ["m"]
    as_json = run_dbkit("ci", "--format", "json", cwd=project)
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is True
    assert [s["name"] for s in payload["steps"]] == [
        "plan file current", "apply", "catalog snapshots current", "verify (with writes, rolled back)", "rollback --all", "nothing left",
        "apply again", "verify again (read-only)"]


def test_ci_fails_first_when_the_committed_plan_file_is_stale(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "migrations/PLAN").write_text("1. m/0001_gone\n")
    result = run_dbkit("ci", cwd=project)
    assert result.exit_code == 1
    assert "ci failed at step 'plan file current'" in result.stderr and "run `dbkit plan`" in result.output


def test_ci_fails_when_rollback_leaves_an_object_behind(tmp_path: Path) -> None:
    project = _project(tmp_path, rollback_of_t2="-- forgets to drop public.m_t2\nselect 1;\n")
    result = run_dbkit("ci", cwd=project)
    assert result.exit_code == 1
    binaries = find_binaries()
    assert re.fullmatch(rf"dbkit ci on a throwaway PostgreSQL {re.escape(binaries.version)} "
                        rf"\({re.escape(str(binaries.bindir))}\)", result.stdout.splitlines()[0])
    assert "FAIL nothing left" in result.stdout
    assert "extra after rollback: table public.m_t2" in result.stdout
    assert "ci failed at step 'nothing left'" in result.stderr


def test_ci_fails_when_a_committed_snapshot_is_stale(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "migrations/m/0002_m_t2.sql").write_text(
        "-- Test migration 2, changed after its snapshot.\ncreate table public.m_t2 (id int primary key, note text);\n")
    assert run_dbkit("plan", cwd=project).exit_code == 0  # the plan is current: the snapshot is what is stale
    result = run_dbkit("ci", cwd=project)
    assert result.exit_code == 1
    assert "FAIL catalog snapshots current" in result.stdout
    assert "column public.m_t2.note is in no catalog.json" in result.stdout
    assert run_dbkit("snapshot", "--check", cwd=project).exit_code == 1


def test_ci_fails_when_the_sql_no_longer_creates_a_snapshotted_object(tmp_path: Path) -> None:
    project = _project(tmp_path)
    catalog = project / "migrations/m/catalog.json"
    catalog.write_text(catalog.read_text().replace('"table public.m_t1"', '"table public.m_t1_gone"'))
    result = run_dbkit("ci", cwd=project)
    assert result.exit_code == 1
    assert "FAIL catalog snapshots current" in result.stdout and "m_t1_gone" in result.stdout
