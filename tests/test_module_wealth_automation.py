"""Module wealth_automation (seeds 000 and 001): migrations, baseline, verify, rollback, RLS.

The scheduler's functions and their concurrency are in
test_module_wealth_automation_scheduler.py; the seed helpers below are shared with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from dbkit.identity import Identity, act_as
from helpers import REPO_ROOT, run_dbkit

MODULE = "wealth_automation"
TABLES = (
    "auto_invest_rules", "rebalancing_rules", "rebalancing_executions", "trigger_orders",
    "notification_preferences", "notification_logs", "in_app_notifications", "automation_execution_logs",
)
PREREQUISITES = ("users", "clients", "products", "goals")
# The seed documents stand beside the repository (CI clones it next to shared/).
SEED = REPO_ROOT.parent / "shared" / "seeds" / "000_92160fda6d93ffff.txt"

USER_A = "c0000000-0000-4000-8000-00000000000a"
USER_B = "c0000000-0000-4000-8000-00000000000b"
CLIENT_A = "c1000000-0000-4000-8000-00000000000a"
CLIENT_B = "c1000000-0000-4000-8000-00000000000b"
SCHEME_1 = "c2000000-0000-4000-8000-000000000001"
SCHEME_2 = "c2000000-0000-4000-8000-000000000002"


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=autocommit)


def seed_people(conn: psycopg.Connection[Any]) -> None:
    """Two logins (A, B), each with one client, and two schemes."""
    conn.execute("insert into auth.users (id) values (%s), (%s)", (USER_A, USER_B))
    conn.execute("insert into public.users (id) values (%s), (%s)", (USER_A, USER_B))
    conn.execute(
        "insert into public.clients (id, user_id, full_name) values (%s, %s, 'Client A'), (%s, %s, 'Client B')",
        (CLIENT_A, USER_A, CLIENT_B, USER_B),
    )
    conn.execute(
        "insert into public.products (id, scheme_code, name) values (%s, 'S1', 'Scheme 1'), (%s, 'S2', 'Scheme 2')",
        (SCHEME_1, SCHEME_2),
    )


def add_rule(conn: psycopg.Connection[Any], client: str, *, frequency: str = "Monthly",
             start: str = "2025-01-31", due: str | None = None, **extra: Any) -> str:
    cols = {"client_id": client, "scheme_id": SCHEME_1, "amount": 1000, "frequency": frequency,
            "start_date": start, "next_execution_date": due or start, **extra}
    names = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    row = conn.execute(
        f"insert into public.auto_invest_rules ({names}) values ({marks}) returning id::text",  # noqa: S608
        tuple(cols.values()),
    ).fetchone()
    assert row is not None
    return str(row[0])


@contextmanager
def as_role(conn: psycopg.Connection[Any], role: str, sub: str | None = None) -> Iterator[psycopg.Cursor[Any]]:
    """A transaction (rolled back) running as ``role`` with JWT claims for ``sub``."""
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        act_as(cur, Identity(role, sub))
        yield cur


def catalog_snapshot(url: str) -> set[str]:
    """Every object a module could leave behind in public (and auth)."""
    with connect(url) as conn:
        rows = conn.execute(
            """
            select 'rel ' || c.oid::regclass::text || ' ' || c.relkind::text
              from pg_class c where c.relnamespace in ('public'::regnamespace, 'auth'::regnamespace)
            union all
            select 'proc ' || p.oid::regprocedure::text
              from pg_proc p where p.pronamespace in ('public'::regnamespace, 'auth'::regnamespace)
            union all
            select 'type ' || t.typname from pg_type t where t.typnamespace = 'public'::regnamespace
            union all
            select 'policy ' || tablename || '.' || policyname from pg_policies
            union all
            select 'trigger ' || tgname from pg_trigger where not tgisinternal
            union all
            select 'constraint ' || conname from pg_constraint
             where connamespace in ('public'::regnamespace, 'auth'::regnamespace)
            """
        ).fetchall()
    return {r[0] for r in rows}


def failed_checks(url: str, *extra: str) -> list[dict[str, Any]]:
    result = run_dbkit("verify", "--module", MODULE, "--format", "json", *extra, url=url)
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert result.exit_code == (1 if failed else 0), result.stderr
    return failed


# ---------------------------------------------------------------- apply and verify

def test_apply_on_empty_database_creates_the_eight_tables(empty_url: str) -> None:
    result = run_dbkit("apply", "--module", MODULE, url=empty_url)
    assert result.exit_code == 0, result.output
    with connect(empty_url) as conn:
        # Seed 000, verification query 1 (tables from information_schema).
        rows = conn.execute(
            "select distinct table_name from information_schema.columns "
            "where table_schema = 'public' and table_name = any(%s)",
            (list(TABLES),),
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(TABLES)


def test_verify_passes_on_a_freshly_applied_module(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", MODULE, url=empty_url).exit_code == 0
    assert failed_checks(empty_url) == []


def test_every_foreign_key_column_is_indexed(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        unindexed = conn.execute(
            """
            select c.conrelid::regclass::text, c.conname
              from pg_constraint c
             where c.contype = 'f' and c.conrelid = any(%s::regclass[])
               and not exists (
                   select 1 from pg_index i
                    where i.indrelid = c.conrelid and i.indpred is null
                      and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] = c.conkey)
            """,
            ([f"public.{t}" for t in TABLES + PREREQUISITES],),
        ).fetchall()
        fk_count = conn.execute(
            "select count(*) from pg_constraint where contype = 'f' and conrelid = any(%s::regclass[])",
            ([f"public.{t}" for t in TABLES + PREREQUISITES],),
        ).fetchone()
    assert fk_count is not None and fk_count[0] >= 15
    assert unindexed == []


def test_every_module_table_has_rls_enabled(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        rows = conn.execute(
            "select tablename from pg_tables where schemaname = 'public' and tablename = any(%s) and not rowsecurity",
            (list(TABLES + PREREQUISITES),),
        ).fetchall()
    assert rows == []


@pytest.mark.parametrize(
    ("damage", "check_id"),
    [
        ("drop index public.idx_auto_invest_rules_due", "wealth_automation.index.public.idx_auto_invest_rules_due"),
        (
            "alter table public.trigger_orders drop constraint trigger_orders_scheme_id_fkey",
            "wealth_automation.constraint.public.trigger_orders.trigger_orders_scheme_id_fkey",
        ),
        (
            "drop policy auto_invest_rules_select_own on public.auto_invest_rules",
            "wealth_automation.policy.public.auto_invest_rules.auto_invest_rules_select_own",
        ),
        ("drop table public.notification_logs", "wealth_automation.table.public.notification_logs"),
        (
            "alter table public.auto_invest_rules drop constraint auto_invest_rules_frequency_check",
            "wealth_automation.constraint.public.auto_invest_rules.auto_invest_rules_frequency_check",
        ),
    ],
    ids=["index", "foreign_key", "policy", "table", "check"],
)
def test_verify_fails_when_an_object_is_removed_by_hand(empty_url: str, damage: str, check_id: str) -> None:
    assert run_dbkit("apply", "--module", MODULE, url=empty_url).exit_code == 0
    with connect(empty_url) as conn:
        conn.execute(damage)
    failed = failed_checks(empty_url)
    assert check_id in {c["id"] for c in failed}


# ---------------------------------------------------------------- baseline

APP_TABLES = """
create table public.users (id uuid primary key, email text not null, display_name text);
create table public.clients (
    id uuid primary key, user_id uuid references public.users (id), full_name text not null, pan text unique
);
create table public.products (
    id uuid primary key, scheme_code text not null unique, name text not null, amc text
);
create table public.goals (
    id uuid primary key, client_id uuid not null references public.clients (id), name text not null,
    target_amount numeric not null
);
"""


def test_apply_after_baseline_keeps_existing_prerequisite_tables(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", "platform", url=empty_url).exit_code == 0
    with connect(empty_url) as conn:
        conn.execute(APP_TABLES)
        conn.execute("insert into auth.users (id) values (%s)", (USER_A,))
        conn.execute("insert into public.users (id, email) values (%s, 'a@example.com')", (USER_A,))
        conn.execute(
            "insert into public.clients (id, user_id, full_name, pan) values (%s, %s, 'Existing', 'ABCDE1234F')",
            (CLIENT_A, USER_A),
        )
        conn.execute("insert into public.products (id, scheme_code, name) values (%s, 'S1', 'Scheme 1')", (SCHEME_1,))

    # Without baseline, 0001 collides with the app's tables and nothing is applied.
    refused = run_dbkit("apply", "--module", MODULE, url=empty_url)
    assert refused.exit_code == 1
    with connect(empty_url) as conn:
        assert conn.execute("select to_regclass('public.auto_invest_rules')").fetchone() == (None,)

    baselined = run_dbkit("baseline", "--module", MODULE, "--through", "0001_wealth_prerequisites", url=empty_url)
    assert baselined.exit_code == 0, baselined.output
    applied = run_dbkit("apply", "--module", MODULE, url=empty_url)
    assert applied.exit_code == 0, applied.output
    assert "0001_wealth_prerequisites" not in applied.stdout

    with connect(empty_url) as conn:
        # The app's own columns and rows are untouched ...
        row = conn.execute("select pan from public.clients where id = %s", (CLIENT_A,)).fetchone()
        assert row == ("ABCDE1234F",)
        untouched = conn.execute(
            "select count(*) from pg_tables where schemaname = 'public' and tablename = any(%s) and rowsecurity",
            (list(PREREQUISITES),),
        ).fetchone()
        assert untouched == (0,)
        # ... their privileges too (0011 revokes and grants only on tables 0001 created) ...
        granted = conn.execute(
            "select count(*) from pg_class where oid = any(%s::regclass[]) and relacl is not null",
            ([f"public.{t}" for t in PREREQUISITES],),
        ).fetchone()
        assert granted == (0,)
        # ... and the automation tables reference them.
        add_rule(conn, CLIENT_A)
        with as_role(conn, "service_role") as cur:
            assert cur.execute("select count(*) from public.auto_invest_rules").fetchone() == (1,)
    status = json.loads(run_dbkit("status", "--format", "json", url=empty_url).stdout)
    module = next(m for m in status["modules"] if m["name"] == MODULE)
    states = {m["id"]: (m["state"], m["baselined"]) for m in module["migrations"]}
    assert states["0001_wealth_prerequisites"] == ("applied", True)
    assert states["0007_wealth_scheduler_functions"] == ("applied", False)
    assert module["pending"] == []


# ---------------------------------------------------------------- rollback

def test_rollback_all_leaves_nothing_of_the_module(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", "platform", url=empty_url).exit_code == 0
    before = catalog_snapshot(empty_url)
    assert run_dbkit("apply", "--module", MODULE, url=empty_url).exit_code == 0
    assert len(catalog_snapshot(empty_url) - before) > 100
    result = run_dbkit("rollback", "--module", MODULE, "--all", url=empty_url)
    assert result.exit_code == 0, result.output
    assert catalog_snapshot(empty_url) == before


def test_rollback_of_tables_holding_rows_needs_force(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", MODULE, url=empty_url).exit_code == 0
    with connect(empty_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A)
    refused = run_dbkit("rollback", "--module", MODULE, "--all", url=empty_url)
    assert refused.exit_code != 0
    with connect(empty_url) as conn:
        assert conn.execute("select count(*) from public.auto_invest_rules").fetchone() == (1,)
    forced = run_dbkit("rollback", "--module", MODULE, "--all", "--force", url=empty_url)
    assert forced.exit_code == 0, forced.output
    with connect(empty_url) as conn:
        assert conn.execute("select to_regclass('public.auto_invest_rules')").fetchone() == (None,)


# ---------------------------------------------------------------- constraints

@pytest.mark.parametrize(
    ("column", "value"),
    [("frequency", "Hourly"), ("frequency", "monthly"), ("trigger_type", "Lunar Phase"), ("amount", 0),
     ("status", "Running")],
)
def test_invalid_auto_invest_rule_is_rejected(migrated_url: str, column: str, value: Any) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        with pytest.raises(psycopg.errors.CheckViolation):
            add_rule(conn, CLIENT_A, **{column: value})


def test_each_documented_frequency_is_accepted(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        for frequency in ("Daily", "Weekly", "Monthly", "Quarterly"):
            add_rule(conn, CLIENT_A, frequency=frequency)
        assert conn.execute("select count(*) from public.auto_invest_rules").fetchone() == (4,)


def test_target_allocation_must_sum_to_100(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        conn.execute(
            "insert into public.rebalancing_rules (client_id, target_allocation) values (%s, %s)",
            (CLIENT_A, '{"Equity": 70, "Debt": 30}'),
        )
        for bad in ('{"Equity": 70, "Debt": 20}', '{"Equity": "70", "Debt": 30}', "{}", "[60, 40]"):
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(
                    "insert into public.rebalancing_rules (client_id, target_allocation) values (%s, %s)",
                    (CLIENT_A, bad),
                )


def test_unknown_notification_channel_and_time_zone_are_rejected(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into public.notification_preferences (user_id, event, channels) values (%s, 'e', %s)",
                (USER_A, ["Email", "Fax"]),
            )
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute(
                "insert into public.notification_preferences (user_id, event, time_zone) values (%s, 'e', 'Nowhere/City')",
                (USER_A,),
            )


def test_deleting_a_client_removes_its_rules_but_a_scheme_in_use_cannot_be_deleted(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A)
        # ON DELETE RESTRICT: 23503 up to PostgreSQL 17, 23001 (restrict_violation) from 18 on.
        refused = (psycopg.errors.RestrictViolation if conn.info.server_version >= 180000
                   else psycopg.errors.ForeignKeyViolation)
        with pytest.raises(refused):
            conn.execute("delete from public.products where id = %s", (SCHEME_1,))
        conn.execute("delete from public.clients where id = %s", (CLIENT_A,))
        assert conn.execute("select count(*) from public.auto_invest_rules").fetchone() == (0,)


def test_updated_at_is_refreshed_on_update(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A)
        conn.execute("update public.auto_invest_rules set updated_at = '2000-01-01' where id = %s", (rule,))
        row = conn.execute(
            "select updated_at > '2000-01-02' from public.auto_invest_rules where id = %s", (rule,)
        ).fetchone()
    assert row == (True,)


# ---------------------------------------------------------------- RLS

def _seed_rules_for_both(conn: psycopg.Connection[Any]) -> None:
    seed_people(conn)
    add_rule(conn, CLIENT_A)
    add_rule(conn, CLIENT_B)
    conn.execute(
        "insert into public.trigger_orders (client_id, scheme_id, trigger_type, trigger_condition, trigger_value,"
        " order_type, amount) values (%s, %s, 'NAV', 'Less Than', 100, 'Purchase', 500),"
        " (%s, %s, 'NAV', 'Less Than', 100, 'Purchase', 500)",
        (CLIENT_A, SCHEME_1, CLIENT_B, SCHEME_1),
    )
    conn.execute(
        "insert into public.rebalancing_rules (client_id, target_allocation) values (%s, %s), (%s, %s)",
        (CLIENT_A, '{"Equity": 60, "Debt": 40}', CLIENT_B, '{"Equity": 60, "Debt": 40}'),
    )


@pytest.mark.parametrize("table", ["auto_invest_rules", "trigger_orders", "rebalancing_rules"])
def test_client_sees_own_rules_not_another_clients(migrated_url: str, table: str) -> None:
    with connect(migrated_url) as conn:
        _seed_rules_for_both(conn)
        with as_role(conn, "authenticated", USER_A) as cur:
            rows = cur.execute(f"select client_id::text from public.{table}").fetchall()  # noqa: S608
        assert rows == [(CLIENT_A,)]
        with as_role(conn, "authenticated", USER_B) as cur:
            rows = cur.execute(f"select client_id::text from public.{table}").fetchall()  # noqa: S608
        assert rows == [(CLIENT_B,)]


@pytest.mark.parametrize("table", TABLES + PREREQUISITES)
def test_anon_sees_nothing(migrated_url: str, table: str) -> None:
    with connect(migrated_url) as conn:
        _seed_rules_for_both(conn)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "anon") as cur:
            cur.execute(f"select * from public.{table}")  # noqa: S608


def test_client_cannot_change_another_clients_rule_or_its_own(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        _seed_rules_for_both(conn)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "authenticated", USER_A) as cur:
            cur.execute("update public.auto_invest_rules set amount = 1 where client_id = %s", (CLIENT_B,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "authenticated", USER_A) as cur:
            cur.execute("delete from public.auto_invest_rules where client_id = %s", (CLIENT_A,))


def test_stranger_updates_no_notification_preferences(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        conn.execute("insert into public.notification_preferences (user_id, event) values (%s, 'e')", (USER_A,))
        with as_role(conn, "authenticated", USER_B) as cur:
            cur.execute("update public.notification_preferences set enabled = false where user_id = %s", (USER_A,))
            assert cur.rowcount == 0
        with as_role(conn, "authenticated", USER_A) as cur:
            rows = cur.execute(
                "update public.notification_preferences set enabled = false where user_id = %s returning event",
                (USER_A,),
            ).fetchall()
            assert rows == [("e",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "authenticated", USER_B) as cur:
            cur.execute(
                "insert into public.notification_preferences (user_id, event) values (%s, 'x')", (USER_A,)
            )


def test_user_marks_own_in_app_notification_read_but_cannot_rewrite_it(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        conn.execute(
            "insert into public.in_app_notifications (user_id, event, title, message) values (%s, 'e', 't', 'm')",
            (USER_A,),
        )
        with as_role(conn, "authenticated", USER_A) as cur:
            cur.execute("update public.in_app_notifications set read_at = now() returning id")
            assert cur.rowcount == 1
        with as_role(conn, "authenticated", USER_B) as cur:
            assert cur.execute("select count(*) from public.in_app_notifications").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "authenticated", USER_A) as cur:
            cur.execute("update public.in_app_notifications set message = 'forged'")


@pytest.mark.parametrize("table", ["notification_logs", "automation_execution_logs"])
def test_logs_are_service_role_only(migrated_url: str, table: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "authenticated", USER_A) as cur:
            cur.execute(f"select * from public.{table}")  # noqa: S608
        with as_role(conn, "service_role") as cur:
            cur.execute(f"select count(*) from public.{table}")  # noqa: S608


# ---------------------------------------------------------------- the document's contracts (issue 12)

def test_quiet_hours_is_readable_and_writable_as_the_document_describes(migrated_url: str) -> None:
    # Seed 000: notification_preferences.quiet_hours, "time range when notifications should be
    # suppressed". The owner writes it; dbkit's start/end columns and the delivery check follow.
    with connect(migrated_url) as conn:
        seed_people(conn)
        with as_role(conn, "authenticated", USER_A) as cur:
            cur.execute("insert into public.notification_preferences (user_id, event, channels, quiet_hours, enabled) "
                        "values (%s, 'Order Executed', array['Email', 'In-App'], %s, true)",
                        (USER_A, '{"start": "22:00", "end": "07:00"}'))
            written = cur.execute("select quiet_hours, quiet_hours_start::text, quiet_hours_end::text "
                                  "from public.notification_preferences").fetchall()
            cur.execute("update public.notification_preferences set quiet_hours_start = '23:15', quiet_hours_end = '06:30'")
            moved = cur.execute("select quiet_hours from public.notification_preferences").fetchall()
            cur.execute("insert into public.notification_preferences (user_id, event, quiet_hours) "
                        "values (%s, 'Order Failed', null)", (USER_A,))
            none = cur.execute("select quiet_hours, quiet_hours_start from public.notification_preferences "
                               "where event = 'Order Failed'").fetchall()
        assert written == [({"start": "22:00", "end": "07:00"}, "22:00:00", "07:00:00")]
        assert moved == [({"start": "23:15", "end": "06:30"},)]
        assert none == [(None, None)]


def test_quiet_hours_written_by_the_document_suppress_delivery(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        conn.execute("insert into public.notification_preferences (user_id, event, channels, quiet_hours) "
                     "values (%s, 'Order Executed', array['Email', 'In-App'], %s)",
                     (USER_A, '{"start": "22:00", "end": "07:00"}'))
        row = conn.execute(
            "select public.should_send_automation_notification(%s, 'Order Executed', 'Email', '2025-03-01 23:30+00'),"
            "       public.should_send_automation_notification(%s, 'Order Executed', 'In-App', '2025-03-01 23:30+00'),"
            "       public.should_send_automation_notification(%s, 'Order Executed', 'Email', '2025-03-01 07:00+00')",
            (USER_A, USER_A, USER_A)).fetchone()
    assert row == (False, True, True)


@pytest.mark.parametrize(("quiet_hours", "extra"), [
    ('{"start": "22:00"}', {}),
    ('{"start": "22:00", "end": "07:00", "zone": "UTC"}', {}),
    ('{"start": "22:00", "end": "24:30"}', {}),
    ('{"start": "10pm", "end": "7am"}', {}),
    ('"22:00-07:00"', {}),
    ('{"start": "22:00", "end": "07:00"}', {"quiet_hours_start": "21:00", "quiet_hours_end": "07:00"}),
], ids=["no end", "unknown key", "no such time", "not HH:MM", "a string", "disagrees with start/end"])
def test_malformed_or_contradictory_quiet_hours_are_refused(migrated_url: str, quiet_hours: str,
                                                           extra: dict[str, str]) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        cols = {"user_id": USER_A, "event": "e", "quiet_hours": quiet_hours, **extra}
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute(f"insert into public.notification_preferences ({', '.join(cols)}) "  # noqa: S608
                         f"values ({', '.join(['%s'] * len(cols))})", tuple(cols.values()))


def test_quiet_hours_cannot_drift_from_start_and_end_even_without_the_trigger(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        conn.execute("alter table public.notification_preferences disable trigger sync_notification_preferences_quiet_hours")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("insert into public.notification_preferences (user_id, event, quiet_hours, quiet_hours_start, "
                         "quiet_hours_end) values (%s, 'e', %s, '21:00', '07:00')",
                         (USER_A, '{"start": "22:00", "end": "07:00"}'))


def test_existing_quiet_hours_are_backfilled_without_touching_updated_at(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", MODULE, "--to", "0007_wealth_scheduler_functions", url=empty_url).exit_code == 0
    with connect(empty_url) as conn:
        seed_people(conn)
        conn.execute("insert into public.notification_preferences (user_id, event, quiet_hours_start, quiet_hours_end, "
                     "updated_at) values (%s, 'with', '22:00:30', '07:00', '2020-01-01'), "
                     "(%s, 'without', null, null, '2020-01-01')", (USER_A, USER_A))
    assert run_dbkit("apply", "--module", MODULE, url=empty_url).exit_code == 0
    with connect(empty_url) as conn:
        rows = conn.execute("select event, quiet_hours, updated_at::date::text from public.notification_preferences "
                            "order by event").fetchall()
    assert rows == [("with", {"start": "22:00:30", "end": "07:00"}, "2020-01-01"), ("without", None, "2020-01-01")]


def test_rule_created_without_next_execution_date_is_due_on_its_start_date(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        with as_role(conn, "service_role") as cur:
            rows = cur.execute(
                "insert into public.auto_invest_rules (client_id, scheme_id, amount, frequency, start_date) "
                "values (%s, %s, 5000, 'Monthly', '2025-03-15') returning next_execution_date::text",
                (CLIENT_A, SCHEME_1)).fetchall()
            claimed = cur.execute("select period_date::text from public.claim_due_auto_invest_rules("
                                  "'2025-03-15 09:00+00', 10, 'w')").fetchall()
    assert rows == [("2025-03-15",)]
    assert claimed == [("2025-03-15",)]


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed document {SEED} is not beside the repository")
def test_the_documents_rollback_script_runs_on_a_dbkit_database(migrated_url: str) -> None:
    # Seed 000 "Rollback", verbatim: DROP TABLE IF EXISTS ... CASCADE in reverse dependency
    # order. A team that keeps the guide's script can still run it (dbkit rollback is preferred:
    # it keeps the record of what is applied, and refuses to drop rows without --force).
    script = re.search(r"## Rollback.*?```sql\n(.*?)```", SEED.read_text(encoding="utf-8"), re.S)
    assert script is not None
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A)
        conn.execute("set search_path = public")
        conn.execute(script.group(1))
        left = conn.execute("select count(*) from pg_tables where schemaname = 'public' and tablename = any(%s)",
                            (list(TABLES),)).fetchone()
    assert left == (0,)
