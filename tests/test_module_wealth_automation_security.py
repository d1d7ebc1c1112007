"""Tenant isolation around RLS for wealth_automation (issue 13), attacked as an attacker would.

Every attack runs twice (the ``attack_url`` fixture): on plain PostgreSQL and on a database
prepared with Supabase's default privileges before dbkit applied. Identities: anon, the
signed-in user A (owner of client A) against user B's data, and service_role (the API and the
scheduler), which is trusted with rows but not with TRUNCATE, TRIGGER or other tenants' ids.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from dbkit.ephemeral import Server
from dbkit.identity import Identity, act_as
from helpers import run_dbkit
from supabase_privileges import attack_url, clone, effective_privileges, prepared_templates  # noqa: F401
from test_module_wealth_automation import (
    CLIENT_A, CLIENT_B, SCHEME_1, TABLES, USER_A, USER_B, add_rule, as_role, connect, seed_people,
)

PREREQUISITES = ("users", "clients", "products", "goals")
GOAL_A = "c6000000-0000-4000-8000-00000000000a"
GOAL_B = "c6000000-0000-4000-8000-00000000000b"


def seed_tenants(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Users A and B, each with a client, a goal, an auto-invest rule (funding the goal), a
    rebalancing rule with one execution, a trigger order, a log, a preference and a notification."""
    seed_people(conn)
    conn.execute("insert into public.goals (id, client_id, name, target_amount) values (%s, %s, 'A', 1000), "
                 "(%s, %s, 'B', 1000)", (GOAL_A, CLIENT_A, GOAL_B, CLIENT_B))
    ids: dict[str, str] = {}
    for side, client, user, goal in (("a", CLIENT_A, USER_A, GOAL_A), ("b", CLIENT_B, USER_B, GOAL_B)):
        ids[f"rule_{side}"] = add_rule(conn, client, goal_id=goal)
        row = conn.execute("insert into public.rebalancing_rules (client_id, target_allocation) values (%s, %s) "
                           "returning id::text", (client, '{"Equity": 60, "Debt": 40}')).fetchone()
        assert row is not None
        ids[f"rebalancing_{side}"] = row[0]
        row = conn.execute(
            "insert into public.rebalancing_executions (rebalancing_rule_id, status, current_allocation, "
            "target_allocation, threshold_percent, max_drift_percent) values (%s, 'Completed', %s, %s, 5, 6) "
            "returning id::text",
            (ids[f"rebalancing_{side}"], '{"Equity": 66, "Debt": 34}', '{"Equity": 60, "Debt": 40}')).fetchone()
        assert row is not None
        ids[f"execution_{side}"] = row[0]
        row = conn.execute(
            "insert into public.trigger_orders (client_id, scheme_id, trigger_type, trigger_condition, trigger_value,"
            " order_type, amount) values (%s, %s, 'NAV', 'Less Than', 100, 'Purchase', 500) returning id::text",
            (client, SCHEME_1)).fetchone()
        assert row is not None
        ids[f"order_{side}"] = row[0]
        row = conn.execute(
            "insert into public.automation_execution_logs (automation_type, client_id, auto_invest_rule_id, "
            "period_date) values ('Auto Invest', %s, %s, '2025-01-31') returning id::text",
            (client, ids[f"rule_{side}"])).fetchone()
        assert row is not None
        ids[f"log_{side}"] = row[0]
        conn.execute("insert into public.notification_preferences (user_id, event) values (%s, 'Order Executed')",
                     (user,))
        conn.execute("insert into public.notification_logs (user_id, event, channel) values (%s, 'e', 'Email')",
                     (user,))
        conn.execute("insert into public.in_app_notifications (user_id, event, title, message) "
                     "values (%s, 'e', 'SIP done', 'Placed.')", (user,))
    return ids


def sqlstate(conn: psycopg.Connection[Any], role: str, sql: str, params: tuple[Any, ...] = (),
             sub: str | None = None) -> str | int:
    """Run ``sql`` as ``role`` in a rolled-back transaction: the SQLSTATE it fails with (deferred keys
    checked as COMMIT would), or its row count."""
    try:
        with as_role(conn, role, sub) as cur:
            cur.execute(sql, params)
            count = cur.rowcount
            cur.execute("set constraints all immediate")
            return count
    except psycopg.Error as exc:
        return str(exc.sqlstate)


