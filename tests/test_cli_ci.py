"""``dbkit ci``: the whole cycle on its own throwaway PostgreSQL, and each step can fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

from junitparser import JUnitXml

from dbkit.ephemeral import find_binaries
from helpers import run_dbkit, table_migrations, write_project

EXPECTATIONS = '[module]\nname = "m"\ndocuments = []\nschemas = ["public"]\n'


def _project(tmp_path: Path, rollback_of_t2: str = "drop table public.m_t2;\n") -> Path:
    files: dict[str, str | bytes] = dict(table_migrations("m", 2))
    files["migrations/m/0002_m_t2.rollback.sql"] = rollback_of_t2
    files["migrations/m/expectations.toml"] = EXPECTATIONS + (
        '\n[tables."public.m_t1"]\nsource = "test"\nrls = false\n'
        '[tables."public.m_t1".columns]\nid = "integer not null"\n'
        '\n[tables."public.m_t2"]\nsource = "test"\nrls = false\n'
        '[tables."public.m_t2".columns]\nid = "integer not null"\n'
        '\n[indexes."public.m_t1_pkey"]\nsource = "test"\n'
        'definition = "CREATE UNIQUE INDEX m_t1_pkey ON public.m_t1 USING btree (id)"\n'
        '\n[indexes."public.m_t2_pkey"]\nsource = "test"\n'
        'definition = "CREATE UNIQUE INDEX m_t2_pkey ON public.m_t2 USING btree (id)"\n'
        '\n[constraints."public.m_t1.m_t1_pkey"]\nsource = "test"\ntype = "primary"\ndefinition = "PRIMARY KEY (id)"\n'
        '\n[constraints."public.m_t2.m_t2_pkey"]\nsource = "test"\ntype = "primary"\ndefinition = "PRIMARY KEY (id)"\n'
    )
    return write_project(tmp_path, files)


def test_ci_runs_the_whole_cycle_and_writes_the_report(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run_dbkit("ci", "--format", "json", "--output", "reports/ci.xml", cwd=project)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert [s["name"] for s in payload["steps"]] == [
        "apply", "verify", "rollback --all", "nothing left", "apply again", "verify again"]
    suites = list(JUnitXml.fromfile(str(project / "reports/ci.xml")))
    assert [suite.name for suite in suites] == ["m"]


def test_ci_fails_when_rollback_leaves_an_object_behind(tmp_path: Path) -> None:
    project = _project(tmp_path, rollback_of_t2="-- forgets to drop public.m_t2\nselect 1;\n")
    result = run_dbkit("ci", cwd=project)
    assert result.exit_code == 1
    binaries = find_binaries()
    assert re.fullmatch(rf"dbkit ci on a throwaway PostgreSQL {re.escape(binaries.version)} on 127\.0\.0\.1:\d+ "
                        rf"\(binaries: {re.escape(str(binaries.bindir))}\)", result.stdout.splitlines()[0])
    assert "FAIL nothing left" in result.stdout
    assert "extra after rollback: relation public.m_t2" in result.stdout
    assert "ci failed at step 'nothing left'" in result.stderr


def test_ci_fails_when_verify_finds_a_missing_object(tmp_path: Path) -> None:
    project = _project(tmp_path)
    expectations = project / "migrations/m/expectations.toml"
    expectations.write_text(expectations.read_text() + '\n[indexes."public.m_t1_missing_idx"]\nsource = "test"\n'
                            'definition = "CREATE INDEX m_t1_missing_idx ON public.m_t1 USING btree (id)"\n')
    result = run_dbkit("ci", cwd=project)
    assert result.exit_code == 1
    assert "FAIL verify" in result.stdout and "m_t1_missing_idx" in result.stdout
