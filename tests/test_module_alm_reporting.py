"""Module alm_reporting (seed 002): apply on empty and existing ALM databases, the
duplicate preflight, rollback that keeps the existing data, and verify's checks.

An "existing ALM database" is built here by hand: the two tables the document modifies,
with a shape that differs from dbkit's minimal definition (identity key, text key,
extra columns), holding rows. It is baselined through 0001_alm_base_tables as a real
one would be.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from helpers import REPO_ROOT, run_dbkit

MODULE = "alm_reporting"
BASE = "0001_alm_base_tables"
# The seed documents stand beside the repository (CI clones it next to shared/);
# they are not copied in, because seed 002 carries example credentials.
SEED = REPO_ROOT.parent / "shared" / "seeds" / "002_8e13d2378d04ed2c.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason=f"seed document {SEED} is not beside the repository")

EXISTING_ALM_TABLES = """
create schema alm_reporting;
create table alm_reporting.chronological_events (
    event_id bigint generated always as identity primary key,
    event_timestamp timestamptz not null,
    event_type text not null,
    description text,
    amount numeric(18, 4),
    source_transaction_id text
);
create table alm_reporting.daily_summary (
    summary_id serial primary key,
    summary_date date not null,
    opening_nav numeric,
    closing_nav numeric,
    total_pnl numeric
);
insert into alm_reporting.chronological_events (event_timestamp, event_type, description, amount, source_transaction_id)
values ('2025-07-17 14:30+00', 'TRADE', 'SPY put sold', 120.5, 'T-1001'),
       ('2025-07-17 16:00+00', 'FEE', 'commission', -1.25, 'T-1002'),
       ('2025-07-18 00:00+00', 'NAV', 'no broker id', null, null),
       ('2025-07-18 00:00+00', 'NAV', 'no broker id either', null, null);
insert into alm_reporting.daily_summary (summary_date, opening_nav, closing_nav, total_pnl)
values ('2025-07-17', 100000, 100119.25, 119.25), ('2025-07-18', 100119.25, 100119.25, 0);
"""

EXISTING_EVENTS = "select event_id, event_type, description, amount, source_transaction_id from alm_reporting.chronological_events order by event_id"
EXISTING_SUMMARIES = "select summary_id, summary_date, opening_nav, closing_nav, total_pnl from alm_reporting.daily_summary order by summary_id"


def _sql(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def _ok(*args: str, url: str) -> str:
    result = run_dbkit(*args, url=url)
    assert result.exit_code == 0, result.output
    return result.output


def _catalog(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything of schema alm_reporting a migration could change."""
    queries = {
        "relations": "select relname, relkind from pg_class where relnamespace = 'alm_reporting'::regnamespace order by 1",
        "columns": """select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
                        from pg_attribute a join pg_class c on c.oid = a.attrelid
                       where c.relnamespace = 'alm_reporting'::regnamespace and a.attnum > 0 and not a.attisdropped
                       order by 1, 2""",
        "constraints": """select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint
                           where connamespace = 'alm_reporting'::regnamespace order by 1, 2""",
        "triggers": """select tgrelid::regclass::text, tgname from pg_trigger
                        where not tgisinternal and tgrelid in (select oid from pg_class
                                                                where relnamespace = 'alm_reporting'::regnamespace)
                        order by 1, 2""",
        "functions": "select oid::regprocedure::text from pg_proc where pronamespace = 'alm_reporting'::regnamespace order by 1",
        "privileges": """select c.relname, a.grantee::regrole::text, a.privilege_type
                           from pg_class c,
                                aclexplode(coalesce(c.relacl, acldefault(case c.relkind when 'S' then 's' else 'r' end::"char",
                                                                         c.relowner))) a
                          where c.relnamespace = 'alm_reporting'::regnamespace and c.relkind in ('r', 'S')
                          order by 1, 2, 3""",
    }
    return {name: _sql(url, query) for name, query in queries.items()}


def _existing_alm_database(url: str, extra_sql: str = "") -> None:
    """Platform applied, the ALM tables with rows created by hand, 0001 baselined."""
    _ok("apply", "--module", "platform", url=url)
    _sql(url, EXISTING_ALM_TABLES + extra_sql)
    _ok("baseline", "--module", MODULE, "--through", BASE, url=url)


