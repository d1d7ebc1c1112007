"""migrations/PLAN: the apply order written down, generated from the files and checked for staleness."""

from __future__ import annotations

from pathlib import Path

from dbkit import planfile
from dbkit.config import load_settings
from dbkit.project import load_project
from helpers import REPO_ROOT, run_dbkit, write_project

FILES = {
    "migrations/zeta/0001_zeta_base.sql": "create table zeta (id int);\n",
    "migrations/zeta/0001_zeta_base.rollback.sql": "drop table zeta;\n",
    "migrations/alpha/0001_alpha_base.sql": "-- depends: 0001_zeta_base\ncreate table alpha (id int);\n",
    "migrations/alpha/0001_alpha_base.rollback.sql": "drop table alpha;\n",
    "migrations/alpha/0002_alpha_more.sql": "-- transactional: false\ncreate index concurrently i on alpha (id);\n",
    "migrations/alpha/0002_alpha_more.rollback.sql": "drop index i;\n",
}


def test_the_committed_plan_file_matches_the_migrations() -> None:
    state = planfile.state(load_project(load_settings(REPO_ROOT)))
    assert state.exists and state.current, state.message()


def test_the_plan_lists_the_apply_order_dependencies_and_modes(tmp_path: Path) -> None:
    project = write_project(tmp_path, FILES)
    assert run_dbkit("plan", cwd=project).exit_code == 0
    text = (project / "migrations/PLAN").read_text()
    entries = [line.split()[1] for line in text.splitlines() if line[:1].isdigit()]
    assert entries == ["zeta/0001_zeta_base", "alpha/0001_alpha_base", "alpha/0002_alpha_more"]
    assert "     depends: 0001_zeta_base\n3. alpha/0002_alpha_more" in text  # implied predecessor not repeated
    assert "     transactional: false\n" in text


def test_a_stale_plan_fails_the_check_and_status_warns(tmp_path: Path, empty_url: str) -> None:
    project = write_project(tmp_path, FILES)
    assert run_dbkit("plan", cwd=project).exit_code == 0
    assert run_dbkit("plan", "--check", cwd=project).exit_code == 0
    (project / "migrations/zeta/0002_zeta_more.sql").write_text("alter table zeta add column n int;\n")
    (project / "migrations/zeta/0002_zeta_more.rollback.sql").write_text("alter table zeta drop column n;\n")
    check = run_dbkit("plan", "--check", cwd=project)
    assert check.exit_code == 1 and "migrations/PLAN is stale" in check.stderr
    status = run_dbkit("status", url=empty_url, cwd=project)
    assert status.exit_code == 0 and "warning: migrations/PLAN is stale" in status.stderr
    assert run_dbkit("plan", cwd=project).exit_code == 0
    assert "zeta/0002_zeta_more" in (project / "migrations/PLAN").read_text()
    assert "warning" not in run_dbkit("status", url=empty_url, cwd=project).stderr


def test_an_edited_migration_makes_the_plan_stale(tmp_path: Path) -> None:
    project = write_project(tmp_path, FILES)
    assert run_dbkit("plan", cwd=project).exit_code == 0
    (project / "migrations/zeta/0001_zeta_base.sql").write_text("create table zeta (id bigint);\n")
    assert run_dbkit("plan", "--check", cwd=project).exit_code == 1