IDENTITIES = [("anon", None), ("authenticated", USER_A), ("service_role", None)]


# ---------------------------------------------------------------- revoke before grant

def test_privileges_are_the_same_with_supabase_default_privileges(
        server: Server, prepared_templates: dict[str, str]) -> None:
    plain = effective_privileges(server.url(prepared_templates["plain"]))
    supabase = effective_privileges(server.url(prepared_templates["supabase"]))
    assert len(plain) > 500
    differences = {k: (plain.get(k), supabase.get(k)) for k in plain.keys() | supabase.keys()
                   if plain.get(k) != supabase.get(k)}
    assert differences == {}


@pytest.mark.parametrize(("role", "sub"), IDENTITIES, ids=["anon", "authenticated", "service_role"])
def test_no_api_role_can_truncate_a_table(attack_url: str, role: str, sub: str | None) -> None:
    with connect(attack_url) as conn:
        seed_tenants(conn)
        outcomes = {t: sqlstate(conn, role, f"truncate public.{t} cascade", sub=sub) for t in TABLES + PREREQUISITES}
        emptied = [t for t in TABLES + PREREQUISITES
                   if conn.execute(f"select count(*) = 0 from public.{t}").fetchone() == (True,)]  # noqa: S608
    assert {t: o for t, o in outcomes.items() if o != "42501"} == {}
    assert emptied == []


@pytest.mark.parametrize(("role", "sub"), IDENTITIES, ids=["anon", "authenticated", "service_role"])
def test_no_api_role_can_attach_a_trigger(attack_url: str, role: str, sub: str | None) -> None:
    # The attack: a shared trigger function attached BEFORE INSERT to a table whose rows have
    # no updated_at (or any table) breaks every other user's inserts.
    with connect(attack_url) as conn:
        outcomes = {t: sqlstate(conn, role, f"create trigger attack before insert on public.{t} for each row "
                                            "execute function public.update_updated_at_column()", sub=sub)
                    for t in TABLES + PREREQUISITES}
    assert {t: o for t, o in outcomes.items() if o != "42501"} == {}


def test_signed_in_user_cannot_rewrite_a_notification(attack_url: str) -> None:
    with connect(attack_url) as conn:
        seed_tenants(conn)
        for column in ("title", "message", "priority", "user_id", "event"):
            assert sqlstate(conn, "authenticated", f"update public.in_app_notifications set {column} = {column}",
                            sub=USER_A) == "42501", column
        assert sqlstate(conn, "authenticated", "update public.in_app_notifications set read_at = now()",
                        sub=USER_A) == 1


@pytest.mark.parametrize("function", [
    "public.update_updated_at_column()", "public.update_last_updated_column()",
    "public.check_notification_time_zone()", "public.sync_notification_quiet_hours()",
    "public.default_auto_invest_next_execution_date()", "public.prevent_owner_change()",
])
def test_no_api_role_may_execute_a_trigger_function(attack_url: str, function: str) -> None:
    with connect(attack_url) as conn:
        rows = conn.execute("select r, has_function_privilege(r, %s::regprocedure, 'EXECUTE') "
                            "from unnest(array['anon', 'authenticated', 'service_role']) r", (function,)).fetchall()
    assert [r for r, allowed in rows if allowed] == []


@pytest.mark.parametrize("call", [
    "select count(*) from public.claim_due_auto_invest_rules('2025-03-01 09:00+00', 10, 'x')",
    "select count(*) from public.evaluate_trigger_orders('[]'::jsonb, '2025-03-01 09:00+00', 10, 'x')",
    "select count(*) from public.record_rebalancing_drift('[]'::jsonb, '2025-03-01 09:00+00', 'x')",
    "select public.should_send_automation_notification(gen_random_uuid(), 'e', 'Email')",
    "select public.next_auto_invest_date('2025-01-31', 'Monthly')",
])
def test_only_service_role_runs_the_scheduler_functions(attack_url: str, call: str) -> None:
    with connect(attack_url) as conn:
        assert sqlstate(conn, "anon", call) == "42501"
        assert sqlstate(conn, "authenticated", call, sub=USER_A) == "42501"
        assert sqlstate(conn, "service_role", call) == 1