def _verify(url: str) -> dict[str, Any]:
    result = run_dbkit("verify", "--module", MODULE, "--format", "json", "--with-writes", url=url)
    report: dict[str, Any] = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


def _failed_checks(report: dict[str, Any]) -> list[str]:
    return [c["id"] for c in _checks(report) if c["status"] == "fail"]


def _checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    if "checks" in report:
        return list(report["checks"])
    return [c for module in report["modules"] for c in module["checks"]]


# On an existing ALM database the two pre-existing tables are the application's own (0001 is
# baselined): verify checks them only for what the module's SQL uses of them, and does not
# compare them with dbkit's minimal definitions; every check of what the document adds must pass.
PREREQUISITE_CHECKS = {
    "alm_reporting.prerequisite.table.alm_reporting.chronological_events",
    "alm_reporting.prerequisite.table.alm_reporting.daily_summary",
}


def _assert_document_checks_pass(report: dict[str, Any]) -> None:
    assert _failed_checks(report) == []
    assert [c["id"] for c in _checks(report) if c["status"] == "warn"] == []
    ids = {c["id"] for c in _checks(report)}
    assert PREREQUISITE_CHECKS <= ids, sorted(PREREQUISITE_CHECKS - ids)


def _document_scripts() -> list[str]:
    """The document's four SQL files (Steps 2-5), verbatim."""
    blocks = re.findall(r"```sql\n(.*?)```", SEED.read_text(encoding="utf-8"), re.S)
    scripts = [b for b in blocks if "/01_backend/alm/sql/0" in b]
    assert len(scripts) == 4
    return scripts


def test_apply_on_empty_database_creates_the_module_and_verify_passes(empty_url: str) -> None:
    _ok("apply", url=empty_url)

    report = _verify(empty_url)

    assert report["exit_code"] == 0, _failed_checks(report)
    assert [c["id"] for c in _checks(report) if c["kind"] == "drift"] == []
    ids = {c["id"] for c in _checks(report)}
    assert {"alm.test1.tables_created", "alm.test2.unique_constraints", "alm.test3.duplicate_import_date_rejected",
            "alm.checklist.trigger_updates_daily_summary_last_updated",
            "alm.checklist.trigger_updates_chronological_events_last_updated"} <= ids
    assert _sql(empty_url, "select process_name, current_state from alm_reporting.processing_status") == [
        ("ALM_DAILY_AUTOMATION", "READY")
    ]


def test_apply_on_existing_alm_database_keeps_rows_and_adds_the_keys(empty_url: str) -> None:
    _existing_alm_database(empty_url)
    events_before = _sql(empty_url, EXISTING_EVENTS)
    summaries_before = _sql(empty_url, EXISTING_SUMMARIES)

    _ok("apply", "--module", MODULE, url=empty_url)

    assert _sql(empty_url, EXISTING_EVENTS) == events_before
    assert _sql(empty_url, EXISTING_SUMMARIES) == summaries_before
    assert _sql(empty_url, "select count(*) from alm_reporting.daily_summary where last_updated is null") == [(0,)]
    _assert_document_checks_pass(_verify(empty_url))


def test_apply_without_baseline_on_existing_alm_database_leaves_its_tables_alone(empty_url: str) -> None:
    _ok("apply", "--module", "platform", url=empty_url)
    _sql(empty_url, EXISTING_ALM_TABLES)
    events_before = _sql(empty_url, EXISTING_EVENTS)
    summaries_before = _sql(empty_url, EXISTING_SUMMARIES)

    _ok("apply", "--module", MODULE, url=empty_url)

    assert _sql(empty_url, EXISTING_EVENTS) == events_before
    assert _sql(empty_url, EXISTING_SUMMARIES) == summaries_before
    assert _sql(empty_url, "select attname from pg_attribute where attrelid = 'alm_reporting.daily_summary'::regclass "
                           "and attnum > 0 order by attnum") == [
        ("summary_id",), ("summary_date",), ("opening_nav",), ("closing_nav",), ("total_pnl",), ("last_updated",)
    ]


