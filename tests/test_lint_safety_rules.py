"""The migration-safety rules (DBK014-DBK022): each fails on the unsafe form and passes on the safe one.

Without a target database nothing proves a table is small, so each finding on a table
the migration did not create keeps its rule's severity (graded against real sizes in
test_lint_grading.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbkit import lint
from test_lint_rules import HEADER, clean_table_files, migration, rules, run

NOT_TRANSACTIONAL = "-- transactional: false\n"


def change(*bodies: str) -> dict[str, str]:
    """The clean accounts table (0001), then one migration per body altering it (0002, 0003, …)."""
    files = clean_table_files()
    for number, body in enumerate(bodies, start=2):
        files.update(migration("app", f"{number:04d}_app_change_{number}", HEADER + body, "select 1;\n"))
    return files


def lint_changes(tmp_path: Path, *bodies: str) -> lint.LintReport:
    return run(tmp_path, change(*bodies))


def check(tmp_path: Path, *bodies: str) -> list[str]:
    return rules(lint_changes(tmp_path, *bodies))


# ---------------------------------------------------------------- DBK014 CHECK validated under lock


@pytest.mark.parametrize("body", [
    "alter table public.accounts add constraint accounts_user_check check (user_id is not null);\n",
    "alter table public.accounts add column score integer check (score >= 0);\n",
])
def test_check_validated_on_an_existing_table_fails(tmp_path: Path, body: str) -> None:
    report = lint_changes(tmp_path, body)
    assert rules(report) == ["DBK014"]
    assert "ACCESS EXCLUSIVE" in report.findings[0].message and "not valid" in report.findings[0].message


def test_check_added_not_valid_passes(tmp_path: Path) -> None:
    body = "alter table public.accounts add constraint accounts_user_check check (user_id is not null) not valid;\n"
    assert check(tmp_path, body) == []


def test_check_on_a_table_created_by_the_same_migration_passes(tmp_path: Path) -> None:
    body = ("create schema private;\ncreate table private.jobs (id int primary key);\n"
            "alter table private.jobs add constraint jobs_id_check check (id > 0);\n")
    assert check(tmp_path, body) == []


# ---------------------------------------------------------------- DBK015 foreign key validated under lock


FK = "alter table public.accounts add constraint accounts_user_fk foreign key (user_id) references public.accounts (id)"


def test_foreign_key_validated_on_an_existing_table_fails(tmp_path: Path) -> None:
    report = lint_changes(tmp_path, FK + ";\n")
    assert rules(report) == ["DBK015"]
    assert "public.accounts -> public.accounts" in report.findings[0].message


def test_foreign_key_added_not_valid_passes(tmp_path: Path) -> None:
    assert check(tmp_path, FK + " not valid;\n") == []


# ---------------------------------------------------------------- DBK016 UNIQUE/PRIMARY KEY without USING INDEX


@pytest.mark.parametrize("body", [
    "alter table public.accounts add constraint accounts_user_key unique (user_id);\n",
    "alter table public.accounts add column handle text unique;\n",
])
def test_unique_built_under_access_exclusive_fails(tmp_path: Path, body: str) -> None:
    report = lint_changes(tmp_path, body)
    assert rules(report) == ["DBK016"]
    assert "using index" in report.findings[0].message


def test_unique_attached_using_a_concurrently_built_index_passes(tmp_path: Path) -> None:
    assert check(tmp_path,
                 NOT_TRANSACTIONAL + "create unique index concurrently accounts_user_key on public.accounts (user_id);\n",
                 "alter table public.accounts add constraint accounts_user_key unique using index accounts_user_key;\n",
                 ) == []


# ---------------------------------------------------------------- DBK017 SET NOT NULL without a validated CHECK


ADD_NOTE = "alter table public.accounts add column note text;\n"
SET_NOT_NULL = "alter table public.accounts alter column note set not null;\n"
NOT_NULL_CHECK = "alter table public.accounts add constraint accounts_note_nn check (note is not null) not valid;\n"
VALIDATE = "alter table public.accounts validate constraint accounts_note_nn;\n"


def test_set_not_null_without_a_check_fails(tmp_path: Path) -> None:
    report = lint_changes(tmp_path, ADD_NOTE, SET_NOT_NULL)
    assert rules(report) == ["DBK017"]
    assert "public.accounts.note" in report.findings[0].message


def test_set_not_null_with_a_check_that_was_never_validated_fails(tmp_path: Path) -> None:
    assert check(tmp_path, ADD_NOTE + NOT_NULL_CHECK, SET_NOT_NULL) == ["DBK017"]


def test_set_not_null_after_a_validated_check_passes(tmp_path: Path) -> None:
    assert check(tmp_path, ADD_NOTE + NOT_NULL_CHECK, VALIDATE, SET_NOT_NULL) == []


# ---------------------------------------------------------------- DBK018 ADD COLUMN that rewrites


@pytest.mark.parametrize(("column", "reason"), [
    ("token uuid default gen_random_uuid()", "gen_random_uuid()"),
    ("seen timestamptz default clock_timestamp()", "clock_timestamp()"),
    ("position bigserial", "bigserial"),
    ("n integer generated always as identity", "identity"),
    ("doubled integer generated always as (1 * 2) stored", "generated"),
])
def test_add_column_that_rewrites_the_table_fails(tmp_path: Path, column: str, reason: str) -> None:
    report = lint_changes(tmp_path, f"alter table public.accounts add column {column};\n")
    assert rules(report) == ["DBK018"]
    assert reason in report.findings[0].message


def test_default_calling_a_project_function_that_is_volatile_fails(tmp_path: Path) -> None:
    function = ("create or replace function public.next_code() returns text\n"
                "    language sql\nas $$ select md5(random()::text) $$;\n")
    body = function + "alter table public.accounts add column code text default public.next_code();\n"
    assert check(tmp_path, body) == ["DBK018"]


@pytest.mark.parametrize("column", [
    "created_at timestamptz default now()", "created_at timestamptz default current_timestamp",
    "status text default 'new'", "score integer default 0",
])
def test_add_column_with_a_non_volatile_default_passes(tmp_path: Path, column: str) -> None:
    assert check(tmp_path, f"alter table public.accounts add column {column};\n") == []


# ---------------------------------------------------------------- DBK019 NOT NULL column without default


@pytest.mark.parametrize("column", ["status text not null", "ref uuid primary key"])
def test_required_column_without_default_fails(tmp_path: Path, column: str) -> None:
    assert "DBK019" in check(tmp_path, f"alter table public.accounts add column {column};\n")


def test_required_column_with_a_default_passes(tmp_path: Path) -> None:
    assert check(tmp_path, "alter table public.accounts add column status text not null default 'new';\n") == []


# ---------------------------------------------------------------- DBK020 rename


@pytest.mark.parametrize("body", [
    "alter table public.accounts rename column user_id to owner_id;\n",
    "alter table public.accounts rename to profiles;\n",
])
def test_renaming_a_table_or_column_fails(tmp_path: Path, body: str) -> None:
    report = lint_changes(tmp_path, body)
    assert rules(report) == ["DBK020"]
    assert "breaks every client" in report.findings[0].message


def test_renaming_an_index_passes(tmp_path: Path) -> None:
    assert check(tmp_path, "alter index public.idx_accounts_user rename to idx_accounts_owner;\n") == []


# ---------------------------------------------------------------- DBK021 transaction control


@pytest.mark.parametrize("statement", ["commit", "begin", "rollback", "start transaction", "end"])
def test_transaction_control_in_a_transactional_migration_fails(tmp_path: Path, statement: str) -> None:
    report = lint_changes(tmp_path, f"select 1;\n{statement};\nselect 2;\n")
    assert rules(report) == ["DBK021"]
    assert report.findings[0].line == 3


def test_transaction_control_in_a_non_transactional_migration_passes(tmp_path: Path) -> None:
    assert check(tmp_path, NOT_TRANSACTIONAL + "begin;\nselect 1;\ncommit;\n") == []


def test_savepoint_inside_the_migration_passes(tmp_path: Path) -> None:
    assert check(tmp_path, "savepoint s;\nselect 1;\nrollback to savepoint s;\nrelease savepoint s;\n") == []


# ---------------------------------------------------------------- DBK022 VALIDATE in the same transaction


def test_validate_in_the_transaction_that_added_not_valid_fails(tmp_path: Path) -> None:
    report = lint_changes(tmp_path, ADD_NOTE + NOT_NULL_CHECK + VALIDATE)
    assert rules(report) == ["DBK022"]
    assert report.findings[0].line == 4


def test_validate_in_a_later_migration_passes(tmp_path: Path) -> None:
    assert check(tmp_path, ADD_NOTE + NOT_NULL_CHECK, VALIDATE) == []


# ---------------------------------------------------------------- every new rule can be allowed with a reason


def test_a_reasoned_marker_sets_a_safety_finding_aside(tmp_path: Path) -> None:
    body = ("-- dbkit-allow DBK020 no client reads accounts.user_id yet (feature flag off)\n"
            "alter table public.accounts rename column user_id to owner_id;\n")
    report = lint_changes(tmp_path, body)
    assert report.findings == ()
    assert [(a.finding.rule, a.by) for a in report.allowed] == [("DBK020", "marker")]