def test_trigger_functions_still_fire_for_every_writer(attack_url: str) -> None:
    # No API role holds EXECUTE on the trigger functions; the triggers fire anyway.
    with connect(attack_url) as conn:
        ids = seed_tenants(conn)
        conn.execute("update public.auto_invest_rules set updated_at = '2000-01-01' where id = %s", (ids["rule_a"],))
        with as_role(conn, "service_role") as cur:
            row = cur.execute("update public.auto_invest_rules set amount = 2000 where id = %s "
                              "returning updated_at > '2000-01-02'", (ids["rule_a"],)).fetchone()
        assert row == (True,)
        with as_role(conn, "authenticated", USER_A) as cur:
            row = cur.execute("update public.notification_preferences set quiet_hours = %s "
                              "returning quiet_hours_start::text, updated_at > now() - interval '1 minute'",
                              ('{"start": "22:00", "end": "07:00"}',)).fetchone()
        assert row == ("22:00:00", True)


# ---------------------------------------------------------------- ownership never moves

MOVES = [
    ("auto_invest_rules", "client_id", CLIENT_B, "id", "rule_a"),
    ("rebalancing_rules", "client_id", CLIENT_B, "id", "rebalancing_a"),
    ("rebalancing_executions", "rebalancing_rule_id", "rebalancing_b", "id", "execution_a"),
    ("trigger_orders", "client_id", CLIENT_B, "id", "order_a"),
    ("automation_execution_logs", "client_id", CLIENT_B, "id", "log_a"),
    ("notification_preferences", "user_id", USER_B, "user_id", USER_A),
    ("notification_logs", "user_id", USER_B, "user_id", USER_A),
    ("in_app_notifications", "user_id", USER_B, "user_id", USER_A),
]


@pytest.mark.parametrize(("table", "column", "new_owner", "key", "row"), MOVES, ids=[m[0] for m in MOVES])
def test_no_one_moves_a_row_to_another_owner(attack_url: str, table: str, column: str, new_owner: str,
                                             key: str, row: str) -> None:
    with connect(attack_url) as conn:
        ids = seed_tenants(conn)
        target = ids.get(new_owner, new_owner)
        where = ids.get(row, row)
        outcomes = {role: sqlstate(conn, role, f"update public.{table} set {column} = %s where {key} = %s",  # noqa: S608
                                   (target, where), sub=sub) for role, sub in IDENTITIES}
    assert outcomes == {"anon": "42501", "authenticated": "42501", "service_role": "42501"}


def test_an_update_that_keeps_the_owner_passes(attack_url: str) -> None:
    # PostgREST's upsert sets every column it is sent, the owner included, to the same value.
    with connect(attack_url) as conn:
        seed_tenants(conn)
        with as_role(conn, "authenticated", USER_A) as cur:
            rows = cur.execute(
                "insert into public.notification_preferences (user_id, event, enabled) values (%s, 'Order Executed', false) "
                "on conflict (user_id, event) do update set user_id = excluded.user_id, enabled = excluded.enabled "
                "returning enabled", (USER_A,)).fetchall()
    assert rows == [(False,)]


def test_user_b_cannot_take_user_as_preferences(attack_url: str) -> None:
    with connect(attack_url) as conn:
        seed_tenants(conn)
        assert sqlstate(conn, "authenticated", "update public.notification_preferences set user_id = %s "
                        "where user_id = %s", (USER_B, USER_A), sub=USER_B) == 0
        assert sqlstate(conn, "authenticated", "insert into public.notification_preferences (user_id, event) "
                        "values (%s, 'Planted')", (USER_A,), sub=USER_B) == "42501"


# ---------------------------------------------------------------- references stay in the tenant

