"""``-- replaces: ID``: a later migration is the safer form of an earlier one.

Where the earlier migration is pending, its safer form runs in its place (the earlier one is
recorded, under its own checksum); where it was applied, the safer form finds everything in
place and changes nothing. The repository's own safer forms keep the catalog the snapshots
were generated from (``dbkit snapshot --check`` and the round trip prove that) and apply to
populated tables within the rehearsal's bound (tests/test_rehearsal.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from dbkit.errors import DbkitError
from dbkit.project import load_project
from helpers import REPO_ROOT, database_state, run_dbkit, write_project

BASE = {
    "migrations/m/0001_m_base.sql": "-- The application's table.\n"
                                    "create table public.t (id int primary key);\n"
                                    "insert into public.t select generate_series(1, 100);\n",
    "migrations/m/0001_m_base.rollback.sql": "drop table public.t;\n",
    "migrations/m/0002_m_check.sql": "-- The document's form: validates under ACCESS EXCLUSIVE.\n"
                                     "alter table public.t add constraint t_id_positive check (id > 0);\n",
    "migrations/m/0002_m_check.rollback.sql": "alter table public.t drop constraint t_id_positive;\n",
}
SAFER = {
    "migrations/m/0003_m_check_online.sql": (
        "-- The safer form of 0002: NOT VALID, then VALIDATE in its own transaction.\n"
        "-- replaces: 0002_m_check\n"
        "-- transactional: false\n"
        "do $$ begin\n"
        "  if not exists (select 1 from pg_constraint where conname = 't_id_positive') then\n"
        "    alter table public.t add constraint t_id_positive check (id > 0) not valid;\n"
        "  end if;\n"
        "end $$;\n"
        "alter table public.t validate constraint t_id_positive;\n"),
    "migrations/m/0003_m_check_online.rollback.sql": "-- Nothing to undo in its own place.\nselect 1;\n",
}


def _catalog(url: str) -> dict[str, str]:
    """The database's objects and rows, without dbkit's own record of what ran."""
    return {k: v for k, v in database_state(url).items() if not k.startswith("bookkeeping ")}


def _validated(url: str) -> list[tuple[str, bool]]:
    with psycopg.connect(url) as conn:
        return [(str(r[0]), bool(r[1])) for r in conn.execute(
            "select conname, convalidated from pg_constraint where conrelid = 'public.t'::regclass and contype = 'c'")]


def test_a_pending_migration_runs_its_safer_form_in_its_place(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {**BASE, **SAFER})
    settings = load_settings(project, database_url=empty_url)
    plan = engine.apply(settings, dry_run=True)
    assert [(s.target, s.path) for s in plan.steps] == [
        ("0001_m_base", "migrations/m/0001_m_base.sql"),
        ("0002_m_check", "migrations/m/0003_m_check_online.sql"),  # the safer form, in 0002's place
        ("0003_m_check_online", "migrations/m/0003_m_check_online.sql"),
    ]
    assert "not valid" in plan.steps[1].sql
    engine.apply(settings)
    assert _validated(empty_url) == [("t_id_positive", True)]
    status = engine.status(settings)
    assert [m.id for m in status.migrations("applied")] == ["0001_m_base", "0002_m_check", "0003_m_check_online"]
    assert status.migrations("changed") == ()  # 0002 is recorded under its own checksum


def test_an_applied_migration_is_left_as_it_is_when_its_safer_form_arrives(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, BASE)
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    before = _catalog(empty_url)
    write_project(project, SAFER)
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0 and result.stdout.startswith("applied 0003_m_check_online"), result.output
    assert _catalog(empty_url) == before


def test_the_old_migrations_rollback_undoes_what_its_safer_form_did(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, {**BASE, **SAFER})
    settings = load_settings(project, database_url=empty_url)
    engine.apply(settings, to="0001_m_base")
    before = _catalog(empty_url)
    engine.apply(settings)
    engine.rollback(settings, to="0001_m_base")
    assert _catalog(empty_url) == before


@pytest.mark.parametrize(("header", "message"), [
    ("-- replaces: 0009_m_nothing\n", "replaces '0009_m_nothing', which is not an earlier migration of module m"),
    ("-- replaces: 0003_m_check_online\n", "which is not an earlier migration of module m"),
])
def test_replaces_must_name_an_earlier_migration_of_the_same_module(tmp_path: Path, header: str,
                                                                     message: str) -> None:
    files = {**BASE, **SAFER}
    files["migrations/m/0003_m_check_online.sql"] = files["migrations/m/0003_m_check_online.sql"].replace(
        "-- replaces: 0002_m_check\n", header)
    project = write_project(tmp_path, files)
    with pytest.raises(DbkitError, match=message):
        load_project(load_settings(project))


def test_the_repositorys_safer_forms_replace_the_migrations_the_rehearsal_found_blocking() -> None:
    project = load_project(load_settings(REPO_ROOT))
    replaced = {m.replaces: m.id for m in project.plan if m.replaces}
    assert replaced == {
        "0002_alm_duplicate_prevention": "0009_alm_duplicate_prevention_online",
        "0002_strategy_workflow_sessions_autonomous": "0014_strategy_workflow_sessions_autonomous_online",
        "0007_strategy_notifications_enhancements": "0015_strategy_notifications_enhancements_online",
        "0002_automations_account_access": "0013_automations_account_access_lock_order",
    }
    for old_id, new_id in replaced.items():
        old, new = project.migration(old_id), project.migration(new_id)
        assert {i.file.name for i in new.shared_includes} == {i.file.name for i in old.includes}
        # Validation moved out of ACCESS EXCLUSIVE needs statements of their own; a lock order
        # does not, and stays one transaction.
        assert new.transactional == (new_id == "0013_automations_account_access_lock_order")


_ACCESS = ("select c.relname, c.relacl::text, "
           "(select array_agg(p.policyname || ':' || coalesce(p.qual, '') || ':' || coalesce(p.with_check, '') "
           "order by p.policyname) from pg_policies p where p.tablename = c.relname) "
           "from pg_class c where c.relnamespace = 'public'::regnamespace "
           "and c.relname in ('agents', 'leads', 'conversations', 'account_members') order by 1")


def test_the_lock_order_form_changes_no_grant_or_policy_where_0002_was_applied(empty_url: str,
                                                                                tmp_path: Path) -> None:
    # In its own place (0002 applied long ago, its grants since narrowed by 0009's column
    # privileges) the safer form must not grant table-wide UPDATE again.
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "migrations", project / "migrations")
    shutil.copytree(REPO_ROOT / "sql", project / "sql")
    shutil.copy(REPO_ROOT / "pyproject.toml", project / "pyproject.toml")
    safer = sorted((project / "migrations/automations").glob("0013_automations_account_access_lock_order*"))
    held = {path: path.read_text(encoding="utf-8") for path in safer}
    for path in safer:
        path.unlink()
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        before = conn.execute(_ACCESS).fetchall()
    for path, text in held.items():
        path.write_text(text, encoding="utf-8")
    result = run_dbkit("apply", url=empty_url, cwd=project)
    assert result.exit_code == 0 and "0013_automations_account_access_lock_order" in result.stdout
    with psycopg.connect(empty_url) as conn:
        assert conn.execute(_ACCESS).fetchall() == before
        assert conn.execute("select has_column_privilege('authenticated', 'public.leads', 'user_id', 'UPDATE')"
                            ).fetchone() == (False,)
