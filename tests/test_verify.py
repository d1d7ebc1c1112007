"""dbkit verify against a small real project (tests/demo_project.py): a fresh apply passes, and
every hand-made breakage is caught with a precise message, by a verify that only reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbkit import engine
from dbkit.config import load_settings
from dbkit.errors import InputError
from dbkit.verify import Check, VerifyReport, verify
from demo_project import CHECKS, write_demo_project
from helpers import row_counts_and_sequences, run_dbkit


@pytest.fixture
def demo(tmp_path: Path, empty_url: str, demo_snapshots: dict[str, str]) -> Iterator[tuple[Path, str]]:
    """(project root, database url) with the demo project and its snapshots, applied."""
    root = write_demo_project(tmp_path, demo_snapshots)
    engine.apply(load_settings(root, database_url=empty_url))
    yield root, empty_url


def run_verify(root: Path, url: str, *, writes: bool = False, module: str | None = "demo") -> VerifyReport:
    return verify(load_settings(root, database_url=url), module=module, writes=writes)


def sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def by_id(report: VerifyReport) -> dict[str, Check]:
    return {c.id: c for c in report.checks}


def failures(report: VerifyReport) -> dict[str, str]:
    return {c.id: c.message for c in report.checks if c.status == "fail"}


def warnings_of(report: VerifyReport) -> dict[str, str]:
    return {c.id: c.message for c in report.checks if c.status == "warn"}


# ---------------------------------------------------------------- a fresh apply passes


def test_fresh_demo_project_passes_read_only_and_skips_what_writes(demo: tuple[Path, str]) -> None:
    report = run_verify(*demo)
    assert failures(report) == {} and warnings_of(report) == {}
    kinds = {c.kind for c in report.checks if c.status == "pass"}
    assert kinds >= {"table", "index", "constraint", "policy", "function", "trigger", "privilege", "row",
                     "behaviour", "plan", "migration", "schema"}
    checks = by_id(report)
    assert checks["demo.item_count.of_nobody_is_zero"].status == "pass"  # needs no write: runs read-only
    assert checks["demo.items.duplicate_name_rejected"].status == "skipped"
    assert "runs with --with-writes" in checks["demo.items.duplicate_name_rejected"].message
    assert checks["demo.rls.demo.items"].status == "skipped"
    assert report.migration_status.startswith("1 applied, 0 pending") and not report.writes


def test_with_writes_runs_behaviour_and_the_rls_matrix(demo: tuple[Path, str]) -> None:
    report = run_verify(*demo, writes=True)
    assert failures(report) == {} and warnings_of(report) == {}
    checks = by_id(report)
    assert checks["demo.items.duplicate_name_rejected"].status == "pass"
    assert checks["demo.rls.demo.items.owner.insert"].status == "pass"
    assert checks["demo.rls.demo.items.stranger.select"].actual == "denied (0 rows)"
    # the "move to another owner" cell: the owner has no update policy, service_role may re-home
    assert checks["demo.rls.demo.items.owner.move"].actual == "denied (0 rows)"
    assert checks["demo.rls.demo.items.service_role.move"].actual == "allowed (1 row(s))"
    # one `each` entry, one check per placeholder table
    assert checks["demo.items.anon_cannot_truncate"].status == checks["demo.items.owner_cannot_truncate"].status == "pass"


def test_cli_exit_code_is_zero_when_nothing_failed(demo: tuple[Path, str]) -> None:
    root, url = demo
    result = run_dbkit("verify", "--module", "demo", "--format", "json", url=url, cwd=root)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["schema_version"] == 1 and payload["summary"]["counts"]["fail"] == 0
    assert result.stderr == ""  # no progress in piped JSON output


# ---------------------------------------------------------------- each breakage is caught, read-only


def test_dropped_index_is_reported_missing(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "drop index demo.idx_items_owner")
    fails = failures(run_verify(root, url))
    assert fails["demo.index.demo.idx_items_owner"] == (
        "index demo.idx_items_owner does not exist (want: CREATE INDEX idx_items_owner ON demo.items (owner_id))")


def test_changed_index_definition_is_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "drop index demo.idx_items_owner")
    sql(url, "create index idx_items_owner on demo.items (owner_id) where name <> ''")
    message = failures(run_verify(root, url))["demo.index.demo.idx_items_owner"]
    assert message.startswith("index demo.idx_items_owner: definition: have: CREATE INDEX idx_items_owner ON "
                              "demo.items (owner_id) WHERE name <> CAST('' AS text) want: CREATE INDEX")
    assert "predicate: have: name <> CAST('' AS text) want: (none)" in message


def test_stray_index_is_a_drift_warning_not_a_failure(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "create index idx_items_stray on demo.items (name)")
    report = run_verify(root, url)
    assert failures(report) == {}
    assert warnings_of(report) == {"drift.index.demo.idx_items_stray": (
        "index demo.idx_items_stray exists in the database but no migration creates it (not in demo's catalog.json)")}


def test_altered_policy_expression_is_reported_with_have_and_want(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter policy items_select_own on demo.items using (true)")
    fails = failures(run_verify(root, url))
    assert fails["demo.policy.demo.items.items_select_own"] == (
        "policy demo.items.items_select_own: using: have: TRUE want: owner_id = (SELECT auth.uid() AS uid)")


def test_policy_role_change_is_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter policy items_delete_own on demo.items to authenticated, anon")
    assert failures(run_verify(root, url))["demo.policy.demo.items.items_delete_own"] == (
        "policy demo.items.items_delete_own: roles: have: anon, authenticated want: authenticated")


def test_replaced_function_body_is_reported_from_the_catalog(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "create or replace function demo.item_count(p_owner uuid) returns bigint language sql stable "
             "security definer set search_path = '' as $$ select 42::bigint $$")
    assert failures(run_verify(root, url))["demo.function.demo.item_count(uuid)"] == (
        "function demo.item_count(uuid): body: have: select 42::bigint "
        "want: select count(*) from demo.items where owner_id = p_owner")


def test_function_attributes_and_an_extra_execute_grant_are_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter function demo.item_count(uuid) security invoker reset search_path volatile")
    sql(url, "grant execute on function demo.item_count(uuid) to anon")
    fails = failures(run_verify(root, url))
    assert fails["demo.function.demo.item_count(uuid)"] == (
        "function demo.item_count(uuid): config: have: (none) want: search_path=\"\"; "
        "function demo.item_count(uuid): security: have: invoker want: definer; "
        "function demo.item_count(uuid): volatility: have: volatile want: stable")
    assert fails["demo.privileges.demo.item_count(uuid)"] == (
        "anon may EXECUTE on function demo.item_count(uuid), which the SQL does not grant: given by "
        "`GRANT EXECUTE ON FUNCTION demo.item_count(uuid) TO anon`, removed by "
        "`REVOKE EXECUTE ON FUNCTION demo.item_count(uuid) FROM anon`")


def test_hand_made_truncate_grant_to_anon_fails_with_the_revoke(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "grant truncate on demo.items to anon")
    report = run_verify(root, url)
    assert failures(report) == {"demo.privileges.demo.items": (
        "anon may TRUNCATE on table demo.items, which the SQL does not grant: given by "
        "`GRANT TRUNCATE ON TABLE demo.items TO anon`, removed by `REVOKE TRUNCATE ON TABLE demo.items FROM anon`")}


def test_privileges_through_public_and_column_grants_are_audited(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "grant select on demo.settings to public")
    sql(url, "grant update (value) on demo.settings to authenticated")
    fails = failures(run_verify(root, url))
    settings = fails["demo.privileges.demo.settings"]
    assert "public may SELECT on table demo.settings" in settings
    assert "anon may SELECT on table demo.settings, which the SQL does not grant: through PUBLIC, given by " \
           "`GRANT SELECT ON TABLE demo.settings TO PUBLIC`" in settings
    assert "authenticated may UPDATE on column demo.settings.value, which the SQL does not grant: given by " \
           "`GRANT UPDATE (value) ON TABLE demo.settings TO authenticated`" in settings


def test_revoked_privilege_is_reported_missing_with_the_grant(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "revoke select on demo.settings from service_role")
    assert failures(run_verify(root, url))["demo.privileges.demo.settings"] == (
        "service_role lacks SELECT on table demo.settings: `GRANT SELECT ON TABLE demo.settings TO service_role`")


def test_disabled_rls_is_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter table demo.items disable row level security")
    assert failures(run_verify(root, url))["demo.table.demo.items"] == (
        "table demo.items: rls: have: false want: true")


def test_deleted_seed_row_is_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "delete from demo.settings where key = 'mode'")
    assert failures(run_verify(root, url))["demo.settings.seed_row"] == (
        'rows: have: [] want: [["mode", "on", "t"]] (missing rows [["mode", "on", "t"]])')


def test_dropped_and_changed_foreign_keys_are_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter table demo.items drop constraint items_owner_id_fkey")
    assert failures(run_verify(root, url))["demo.constraint.demo.items.items_owner_id_fkey"].startswith(
        "constraint demo.items.items_owner_id_fkey does not exist (want: FOREIGN KEY (owner_id) "
        "REFERENCES auth.users(id) ON DELETE CASCADE)")
    sql(url, "alter table demo.items add constraint items_owner_id_fkey foreign key (owner_id) references auth.users (id)")
    assert failures(run_verify(root, url))["demo.constraint.demo.items.items_owner_id_fkey"] == (
        "constraint demo.items.items_owner_id_fkey: definition: have: FOREIGN KEY (owner_id) REFERENCES "
        "auth.users(id) want: FOREIGN KEY (owner_id) REFERENCES auth.users(id) ON DELETE CASCADE")


def test_behaviour_check_passes_on_any_listed_sqlstate_and_names_them_all_when_it_fails(
        tmp_path: Path, empty_url: str, demo_snapshots: dict[str, str]) -> None:
    listed = CHECKS.replace('expect_error = "23505"', 'expect_error = ["23001", "23505"]')
    assert listed != CHECKS
    root = write_demo_project(tmp_path, demo_snapshots, checks=listed)
    engine.apply(load_settings(root, database_url=empty_url))
    assert by_id(run_verify(root, empty_url, writes=True))["demo.items.duplicate_name_rejected"].status == "pass"
    sql(empty_url, "alter table demo.items drop constraint items_owner_name_key")
    assert failures(run_verify(root, empty_url, writes=True))["demo.items.duplicate_name_rejected"] == (
        "The same name twice for one owner is rejected: have: succeeded (1 row(s)) want: error SQLSTATE 23001 or 23505"
    )


def test_dropped_and_disabled_triggers_are_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter table demo.items disable trigger items_touch")
    assert failures(run_verify(root, url))["demo.trigger.demo.items.items_touch"] == (
        "trigger demo.items.items_touch: enabled: have: disabled want: origin")
    sql(url, "drop trigger items_touch on demo.items")
    assert failures(run_verify(root, url))["demo.trigger.demo.items.items_touch"].startswith(
        "trigger demo.items.items_touch does not exist (want: CREATE TRIGGER items_touch BEFORE UPDATE ON demo.items")


def test_changed_missing_and_extra_columns_are_reported(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "alter table demo.items alter column name drop not null")
    sql(url, "alter table demo.settings drop column value")
    sql(url, "alter table demo.settings add column extra integer")
    report = run_verify(root, url)
    fails = failures(report)
    assert fails["demo.table.demo.items"] == "column demo.items.name: not_null: have: false want: true"
    assert fails["demo.table.demo.settings"].startswith("column demo.settings.value does not exist")
    assert warnings_of(report)["drift.column.demo.settings.extra"].startswith(
        "column demo.settings.extra exists in the database but no migration creates it")


def test_stray_policy_function_and_table_in_an_owned_schema_are_drift(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "create policy items_all on demo.items for all to anon using (true)")
    sql(url, "create function demo.helper() returns int language sql as 'select 1'")
    sql(url, "create table demo.scratch (id int)")
    sql(url, "create table public.app_owned (id int)")  # public is shared: an application's table is not drift
    warns = warnings_of(run_verify(root, url))
    assert set(warns) == {"drift.policy.demo.items.items_all", "drift.function.demo.helper()",
                          "drift.table.demo.scratch"}


def test_the_rls_matrix_with_writes_shows_an_owner_losing_access(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, "drop policy items_insert_own on demo.items")
    report = run_verify(root, url, writes=True)
    cell = by_id(report)["demo.rls.demo.items.owner.insert"]
    assert cell.status == "fail" and cell.cell == ("owner", "insert")
    assert cell.message.startswith("authenticated (owner) INSERT on demo.items: have: denied")
    assert "[SQLSTATE 42501]" in cell.actual
    assert failures(report)["demo.policy.demo.items.items_insert_own"].startswith(
        "policy demo.items.items_insert_own does not exist")


def test_pending_migration_fails_and_edited_applied_migration_warns(demo: tuple[Path, str]) -> None:
    root, url = demo
    demo_dir = root / "migrations" / "demo"
    (demo_dir / "0002_demo_more.sql").write_text("-- Demo: a second migration.\ncreate table demo.more (id int);\n")
    (demo_dir / "0002_demo_more.rollback.sql").write_text("-- Demo: undo.\ndrop table demo.more;\n")
    with (demo_dir / "0001_demo_items.sql").open("a") as fh:
        fh.write("-- edited after apply\n")
    report = run_verify(root, url)
    assert failures(report)["demo.migration.0002_demo_more"] == (
        "migration 0002_demo_more (migrations/demo/0002_demo_more.sql) is not applied: run `dbkit apply`; "
        "its objects and checks were not verified")
    assert warnings_of(report)["demo.migration.0001_demo_items"].startswith(
        "applied migration 0001_demo_items was edited after it was applied")
    assert report.migration_status == "0 applied, 1 pending, 1 changed since applied"


def test_missing_snapshot_fails_the_module(demo: tuple[Path, str]) -> None:
    root, url = demo
    (root / "migrations" / "demo" / "catalog.json").unlink()
    assert failures(run_verify(root, url))["demo.snapshot"].startswith("module demo has no catalog.json")


# ---------------------------------------------------------------- verify only reads


def test_read_only_verify_changes_no_row_sequence_or_statistic(demo: tuple[Path, str]) -> None:
    root, url = demo
    real_user = "5a7e0000-0000-4000-8000-000000000001"
    sql(url, f"insert into auth.users (id) values ('{real_user}')")
    sql(url, f"insert into demo.items (owner_id, name) values ('{real_user}', 'kept')")
    sql(url, "analyze demo.items")
    stats = "select reltuples, relpages from pg_class where oid = 'demo.items'::regclass"

    def state() -> tuple[object, ...]:
        with psycopg.connect(url) as conn:
            return (*row_counts_and_sequences(url), conn.execute(stats).fetchone())

    before = state()
    report = run_verify(root, url, module=None)
    assert not report.failed, failures(report)
    assert state() == before


def test_verify_passes_on_a_read_only_database(demo: tuple[Path, str]) -> None:
    root, url = demo
    sql(url, f'alter database "{url.rsplit("/", 1)[1]}" set default_transaction_read_only = on')
    report = run_verify(root, url, module=None)
    assert failures(report) == {} and warnings_of(report) == {}
    # with writes asked for, the writing checks meet the read-only setting and say so
    assert "read-only transaction [SQLSTATE 25006]" in failures(run_verify(root, url, writes=True))[
        "demo.items.duplicate_name_rejected"]


# ---------------------------------------------------------------- bad input and output


def test_malformed_check_file_exits_2_naming_file_and_key(tmp_path: Path, empty_url: str,
                                                           demo_snapshots: dict[str, str]) -> None:
    from demo_project import CHECKS

    root = write_demo_project(tmp_path, demo_snapshots, checks=CHECKS.replace("uses_index =", "uses_indx ="))
    result = run_dbkit("verify", url=empty_url, cwd=root)
    assert result.exit_code == 2
    assert "migrations/demo/0001_demo_items.verify.toml" in result.stderr
    assert "unknown key 'uses_indx' at plans.0" in result.stderr
    with pytest.raises(InputError):
        verify(load_settings(root, database_url=empty_url))


def test_unknown_module_exits_2(demo: tuple[Path, str]) -> None:
    root, url = demo
    result = run_dbkit("verify", "--module", "nope", url=url, cwd=root)
    assert result.exit_code == 2 and "unknown module 'nope'" in result.stderr


def test_failed_check_exits_1_after_writing_the_report(demo: tuple[Path, str], tmp_path: Path) -> None:
    root, url = demo
    sql(url, "drop index demo.idx_items_owner")
    out = tmp_path / "report.json"
    result = run_dbkit("verify", "--module", "demo", "--format", "json", "--output", str(out), url=url, cwd=root)
    assert result.exit_code == 1
    assert json.loads(out.read_text())["summary"]["result"] == "failed"
    assert "check(s) failed" in result.stderr


def test_password_never_appears_in_any_format(demo: tuple[Path, str], tmp_path: Path) -> None:
    root, url = demo
    secret = "s3cret-Sentinel"
    with_password = url.replace("://postgres@", f"://postgres:{secret}@")
    sql(url, "drop index demo.idx_items_owner")
    for fmt in ("text", "json", "junit", "markdown", "html"):
        out = tmp_path / f"r.{fmt}"
        result = run_dbkit("verify", "--module", "demo", "--format", fmt, "--output", str(out),
                           url=with_password, cwd=root)
        assert result.exit_code == 1, result.output
        assert secret not in out.read_text() and secret not in result.output