REFERENCES = [
    ("a rule of client A funding B's goal",
     "insert into public.auto_invest_rules (client_id, scheme_id, goal_id, amount, frequency, start_date) "
     "values (%(client_a)s, %(scheme)s, %(goal_b)s, 1000, 'Monthly', '2025-02-01')"),
    ("A's rule re-pointed at B's goal",
     "update public.auto_invest_rules set goal_id = %(goal_b)s where id = %(rule_a)s"),
    ("a log of client A naming B's auto-invest rule",
     "insert into public.automation_execution_logs (automation_type, client_id, auto_invest_rule_id, period_date) "
     "values ('Auto Invest', %(client_a)s, %(rule_b)s, '2025-02-28')"),
    ("a log of client A naming B's rebalancing rule",
     "insert into public.automation_execution_logs (automation_type, client_id, rebalancing_rule_id) "
     "values ('Rebalancing', %(client_a)s, %(rebalancing_b)s)"),
    ("a log of A's rebalancing rule naming B's execution",
     "insert into public.automation_execution_logs (automation_type, client_id, rebalancing_rule_id, "
     "rebalancing_execution_id) values ('Rebalancing', %(client_a)s, %(rebalancing_a)s, %(execution_b)s)"),
    ("a log of client A naming B's trigger order",
     "insert into public.automation_execution_logs (automation_type, client_id, trigger_order_id) "
     "values ('Trigger Order', %(client_a)s, %(order_b)s)"),
]