@needs_seed
def test_migrations_are_safe_after_the_documents_scripts_ran_by_hand(empty_url: str) -> None:
    _existing_alm_database(empty_url)
    for script in _document_scripts():
        _sql(empty_url, script)
    before = _catalog(empty_url)

    _ok("apply", "--module", MODULE, url=empty_url)

    after = _catalog(empty_url)
    # dbkit adds only what the document lacks (its CHECKs and functions); nothing is duplicated.
    assert after["triggers"] == before["triggers"]
    assert set(before["constraints"]) <= set(after["constraints"])
    added = set(after["constraints"]) - set(before["constraints"])
    assert {c[1] for c in added} == {"import_history_import_type_check", "import_history_status_check",
                                     "processed_files_processing_status_check"}
    assert _sql(empty_url, "select count(*) from alm_reporting.processing_status") == [(1,)]
    _assert_document_checks_pass(_verify(empty_url))


@needs_seed
def test_migrations_are_safe_after_a_partial_run_of_the_documents_scripts(empty_url: str) -> None:
    _existing_alm_database(empty_url)
    _sql(empty_url, _document_scripts()[0])  # only Step 2 ran before it failed

    _ok("apply", "--module", MODULE, url=empty_url)

    _assert_document_checks_pass(_verify(empty_url))


def test_every_alm_migration_reruns_on_a_migrated_database_without_change(migrated_url: str) -> None:
    from dbkit.config import load_settings
    from dbkit.project import load_project
    from dbkit.statements import split

    project = load_project(load_settings(REPO_ROOT))
    before = _catalog(migrated_url)
    for migration in project.module(MODULE).migrations:
        if migration.transactional:
            _sql(migrated_url, migration.expanded().text)
        else:  # CREATE INDEX CONCURRENTLY and the like: one statement at a time, as dbkit runs them
            for statement in split(migration.expanded()).items:
                _sql(migrated_url, statement.text)

    assert _catalog(migrated_url) == before


def test_duplicate_keys_stop_apply_with_count_examples_and_nothing_changed(empty_url: str) -> None:
    _existing_alm_database(empty_url, extra_sql="""
        insert into alm_reporting.chronological_events (event_timestamp, event_type, source_transaction_id)
        select now(), 'TRADE', 'T-DUP-' || (g % 3) from generate_series(1, 7) g;
        insert into alm_reporting.daily_summary (summary_date) values ('2025-07-17');
    """)
    catalog_before = _catalog(empty_url)
    events_before = _sql(empty_url, EXISTING_EVENTS)

    result = run_dbkit("apply", "--module", MODULE, url=empty_url)

    assert result.exit_code == 1, result.output
    assert "0002_alm_duplicate_prevention" in result.output
    assert "alm_reporting.chronological_events has 3 duplicate source_transaction_id value(s)" in result.output
    assert "'T-DUP-1' (3 rows)" in result.output and "'T-DUP-0' (2 rows)" in result.output
    assert "alm_reporting.daily_summary has 1 duplicate summary_date value(s), e.g. '2025-07-17' (2 rows)" in result.output
    assert "Nothing was changed" in result.output
    assert _catalog(empty_url) == catalog_before
    assert _sql(empty_url, EXISTING_EVENTS) == events_before
    status = json.loads(run_dbkit("status", "--format", "json", url=empty_url).stdout)
    states = {m["id"]: m["state"] for module in status["modules"] for m in module["migrations"]}
    assert states[BASE] == "applied"
    assert states["0002_alm_duplicate_prevention"] == "pending"


def test_preflight_lists_at_most_five_examples(empty_url: str) -> None:
    _existing_alm_database(empty_url, extra_sql="""
        insert into alm_reporting.chronological_events (event_timestamp, event_type, source_transaction_id)
        select now(), 'TRADE', 'K' || lpad((g % 9)::text, 2, '0') from generate_series(1, 18) g;
    """)

    result = run_dbkit("apply", "--module", MODULE, url=empty_url)

    assert result.exit_code == 1
    assert "9 duplicate source_transaction_id value(s)" in result.output
    assert len(re.findall(r"'K\d\d' \(2 rows\)", result.output)) == 5


