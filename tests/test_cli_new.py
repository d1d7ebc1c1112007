"""``dbkit new``: a migration, its rollback and its verification entry under one name."""

from __future__ import annotations

from pathlib import Path

from dbkit.config import load_settings
from dbkit.project import load_project
from helpers import run_dbkit, table_migrations, write_project


def test_new_scaffolds_next_number_with_rollback_and_check_file(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 2))
    result = run_dbkit("new", "m", "add_notes", cwd=project)
    assert result.exit_code == 0, result.output
    assert "wrote migrations/m/0003_add_notes.sql" in result.stdout
    assert (project / "migrations/m/0003_add_notes.rollback.sql").is_file()
    assert "0003_add_notes" in (project / "migrations/m/0003_add_notes.verify.toml").read_text()
    loaded = load_project(load_settings(project))
    assert [m.id for m in loaded.plan][-1] == "0003_add_notes"


def test_new_first_migration_of_a_module_depends_on_what_the_configuration_names(tmp_path: Path) -> None:
    project = write_project(tmp_path, {
        "migrations/core/0001_core_roles.sql": "select 1;\n",
        "migrations/core/0001_core_roles.rollback.sql": "select 1;\n",
    }, config='new_module_depends = ["0001_core_roles"]\n')
    (project / "migrations/fresh").mkdir()
    assert run_dbkit("new", "fresh", "start", cwd=project).exit_code == 0
    assert "-- depends: 0001_core_roles\n" in (project / "migrations/fresh/0001_start.sql").read_text()
    assert run_dbkit("new", "fresh", "more", cwd=project).exit_code == 0  # only the first migration
    assert "depends" not in (project / "migrations/fresh/0002_more.sql").read_text()


def test_new_first_migration_depends_on_nothing_without_configuration(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    (project / "migrations/fresh").mkdir()
    assert run_dbkit("new", "fresh", "start", cwd=project).exit_code == 0
    assert "depends" not in (project / "migrations/fresh/0001_start.sql").read_text()


def test_new_refuses_a_configured_dependency_that_is_no_migration(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1), config='new_module_depends = ["0001_gone"]\n')
    (project / "migrations/fresh").mkdir()
    result = run_dbkit("new", "fresh", "start", cwd=project)
    assert result.exit_code == 2 and "new_module_depends names '0001_gone'" in result.stderr
    assert not (project / "migrations/fresh/0001_start.sql").exists()


def test_new_rejects_bad_names_and_unknown_modules(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    bad = run_dbkit("new", "m", "Add-Notes", cwd=project)
    assert bad.exit_code == 2 and "lowercase" in bad.stderr
    unknown = run_dbkit("new", "nope", "x", cwd=project)
    assert unknown.exit_code == 2 and "unknown module 'nope'" in unknown.stderr
    assert sorted(p.name for p in (project / "migrations/m").iterdir()) == ["0001_m_t1.rollback.sql", "0001_m_t1.sql"]


def test_new_writes_a_loadable_check_file_beside_the_migration(tmp_path: Path) -> None:
    from dbkit import checkfiles

    project = write_project(tmp_path, table_migrations("m", 1))
    assert run_dbkit("new", "m", "next", cwd=project).exit_code == 0
    loaded = checkfiles.load_module(load_project(load_settings(project)).module("m"))
    assert [c.migration for c in loaded.changes] == ["0002_next"]


def test_new_with_a_very_long_name_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("new", "m", "x" * 300, cwd=project)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "300 characters" in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in (project / "migrations/m").iterdir()) == ["0001_m_t1.rollback.sql", "0001_m_t1.sql"]


def test_new_that_cannot_write_a_file_leaves_nothing_half_written(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    (project / "migrations/m/0002_blocked.rollback.sql").mkdir()  # in the way of the rollback file
    result = run_dbkit("new", "m", "blocked", cwd=project)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "cannot write the new migration" in result.stderr
    assert not (project / "migrations/m/0002_blocked.sql").exists()