@pytest.mark.parametrize(("what", "sql"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_a_reference_to_another_tenants_row_is_refused(attack_url: str, what: str, sql: str) -> None:
    with connect(attack_url) as conn:
        ids = seed_tenants(conn)
        params = {**ids, "client_a": CLIENT_A, "scheme": SCHEME_1, "goal_b": GOAL_B}
        assert sqlstate(conn, "anon", sql, params) == "42501"  # type: ignore[arg-type]
        assert sqlstate(conn, "authenticated", sql, params, sub=USER_A) == "42501"  # type: ignore[arg-type]
        assert sqlstate(conn, "service_role", sql, params) == "23503"  # type: ignore[arg-type]


def test_another_clients_goal_and_a_missing_goal_are_both_refused_by_a_key(attack_url: str) -> None:
    # The document's key refuses a goal that does not exist at once; the same-client key refuses
    # another client's goal at commit. Only service_role writes rules, and it reads every goal
    # anyway, so which key answered tells it nothing it could not select (docs/decisions.md).
    with connect(attack_url) as conn:
        seed_tenants(conn)
        refused = {}
        for goal in (GOAL_B, "c6000000-0000-4000-8000-0000000000ff"):  # B's goal, and no goal at all
            with pytest.raises(psycopg.errors.ForeignKeyViolation) as caught, as_role(conn, "service_role") as cur:
                cur.execute("insert into public.auto_invest_rules (client_id, scheme_id, goal_id, amount, frequency) "
                            "values (%s, %s, %s, 1000, 'Monthly')", (CLIENT_A, SCHEME_1, goal))
                cur.execute("set constraints all immediate")
            refused[goal] = caught.value.diag.constraint_name
    assert refused == {GOAL_B: "auto_invest_rules_goal_client_fkey",
                       "c6000000-0000-4000-8000-0000000000ff": "auto_invest_rules_goal_id_fkey"}


def test_a_cross_client_reference_fails_the_commit_not_only_the_statement(attack_url: str) -> None:
    # The same-client keys are deferred (checked at commit, after the document's keys cleared a
    # deleted parent); an application that commits a cross-client row gets the error at COMMIT.
    with connect(attack_url) as conn:
        seed_tenants(conn)
        with connect(attack_url, autocommit=False) as api:
            act_as(api.cursor(), Identity("service_role"))  # the transaction the commit ends
            api.execute("insert into public.auto_invest_rules (client_id, scheme_id, goal_id, amount, frequency) "
                        "values (%s, %s, %s, 1000, 'Monthly')", (CLIENT_A, SCHEME_1, GOAL_B))
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                api.commit()
        assert conn.execute("select count(*) from public.auto_invest_rules where goal_id = %s",
                            (GOAL_B,)).fetchone() == (1,)  # B's own rule only


def test_deleting_a_goal_keeps_the_rule_and_only_clears_its_goal(attack_url: str) -> None:
    with connect(attack_url) as conn:
        ids = seed_tenants(conn)
        conn.execute("delete from public.goals where id = %s", (GOAL_A,))
        row = conn.execute("select client_id::text, goal_id from public.auto_invest_rules where id = %s",
                           (ids["rule_a"],)).fetchone()
    assert row == (CLIENT_A, None)


def test_deleting_a_rebalancing_rule_keeps_its_logs_without_dangling_ids(attack_url: str) -> None:
    # Both of the log's keys (rule, execution) must be cleared, whichever action runs first.
    with connect(attack_url) as conn:
        ids = seed_tenants(conn)
        log = conn.execute(
            "insert into public.automation_execution_logs (automation_type, client_id, rebalancing_rule_id, "
            "rebalancing_execution_id) values ('Rebalancing', %s, %s, %s) returning id",
            (CLIENT_A, ids["rebalancing_a"], ids["execution_a"])).fetchone()
        assert log is not None
        conn.execute("delete from public.rebalancing_rules where id = %s", (ids["rebalancing_a"],))
        row = conn.execute("select client_id::text, rebalancing_rule_id, rebalancing_execution_id "
                           "from public.automation_execution_logs where id = %s", (log[0],)).fetchone()
    assert row == (CLIENT_A, None, None)


def test_deleting_rules_and_orders_keeps_their_logs(attack_url: str) -> None:
    with connect(attack_url) as conn:
        ids = seed_tenants(conn)
        conn.execute("insert into public.automation_execution_logs (automation_type, client_id, trigger_order_id) "
                     "values ('Trigger Order', %s, %s)", (CLIENT_A, ids["order_a"]))
        conn.execute("delete from public.auto_invest_rules where id = %s", (ids["rule_a"],))
        conn.execute("delete from public.trigger_orders where id = %s", (ids["order_a"],))
        rows = conn.execute("select automation_type, auto_invest_rule_id, trigger_order_id "
                            "from public.automation_execution_logs where client_id = %s order by 1",
                            (CLIENT_A,)).fetchall()
    assert rows == [("Auto Invest", None, None), ("Trigger Order", None, None)]


# ---------------------------------------------------------------- the scheduler cannot be stalled

def test_a_rule_due_at_minus_infinity_is_refused(attack_url: str) -> None:
    with connect(attack_url) as conn:
        seed_people(conn)
        for start, due in (("-infinity", "-infinity"), ("1899-12-31", "1899-12-31"), ("2025-01-01", "infinity")):
            with pytest.raises(psycopg.errors.CheckViolation):
                add_rule(conn, CLIENT_A, frequency="Daily", start=start, due=due)


def test_a_saturated_counter_completes_its_rule_and_the_batch_goes_on(attack_url: str) -> None:
    with connect(attack_url) as conn:
        seed_people(conn)
        poisoned = add_rule(conn, CLIENT_B, frequency="Daily", start="2025-01-01", execution_count=2147483647)
        healthy = add_rule(conn, CLIENT_A, frequency="Daily", start="2025-01-02")
        with as_role(conn, "service_role") as cur:
            claimed = cur.execute("select rule_id::text from public.claim_due_auto_invest_rules("
                                  "'2025-01-05 09:00+00', 10, 'w')").fetchall()
            status = cur.execute("select status, execution_count from public.auto_invest_rules where id = %s",
                                 (poisoned,)).fetchone()
    assert claimed == [(healthy,)]
    assert status == ("Completed", 2147483647)


def test_a_rule_overdue_for_a_century_is_claimed_once_in_one_call(attack_url: str) -> None:
    with connect(attack_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A, frequency="Daily", start="1900-01-01")
        with as_role(conn, "service_role") as cur:
            claimed = cur.execute("select period_date::text, next_execution_date::text, execution_log_id "
                                  "from public.claim_due_auto_invest_rules('2025-03-01 09:00+00', 10, 'w')").fetchall()
            assert [c[:2] for c in claimed] == [("1900-01-01", "2025-03-02")]
            details = cur.execute("select details ->> 'skipped_periods' from public.automation_execution_logs "
                                  "where id = %s", (claimed[0][2],)).fetchone()
            again = cur.execute("select count(*) from public.claim_due_auto_invest_rules("
                                "'2025-03-01 23:59+00', 10, 'w')").fetchone()
    assert details == ("45715",)  # every day from 1900-01-02 to 2025-03-01
    assert again == (0,)
    assert rule


def test_one_step_next_date_equals_stepping_period_by_period(attack_url: str) -> None:
    # The claim jumps over missed periods in one step; it must land where stepping one period
    # at a time with public.next_auto_invest_date lands (month ends, anchors, leap years).
    cases = []
    for frequency in ("Daily", "Weekly", "Monthly", "Quarterly"):
        for due in ("2023-01-31", "2023-02-28", "2024-02-29", "2024-11-30", "2024-12-31"):
            for today in ("2024-02-29", "2024-03-30", "2024-12-31", "2025-01-31", "2025-03-01"):
                if due <= today:
                    for anchor in (None, 29, 31):
                        cases.append((frequency, due, today, anchor))
    with connect(attack_url) as conn:
        seed_people(conn)
        mismatches = []
        for frequency, due, today, anchor in cases:
            with conn.transaction(force_rollback=True):
                add_rule(conn, CLIENT_A, frequency=frequency, start="2020-01-31", due=due, day_of_month=anchor)
                got = conn.execute("select next_execution_date::text from public.claim_due_auto_invest_rules("
                                   "(%s || ' 09:00+00')::timestamptz, 10, 'w')", (today,)).fetchone()
                want = conn.execute(
                    """
                    with recursive steps(d) as (
                        select public.next_auto_invest_date(%(due)s::date, %(f)s, coalesce(%(a)s::int, 31))
                        union all
                        select public.next_auto_invest_date(d, %(f)s, coalesce(%(a)s::int, 31))
                          from steps where d <= %(today)s::date)
                    select max(d)::text from steps
                    """, {"due": due, "f": frequency, "a": anchor, "today": today}).fetchone()
                if got != want:
                    mismatches.append((frequency, due, today, anchor, got, want))
    assert len(cases) > 150
    assert mismatches == []


def test_each_rule_is_claimed_once_a_day_so_no_client_starves_another(attack_url: str) -> None:
    # Client B has five rules overdue since 1900 (first in claim order); client A one rule due
    # today. With a batch of two, A's rule is claimed by the third call, and B's rules are not
    # claimed again that day however often the scheduler runs.
    with connect(attack_url) as conn:
        seed_people(conn)
        for _ in range(5):
            add_rule(conn, CLIENT_B, frequency="Daily", start="1900-01-01")
        mine = add_rule(conn, CLIENT_A, frequency="Daily", start="2025-03-01")
        calls = []
        with as_role(conn, "service_role") as cur:
            for _ in range(5):
                calls.append([r[0] for r in cur.execute(
                    "select rule_id::text from public.claim_due_auto_invest_rules('2025-03-01 09:00+00', 2, 'w')")])
    assert [len(c) for c in calls] == [2, 2, 2, 0, 0]
    assert mine in calls[2]


def test_an_out_of_range_allocation_is_refused_before_anything_changes(attack_url: str) -> None:
    with connect(attack_url) as conn:
        seed_tenants(conn)
        payload = json.dumps([{"client_id": CLIENT_A, "allocation": {"Equity": 1500, "Debt": -1400}},
                              {"client_id": CLIENT_B, "allocation": {"Equity": 90, "Debt": 10}}])
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="0..100"), as_role(conn, "service_role") as cur:
            cur.execute("select count(*) from public.record_rebalancing_drift(%s::jsonb, now(), 'w')", (payload,))


# ---------------------------------------------------------------- verify sees the same

def test_verify_passes_on_a_database_with_supabase_default_privileges(
        server: Server, prepared_templates: dict[str, str]) -> None:
    # Every check of the three modules, including the access matrix, the "move" and
    # "reference" cells and the privilege rows, holds on the Supabase-prepared database.
    with clone(server, prepared_templates["supabase"]) as url:
        ids: list[str] = []
        for module in ("platform", "wealth_automation", "alm_reporting"):
            result = run_dbkit("verify", "--module", module, "--with-writes", "--format", "json", url=url)
            checks = json.loads(result.stdout)["checks"]
            assert ([c["id"] for c in checks if c["status"] == "fail"], result.exit_code) == ([], 0), module
            ids += [c["id"] for c in checks]
    for prefix in ("wealth_automation.rls.public.auto_invest_rules.service_role.reference.", "wealth.privileges.",
                   "alm.privileges.", "platform.api_role_attributes"):
        assert any(i.startswith(prefix) for i in ids), prefix