def test_rollback_to_baseline_keeps_existing_rows(empty_url: str) -> None:
    _existing_alm_database(empty_url)
    catalog_before = _catalog(empty_url)
    events_before = _sql(empty_url, EXISTING_EVENTS)
    summaries_before = _sql(empty_url, EXISTING_SUMMARIES)
    _ok("apply", "--module", MODULE, url=empty_url)
    _sql(empty_url, "select alm_reporting.upsert_daily_summaries('[{\"summary_date\": \"2025-07-19\", \"closing_nav\": 1}]')")
    _sql(empty_url, "delete from alm_reporting.daily_summary where summary_date = '2025-07-19'")

    _ok("rollback", "--module", MODULE, "--to", BASE, url=empty_url)

    assert _sql(empty_url, EXISTING_EVENTS) == events_before
    assert _sql(empty_url, EXISTING_SUMMARIES) == summaries_before
    assert _catalog(empty_url) == catalog_before
    # the triggers went with (before) the column they write: updates work again
    _sql(empty_url, "update alm_reporting.daily_summary set total_pnl = 1 where summary_date = '2025-07-17'")


def test_rollback_removes_an_untouched_default_row_without_force(migrated_url: str) -> None:
    _ok("rollback", "--module", MODULE, "--to", "0003_alm_import_history", url=migrated_url)

    assert _sql(migrated_url, "select to_regclass('alm_reporting.processing_status')") == [(None,)]


def test_rollback_keeps_a_used_default_row_and_asks_for_force(migrated_url: str) -> None:
    _sql(migrated_url, "select alm_reporting.start_import('2025-07-18'); select alm_reporting.fail_import('2025-07-18', 'x')")
    _sql(migrated_url, "delete from alm_reporting.import_history")

    result = run_dbkit("rollback", "--module", MODULE, "--to", "0003_alm_import_history", url=migrated_url)

    assert result.exit_code != 0
    assert "alm_reporting.processing_status (1 row)" in result.output
    assert _sql(migrated_url, "select error_count from alm_reporting.processing_status") == [(1,)]


def test_rollback_all_leaves_no_alm_object(migrated_url: str) -> None:
    _ok("rollback", "--module", MODULE, "--all", url=migrated_url)

    assert _sql(migrated_url, "select count(*) from pg_namespace where nspname = 'alm_reporting'") == [(0,)]
    assert _sql(migrated_url, "select count(*) from pg_proc where proname = 'update_last_updated_column'") == [(1,)]


@pytest.mark.parametrize(
    ("damage", "check_id"),
    [
        ("alter table alm_reporting.chronological_events drop constraint uk_chronological_events_transaction",
         "alm.checklist.duplicate_transaction_rejected"),
        ("alter table alm_reporting.daily_summary drop constraint uk_daily_summary_date",
         "alm.checklist.duplicate_summary_date_rejected"),
        ("drop trigger update_daily_summary_last_updated on alm_reporting.daily_summary",
         "alm.checklist.trigger_updates_daily_summary_last_updated"),
        ("drop trigger update_chronological_events_last_updated on alm_reporting.chronological_events",
         "alm.checklist.trigger_updates_chronological_events_last_updated"),
        ("alter table alm_reporting.import_history drop constraint import_history_import_date_key",
         "alm.test3.duplicate_import_date_rejected"),
        ("delete from alm_reporting.processing_status", "alm.processing_status.default_row"),
        ("grant select on alm_reporting.import_history to anon; grant usage on schema alm_reporting to anon",
         "alm.privileges.anon_cannot_read_import_history"),
    ],
)
def test_verify_catches_a_removed_guarantee(migrated_url: str, damage: str, check_id: str) -> None:
    _sql(migrated_url, damage)

    report = _verify(migrated_url)

    assert report["exit_code"] == 1
    assert check_id in _failed_checks(report)


def test_document_test3_duplicate_import_date_fails(migrated_url: str) -> None:
    _sql(migrated_url, """insert into alm_reporting.import_history (import_date, status, files_processed, records_imported)
                          values ('2025-07-19', 'SUCCESS', '["NAV_MTD.xml", "Trades_MTD.xml"]'::jsonb, 150)""")

    with pytest.raises(psycopg.errors.UniqueViolation):
        _sql(migrated_url, "insert into alm_reporting.import_history (import_date, status) values ('2025-07-19', 'SUCCESS')")


@needs_seed
def test_seed_credentials_appear_in_no_module_file() -> None:
    secret = re.search(r"# Password: (\S+)", SEED.read_text(encoding="utf-8"))
    assert secret is not None
    files = [*Path(REPO_ROOT, "migrations", MODULE).iterdir(), *Path(REPO_ROOT, "sql", "functions").glob("alm_reporting.*")]
    # compare without letting pytest print the value on failure
    leaked = [file.name for file in files if secret.group(1) in file.read_text(encoding="utf-8")]
    assert leaked == []
