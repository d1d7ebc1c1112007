"""dbkit's own lint rules: each one fails on a bad example and passes on the fixed one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from dbkit import lint
from dbkit.config import load_settings
from helpers import write_project

HEADER = "-- Test migration.\n"
TABLE = (
    "create table public.accounts (\n"
    "    id uuid primary key,\n"
    "    user_id uuid not null\n"
    ");\n"
    "create index idx_accounts_user on public.accounts using btree (user_id);\n"
)
POLICIES = (
    "-- public.accounts: owner-only access.\n"
    "alter table public.accounts enable row level security;\n"
    "drop policy if exists accounts_select_own on public.accounts;\n"
    "create policy accounts_select_own on public.accounts\n"
    "    for select to authenticated\n"
    "    using (user_id = (select auth.uid()));\n"
)


def migration(module: str, stem: str, body: str, rollback: str = "select 1;\n") -> dict[str, str]:
    return {
        f"migrations/{module}/{stem}.sql": body,
        f"migrations/{module}/{stem}.rollback.sql": HEADER + rollback,
    }


def run(tmp_path: Path, files: Mapping[str, str]) -> lint.LintReport:
    write_project(tmp_path, files)
    return lint.lint(load_settings(tmp_path), sqlfluff=False)


def rules(report: lint.LintReport) -> list[str]:
    return [f.rule for f in report.findings]


def clean_table_files() -> dict[str, str]:
    return {
        **migration("app", "0001_app_accounts", HEADER + TABLE + "-- include: sql/policies/public.accounts.sql\n",
                    "drop table public.accounts;\n"),
        "sql/policies/public.accounts.sql": POLICIES,
    }


def test_clean_project_has_no_findings(tmp_path: Path) -> None:
    report = run(tmp_path, clean_table_files())
    assert report.findings == ()
    assert report.ok
    assert "sql/policies/public.accounts.sql" in report.files


# ---------------------------------------------------------------- DBK000


def test_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    files = migration("app", "0001_app_broken", HEADER + "select 1;\ncreate tabel public.x (id int);\n")
    report = run(tmp_path, files)
    [finding] = [f for f in report.findings if f.rule == "DBK000"]
    assert finding.path == "migrations/app/0001_app_broken.sql" and finding.line == 3
    assert 'syntax error at or near "tabel"' in finding.message


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, migration("app", "0001_app_latin1", ""))
    (tmp_path / "migrations/app/0001_app_latin1.sql").write_bytes(b"-- caf\xe9\nselect 1;\n")
    report = lint.lint(load_settings(tmp_path), sqlfluff=False)
    assert [(f.rule, f.line) for f in report.findings] == [("DBK000", 1)]


# ---------------------------------------------------------------- DBK001


def function(definer: str) -> str:
    return (HEADER + "create or replace function public.f() returns integer\n"
            f"    language sql stable {definer}\n"
            "as $$ select 1 $$;\n")


def test_security_definer_without_search_path_fails(tmp_path: Path) -> None:
    report = run(tmp_path, migration("app", "0001_app_fn", function("security definer")))
    assert rules(report) == ["DBK001"]
    assert "public.f" in report.findings[0].message and "set search_path = ''" in report.findings[0].message


def test_security_definer_with_pinned_search_path_passes(tmp_path: Path) -> None:
    report = run(tmp_path, migration("app", "0001_app_fn", function("security definer set search_path = ''")))
    assert report.findings == ()


def test_search_path_pinned_by_alter_function_in_the_same_file_passes(tmp_path: Path) -> None:
    body = function("security definer") + "alter function public.f() set search_path = '';\n"
    assert run(tmp_path, migration("app", "0001_app_fn", body)).findings == ()


def test_security_invoker_function_needs_no_search_path(tmp_path: Path) -> None:
    assert run(tmp_path, migration("app", "0001_app_fn", function(""))).findings == ()


# ---------------------------------------------------------------- DBK002


def test_public_table_without_rls_fails(tmp_path: Path) -> None:
    report = run(tmp_path, migration("app", "0001_app_accounts", HEADER + TABLE, "drop table public.accounts;\n"))
    assert rules(report) == ["DBK002"]
    assert report.findings[0].line == 2 and "public.accounts" in report.findings[0].message


def test_rls_enabled_in_an_included_policy_file_passes(tmp_path: Path) -> None:
    assert run(tmp_path, clean_table_files()).findings == ()


def test_rls_enabled_only_in_a_later_migration_fails(tmp_path: Path) -> None:
    files = {
        **migration("app", "0001_app_accounts", HEADER + TABLE, "drop table public.accounts;\n"),
        **migration("app", "0002_app_accounts_rls", HEADER + "-- include: sql/policies/public.accounts.sql\n",
                    "alter table public.accounts disable row level security;\n"),
        "sql/policies/public.accounts.sql": POLICIES,
    }
    assert rules(run(tmp_path, files)) == ["DBK002"]


def test_table_in_a_private_schema_needs_no_rls(tmp_path: Path) -> None:
    body = HEADER + "create schema private;\ncreate table private.jobs (id int primary key);\n"
    assert run(tmp_path, migration("app", "0001_app_jobs", body)).findings == ()


# ---------------------------------------------------------------- DBK003


def test_rls_without_any_policy_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    files["sql/policies/public.accounts.sql"] = "-- RLS only.\nalter table public.accounts enable row level security;\n"
    report = run(tmp_path, files)
    assert rules(report) == ["DBK003"]
    assert report.findings[0].path == "sql/policies/public.accounts.sql"


def test_deliberately_closed_table_passes_with_an_allow_marker(tmp_path: Path) -> None:
    files = clean_table_files()
    files["sql/policies/public.accounts.sql"] = (
        "-- Service-role only.\n"
        "-- dbkit-allow DBK003 only service_role (BYPASSRLS) reads this table\n"
        "alter table public.accounts enable row level security;\n"
    )
    report = run(tmp_path, files)
    assert report.findings == ()
    assert [(a.finding.rule, a.reason) for a in report.allowed] == [
        ("DBK003", "only service_role (BYPASSRLS) reads this table")]


# ---------------------------------------------------------------- DBK004


def policy_files(using: str) -> dict[str, str]:
    files = clean_table_files()
    files["sql/policies/public.accounts.sql"] = (
        "-- Policies.\nalter table public.accounts enable row level security;\n"
        "create policy accounts_select_own on public.accounts for select to authenticated\n"
        f"    using ({using});\n"
    )
    return files


@pytest.mark.parametrize("using", [
    "user_id = auth.uid()",
    "(auth.jwt() ->> 'role') = 'admin'",
    "exists (select 1 from public.accounts a where a.user_id = auth.uid())",
])
def test_unwrapped_auth_call_in_a_policy_fails(tmp_path: Path, using: str) -> None:
    report = run(tmp_path, policy_files(using))
    assert rules(report) == ["DBK004"]
    assert report.findings[0].line == 4 and "(select auth." in report.findings[0].message


@pytest.mark.parametrize("using", [
    "user_id = (select auth.uid())",
    "((select auth.jwt()) ->> 'role') = 'admin'",
    "exists (select 1 from public.accounts a where a.user_id = (select auth.uid()))",
])
def test_auth_call_wrapped_in_select_passes(tmp_path: Path, using: str) -> None:
    assert run(tmp_path, policy_files(using)).findings == ()


# ---------------------------------------------------------------- DBK005


def test_policy_without_to_role_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    files["sql/policies/public.accounts.sql"] = POLICIES.replace(" to authenticated", "")
    report = run(tmp_path, files)
    assert rules(report) == ["DBK005"]
    assert "accounts_select_own" in report.findings[0].message


def test_policy_with_to_role_passes(tmp_path: Path) -> None:
    assert run(tmp_path, clean_table_files()).findings == ()


# ---------------------------------------------------------------- DBK006


def orders(index: str) -> dict[str, str]:
    files = clean_table_files()
    body = (HEADER + "-- dbkit-allow DBK002 test table\n"
            "create table public.orders (\n    id uuid primary key,\n"
            "    account_id uuid not null references public.accounts (id)\n);\n" + index)
    files.update(migration("app", "0002_app_orders", body, "drop table public.orders;\n"))
    return files


def test_foreign_key_without_index_fails_at_the_reference(tmp_path: Path) -> None:
    report = run(tmp_path, orders(""))
    assert rules(report) == ["DBK006"]
    finding = report.findings[0]
    assert (finding.path, finding.line) == ("migrations/app/0002_app_orders.sql", 5)
    assert "create index idx_orders_account_id on public.orders using btree (account_id)" in finding.message


def test_foreign_key_with_a_leading_index_passes(tmp_path: Path) -> None:
    index = "create index idx_orders_account on public.orders using btree (account_id, id);\n"
    report = run(tmp_path, orders(index))
    assert "DBK006" not in rules(report)


def test_partial_index_with_another_predicate_does_not_cover_a_foreign_key(tmp_path: Path) -> None:
    index = "create index idx_orders_account on public.orders (account_id) where id is not null;\n"
    assert "DBK006" in rules(run(tmp_path, orders(index)))


def test_partial_index_on_the_key_being_not_null_covers_it(tmp_path: Path) -> None:
    index = "create index idx_orders_account on public.orders (account_id) where account_id is not null;\n"
    assert "DBK006" not in rules(run(tmp_path, orders(index)))


def test_index_created_in_a_later_migration_covers_the_key(tmp_path: Path) -> None:
    files = orders("")
    files.update(migration("app", "0003_app_orders_index", HEADER + "-- transactional: false\n"
                           "create index concurrently idx_orders_account on public.orders (account_id);\n",
                           "drop index concurrently public.idx_orders_account;\n"))
    files["migrations/app/0003_app_orders_index.rollback.sql"] = (
        HEADER + "-- transactional: false\ndrop index concurrently public.idx_orders_account;\n")
    assert "DBK006" not in rules(run(tmp_path, files))


# ---------------------------------------------------------------- DBK007 / DBK008


def later_index(body: str) -> dict[str, str]:
    files = clean_table_files()
    files.update(migration("app", "0002_app_accounts_created", body, "drop index public.idx_accounts_id;\n"))
    return files


def test_plain_create_index_on_an_existing_table_fails(tmp_path: Path) -> None:
    body = HEADER + "create index idx_accounts_id on public.accounts (id, user_id);\n"
    report = run(tmp_path, later_index(body))
    assert rules(report) == ["DBK007"]
    assert "concurrently" in report.findings[0].message and "-- transactional: false" in report.findings[0].message


def test_concurrent_index_in_a_non_transactional_migration_passes(tmp_path: Path) -> None:
    body = (HEADER + "-- transactional: false\n"
            "create index concurrently idx_accounts_id on public.accounts (id, user_id);\n")
    assert run(tmp_path, later_index(body)).findings == ()


def test_concurrent_index_in_a_transactional_migration_fails(tmp_path: Path) -> None:
    body = HEADER + "create index concurrently idx_accounts_id on public.accounts (id, user_id);\n"
    assert rules(run(tmp_path, later_index(body))) == ["DBK008"]


def test_index_on_a_table_created_in_the_same_migration_passes(tmp_path: Path) -> None:
    assert "DBK007" not in rules(run(tmp_path, clean_table_files()))


# ---------------------------------------------------------------- DBK009


def destructive(statement: str) -> dict[str, str]:
    files = clean_table_files()
    files.update(migration("app", "0002_app_accounts_change", HEADER + statement,
                           "alter table public.accounts add column note text;\n"))
    return files


@pytest.mark.parametrize("statement", [
    "alter table public.accounts drop column user_id;\n",
    "alter table public.accounts alter column user_id type text;\n",
    "drop table public.accounts;\n",
])
def test_destructive_change_without_marker_fails(tmp_path: Path, statement: str) -> None:
    assert rules(run(tmp_path, destructive(statement))) == ["DBK009"]


def test_destructive_change_with_a_reasoned_marker_passes(tmp_path: Path) -> None:
    statement = ("-- dbkit-allow DBK009 user_id moved to memberships in 0001, unused since release 12\n"
                 "alter table public.accounts drop column user_id;\n")
    report = run(tmp_path, destructive(statement))
    assert report.findings == ()
    assert report.allowed[0].reason == "user_id moved to memberships in 0001, unused since release 12"


def test_marker_without_a_reason_silences_nothing(tmp_path: Path) -> None:
    statement = "-- dbkit-allow DBK009\nalter table public.accounts drop column user_id;\n"
    report = run(tmp_path, destructive(statement))
    assert rules(report) == ["DBK009"]
    assert "needs a reason" in report.findings[0].message


def test_marker_for_another_rule_silences_nothing(tmp_path: Path) -> None:
    statement = "-- dbkit-allow DBK007 wrong rule\nalter table public.accounts drop column user_id;\n"
    assert rules(run(tmp_path, destructive(statement))) == ["DBK009"]


def test_dropping_a_column_in_a_rollback_is_not_flagged(tmp_path: Path) -> None:
    files = clean_table_files()
    files.update(migration("app", "0002_app_note", HEADER + "alter table public.accounts add column note text;\n",
                           "alter table public.accounts drop column note;\n"))
    assert run(tmp_path, files).findings == ()


# ---------------------------------------------------------------- DBK010


def test_migration_without_rollback_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    del files["migrations/app/0001_app_accounts.rollback.sql"]
    report = run(tmp_path, files)
    assert rules(report) == ["DBK010"]
    assert "0001_app_accounts.rollback.sql" in report.findings[0].message


def test_empty_rollback_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    files["migrations/app/0001_app_accounts.rollback.sql"] = "-- Nothing to undo.\n"
    assert rules(run(tmp_path, files)) == ["DBK010"]


# ---------------------------------------------------------------- DBK011


@pytest.mark.parametrize("line", ["-- transaction: false", "-- Depends: 0001_x", "-- transactional: no"])
def test_unknown_or_malformed_directive_fails(tmp_path: Path, line: str) -> None:
    files = clean_table_files()
    files["migrations/app/0001_app_accounts.sql"] = line + "\n" + files["migrations/app/0001_app_accounts.sql"]
    report = run(tmp_path, files)
    assert rules(report) == ["DBK011"]
    assert report.findings[0].line == 1


def test_prose_header_keys_pass(tmp_path: Path) -> None:
    files = clean_table_files()
    files["migrations/app/0001_app_accounts.sql"] = ("-- Source: seed 003 §1.2\n-- Note: capitalised prose\n"
                                                    + files["migrations/app/0001_app_accounts.sql"])
    assert run(tmp_path, files).findings == ()


# ---------------------------------------------------------------- DBK012 / DBK013


def test_include_of_a_missing_file_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    files["migrations/app/0001_app_accounts.sql"] += "-- include: sql/functions/public.nowhere.sql\n"
    report = run(tmp_path, files)
    assert rules(report) == ["DBK012"]
    assert "does not exist" in report.findings[0].message


def test_function_file_included_by_no_migration_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    files["sql/functions/public.orphan.sql"] = function("")
    report = run(tmp_path, files)
    assert rules(report) == ["DBK012"]
    assert report.findings[0].path == "sql/functions/public.orphan.sql"


def test_misnamed_migration_file_fails(tmp_path: Path) -> None:
    files = clean_table_files()
    files["migrations/app/2_accounts.sql"] = HEADER + "select 1;\n"
    report = run(tmp_path, files)
    assert rules(report) == ["DBK013"]


def test_module_folder_missing_from_the_configuration_is_an_error_as_apply_says(tmp_path: Path) -> None:
    files = {**clean_table_files(), **migration("extra", "0001_extra_jobs", HEADER + "select 1;\n")}
    write_project(tmp_path, files, config='modules = ["app"]\n')
    report = lint.lint(load_settings(tmp_path), sqlfluff=False)
    [finding] = report.findings
    assert (finding.rule, finding.path) == ("DBK013", "migrations/extra")
    assert "not listed in the modules" in finding.message
    assert not any(name.startswith("migrations/extra/") for name in report.files)  # apply does not load it either


# ---------------------------------------------------------------- every rule is documented


def test_every_rule_has_an_id_title_and_a_fix() -> None:
    for rule_id, rule in lint.RULES.items():
        assert rule.id == rule_id and rule_id.startswith("DBK")
        assert rule.title and len(rule.fix) > 20


def test_colon_form_of_the_marker_in_a_header_is_an_unknown_directive(tmp_path: Path) -> None:
    files = clean_table_files()
    files["migrations/app/0001_app_accounts.sql"] = ("-- dbkit:allow DBK002 colon form\n"
                                                    + files["migrations/app/0001_app_accounts.sql"])
    report = run(tmp_path, files)
    assert rules(report) == ["DBK011"]
    assert "dbkit-allow" in report.findings[0].message


def test_engine_loads_a_migration_whose_header_holds_an_allow_marker(tmp_path: Path) -> None:
    from dbkit.project import load_project

    statement = "-- dbkit-allow DBK009 retired column\nalter table public.accounts drop column user_id;\n"
    report = run(tmp_path, destructive(statement))
    assert report.findings == ()
    project = load_project(load_settings(tmp_path))
    assert [m.id for m in project.plan] == ["0001_app_accounts", "0002_app_accounts_change"]
