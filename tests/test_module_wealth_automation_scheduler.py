"""The scheduler's database side (seed 001): claims, trigger orders, rebalancing, notifications.

Seed 001's "Testing Recommendations" are the checklist: auto-invest, rebalancing and trigger
order execution, the scheduler loop (here: many concurrent workers), error handling,
execution logging, notification preferences and the three end-to-end workflows.
Concurrency tests use eight threads, each with its own connection.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from test_module_wealth_automation import (
    CLIENT_A, CLIENT_B, SCHEME_1, SCHEME_2, USER_A, USER_B, add_rule, as_role, connect, seed_people,
)

WORKERS = 8
CLAIM = "select rule_id::text, period_date::text, next_execution_date::text, rule_status " \
        "from public.claim_due_auto_invest_rules(%s, %s, %s)"


def claim(conn: psycopg.Connection[Any], now: str, batch: int = 100, worker: str = "test") -> list[tuple[Any, ...]]:
    return conn.execute(CLAIM, (now, batch, worker)).fetchall()


def run_workers(url: str, work: Callable[[psycopg.Connection[Any], int, threading.Barrier], list[Any]]) -> list[Any]:
    """Run ``work`` in WORKERS threads, each with its own connection; return all results."""
    start = threading.Barrier(WORKERS, timeout=60)

    def one(i: int) -> list[Any]:
        with connect(url, autocommit=False) as conn:
            return work(conn, i, start)

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(one, range(WORKERS)))
    return [item for chunk in results for item in chunk]


def add_order(conn: psycopg.Connection[Any], client: str = CLIENT_A, *, trigger_type: str = "NAV",
              condition: str = "Less Than", value: float = 100, **extra: Any) -> str:
    cols = {"client_id": client, "scheme_id": SCHEME_1, "trigger_type": trigger_type,
            "trigger_condition": condition, "trigger_value": value, "order_type": "Purchase",
            "amount": 5000, **extra}
    row = conn.execute(
        f"insert into public.trigger_orders ({', '.join(cols)}) values ({', '.join(['%s'] * len(cols))}) "  # noqa: S608
        "returning id::text",
        tuple(cols.values()),
    ).fetchone()
    assert row is not None
    return str(row[0])


def nav(value: float, scheme: str = SCHEME_1) -> str:
    return json.dumps([{"trigger_type": "NAV", "scheme_id": scheme, "value": value}])


def evaluate(conn: psycopg.Connection[Any], observations: str, now: str = "2025-03-03 10:00+00",
             worker: str = "test") -> list[tuple[Any, ...]]:
    return conn.execute(
        "select trigger_order_id::text, observed_value from public.evaluate_trigger_orders(%s::jsonb, %s, 1000, %s)",
        (observations, now, worker),
    ).fetchall()


def drift(conn: psycopg.Connection[Any], allocations: dict[str, dict[str, float]],
          now: str = "2025-03-03 10:00+00", worker: str = "test") -> list[tuple[Any, ...]]:
    payload = json.dumps([{"client_id": c, "allocation": a} for c, a in allocations.items()])
    return conn.execute(
        "select rebalancing_rule_id::text, status, max_drift_percent from public.record_rebalancing_drift(%s::jsonb, %s, %s)",
        (payload, now, worker),
    ).fetchall()


def add_rebalancing_rule(conn: psycopg.Connection[Any], client: str = CLIENT_A, *, automatic: bool = False) -> str:
    row = conn.execute(
        "insert into public.rebalancing_rules (client_id, target_allocation, threshold_percent, execute_automatically)"
        " values (%s, '{\"Equity\": 60, \"Debt\": 40}', 5, %s) returning id::text",
        (client, automatic),
    ).fetchone()
    assert row is not None
    return str(row[0])


# ---------------------------------------------------------------- auto-invest claims

def test_due_rule_is_claimed_and_advanced_by_one_month(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A, start="2025-01-15")
        assert claim(conn, "2025-01-14 23:59+00") == []
        assert claim(conn, "2025-01-15 08:00+00") == [(rule, "2025-01-15", "2025-02-15", "Active")]


def test_jan_31_plus_one_month_is_feb_28_then_mar_31(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A, start="2025-01-31")
        periods = [claim(conn, now)[0][1:3] for now in
                   ("2025-01-31 09:00+00", "2025-02-28 09:00+00", "2025-03-31 09:00+00", "2025-04-30 09:00+00")]
        assert periods == [("2025-01-31", "2025-02-28"), ("2025-02-28", "2025-03-31"),
                           ("2025-03-31", "2025-04-30"), ("2025-04-30", "2025-05-31")]
        row = conn.execute("select next_execution_date::text from public.auto_invest_rules where id = %s",
                           (rule,)).fetchone()
        assert row == ("2025-05-31",)


def test_leap_year_jan_31_advances_to_feb_29(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A, start="2024-01-31")
        assert claim(conn, "2024-01-31 09:00+00")[0][2] == "2024-02-29"


@pytest.mark.parametrize(
    ("frequency", "start", "expected"),
    [("Daily", "2025-02-28", "2025-03-01"), ("Weekly", "2025-12-29", "2026-01-05"),
     ("Quarterly", "2025-11-30", "2026-02-28"), ("Monthly", "2025-12-31", "2026-01-31")],
)
def test_each_frequency_advances_its_own_period(migrated_url: str, frequency: str, start: str, expected: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A, frequency=frequency, start=start)
        assert claim(conn, f"{start} 09:00+00")[0][2] == expected


def test_claim_is_logged_once_per_rule_and_period(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A, start="2025-01-31")
        claim(conn, "2025-01-31 09:00+00", worker="w-1")
        claim(conn, "2025-01-31 09:30+00", worker="w-2")
        logs = conn.execute(
            "select automation_type, status, period_date::text, worker_id, client_id::text, details ->> 'amount'"
            " from public.automation_execution_logs where auto_invest_rule_id = %s",
            (rule,),
        ).fetchall()
        assert logs == [("Auto Invest", "Claimed", "2025-01-31", "w-1", CLIENT_A, "1000.00")]
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "insert into public.automation_execution_logs (automation_type, client_id, auto_invest_rule_id,"
                " period_date) values ('Auto Invest', %s, %s, '2025-01-31')",
                (CLIENT_A, rule),
            )


def test_missed_periods_are_skipped_not_replayed(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A, frequency="Weekly", start="2025-01-01")
        assert claim(conn, "2025-02-05 09:00+00") == [(
            claim_rule_id(conn), "2025-01-01", "2025-02-12", "Active")]
        assert claim(conn, "2025-02-05 09:00+00") == []
        row = conn.execute("select (details ->> 'skipped_periods')::int from public.automation_execution_logs").fetchone()
        assert row == (5,)


def claim_rule_id(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("select id::text from public.auto_invest_rules").fetchone()
    assert row is not None
    return str(row[0])


def test_paused_rules_are_not_claimed(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rule(conn, CLIENT_A, status="Paused")
        assert claim(conn, "2025-06-01 09:00+00") == []


def test_rule_completes_at_max_executions_and_end_date(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        capped = add_rule(conn, CLIENT_A, start="2025-01-10", max_executions=2)
        ending = add_rule(conn, CLIENT_B, start="2025-01-10", end_date="2025-02-20")
        first = {r[0]: r[3] for r in claim(conn, "2025-01-10 09:00+00")}
        second = {r[0]: r[3] for r in claim(conn, "2025-02-10 09:00+00")}
        assert first == {capped: "Active", ending: "Active"}
        assert second == {capped: "Completed", ending: "Completed"}
        assert claim(conn, "2025-03-10 09:00+00") == []


def test_batch_size_limits_one_claim(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        for day in range(1, 11):
            add_rule(conn, CLIENT_A, start=f"2025-01-{day:02d}")
        assert len(claim(conn, "2025-01-31 09:00+00", batch=3)) == 3
        assert len(claim(conn, "2025-01-31 09:00+00", batch=100)) == 7


@pytest.mark.parametrize("batch", [0, -1, 10001])
def test_bad_batch_size_is_refused(migrated_url: str, batch: int) -> None:
    with connect(migrated_url) as conn, pytest.raises(psycopg.errors.InvalidParameterValue):
        claim(conn, "2025-01-31 09:00+00", batch=batch)


def test_clients_cannot_run_the_scheduler_functions(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        for sql in ("select * from public.claim_due_auto_invest_rules(now(), 1, 'x')",
                    "select * from public.evaluate_trigger_orders('[]'::jsonb)",
                    "select * from public.record_rebalancing_drift('[]'::jsonb)",
                    f"select public.should_send_automation_notification('{USER_A}', 'e', 'Push')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(conn, "authenticated", USER_A) as cur:
                cur.execute(sql)
            with as_role(conn, "service_role") as cur:
                cur.execute(sql)


# ---------------------------------------------------------------- concurrency: auto-invest

def test_due_rule_is_claimed_exactly_once_by_eight_concurrent_workers(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A, start="2025-01-31")

    def work(conn: psycopg.Connection[Any], i: int, start: threading.Barrier) -> list[Any]:
        start.wait()
        rows = claim(conn, "2025-01-31 09:00+00", 10, f"worker-{i}")
        start.wait()  # every worker has claimed before any commits: the lock is held throughout
        conn.commit()
        start.wait()
        rows += claim(conn, "2025-01-31 09:00+00", 10, f"worker-{i}-again")  # after the winner committed
        conn.commit()
        return rows

    claims = run_workers(migrated_url, work)
    assert [c[:2] for c in claims] == [(rule, "2025-01-31")]
    with connect(migrated_url) as conn:
        row = conn.execute("select count(*) from public.automation_execution_logs").fetchone()
        assert row == (1,)


def test_eight_workers_claim_every_due_rule_exactly_once(migrated_url: str) -> None:
    rules = 240
    with connect(migrated_url) as conn:
        seed_people(conn)
        conn.execute(
            "insert into public.auto_invest_rules (client_id, scheme_id, amount, frequency, start_date,"
            " next_execution_date) select case when g %% 2 = 0 then %s::uuid else %s::uuid end, %s, 100 + g,"
            " 'Monthly', date '2025-01-01' + (g %% 28), date '2025-01-01' + (g %% 28)"
            " from generate_series(1, %s) as g",
            (CLIENT_A, CLIENT_B, SCHEME_1, rules),
        )

    def work(conn: psycopg.Connection[Any], i: int, start: threading.Barrier) -> list[Any]:
        got: list[Any] = []
        start.wait()
        while True:
            batch = claim(conn, "2025-01-31 09:00+00", 7, f"worker-{i}")
            conn.commit()
            if not batch:
                return got
            got += [(r[0], r[1]) for r in batch]

    claims = run_workers(migrated_url, work)
    counts = Counter(claims)
    assert len(counts) == rules
    assert max(counts.values()) == 1
    with connect(migrated_url) as conn:
        row = conn.execute(
            "select count(*), count(distinct (auto_invest_rule_id, period_date)), count(distinct worker_id)"
            " from public.automation_execution_logs"
        ).fetchone()
        assert row is not None and row[0] == row[1] == rules
        assert row[2] > 1  # the work really was shared
        due = conn.execute(
            "select count(*) from public.auto_invest_rules where next_execution_date <= '2025-01-31'"
        ).fetchone()
        assert due == (0,)


# ---------------------------------------------------------------- trigger orders

@pytest.mark.parametrize(
    ("condition", "observed", "triggered"),
    [("Less Than", 99.99, True), ("Less Than", 100, False), ("Less Than Or Equal", 100, True),
     ("Greater Than", 100, False), ("Greater Than", 100.01, True), ("Greater Than Or Equal", 100, True)],
)
def test_trigger_condition_is_evaluated_against_the_observed_nav(
        migrated_url: str, condition: str, observed: float, triggered: bool) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        order = add_order(conn, condition=condition, value=100)
        result = evaluate(conn, nav(observed))
        assert [r[0] for r in result] == ([order] if triggered else [])


def test_triggered_order_is_marked_once_and_logged(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        order = add_order(conn)
        assert [r[0] for r in evaluate(conn, nav(95), worker="w-1")] == [order]
        assert evaluate(conn, nav(90), worker="w-2") == []
        row = conn.execute(
            "select status, triggered_value::text, triggered_at = '2025-03-03 10:00+00' from public.trigger_orders"
        ).fetchone()
        assert row == ("Triggered", "95.000000", True)
        logs = conn.execute(
            "select automation_type, trigger_order_id::text, worker_id, details ->> 'observed_value'"
            " from public.automation_execution_logs"
        ).fetchall()
        assert logs == [("Trigger Order", order, "w-1", "95")]


def test_observations_match_only_their_scheme_and_type(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_order(conn, trigger_type="NAV")
        add_order(conn, trigger_type="Price", scheme_id=SCHEME_2)
        assert evaluate(conn, nav(50, scheme=SCHEME_2)) == []
        price = json.dumps([{"trigger_type": "Price", "scheme_id": SCHEME_1, "value": 50}])
        assert evaluate(conn, price) == []


def test_portfolio_value_order_matches_its_client(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        order_a = add_order(conn, CLIENT_A, trigger_type="Portfolio Value", condition="Greater Than Or Equal",
                            value=1_000_000, order_type="Redemption", amount=None, units=10)
        add_order(conn, CLIENT_B, trigger_type="Portfolio Value", condition="Greater Than Or Equal",
                  value=1_000_000, order_type="Redemption", amount=None, units=10)
        observed = json.dumps([{"trigger_type": "Portfolio Value", "client_id": CLIENT_A, "value": 1_200_000},
                               {"trigger_type": "Portfolio Value", "client_id": CLIENT_B, "value": 900_000}])
        assert [r[0] for r in evaluate(conn, observed)] == [order_a]


def test_expired_order_is_not_triggered(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_order(conn, valid_until="2025-03-01 00:00+00")
        assert evaluate(conn, nav(10)) == []


@pytest.mark.parametrize(
    "observations",
    ['{"not": "an array"}', '[{"trigger_type": "NAV", "value": 1}]',
     '[{"trigger_type": "Volume", "scheme_id": "c2000000-0000-4000-8000-000000000001", "value": 1}]',
     '[{"trigger_type": "NAV", "scheme_id": "c2000000-0000-4000-8000-000000000001", "value": "1"}]',
     '[{"trigger_type": "NAV", "scheme_id": "c2000000-0000-4000-8000-000000000001", "value": 1},'
     ' {"trigger_type": "NAV", "scheme_id": "c2000000-0000-4000-8000-000000000001", "value": 2}]'],
    ids=["not_array", "no_subject", "unknown_type", "value_not_number", "duplicate"],
)
def test_malformed_observations_are_refused_and_change_nothing(migrated_url: str, observations: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_order(conn)
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            evaluate(conn, observations)
        assert conn.execute("select status from public.trigger_orders").fetchone() == ("Active",)


def test_trigger_orders_are_triggered_exactly_once_by_eight_concurrent_workers(migrated_url: str) -> None:
    orders = 60
    with connect(migrated_url) as conn:
        seed_people(conn)
        for _ in range(orders):
            add_order(conn)

    def work(conn: psycopg.Connection[Any], i: int, start: threading.Barrier) -> list[Any]:
        got: list[Any] = []
        start.wait()
        for value in (90, 80, 70):
            got += [r[0] for r in evaluate(conn, nav(value), worker=f"worker-{i}")]
            conn.commit()
        return got

    counts = Counter(run_workers(migrated_url, work))
    assert len(counts) == orders
    assert max(counts.values()) == 1
    with connect(migrated_url) as conn:
        row = conn.execute(
            "select count(*) filter (where status = 'Triggered'), (select count(*) from public.automation_execution_logs)"
            " from public.trigger_orders"
        ).fetchone()
        assert row == (orders, orders)


# ---------------------------------------------------------------- rebalancing

def test_drift_beyond_threshold_waits_for_confirmation(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rebalancing_rule(conn)
        result = drift(conn, {CLIENT_A: {"Equity": 66, "Debt": 34}})
        assert [(r[0], r[1], str(r[2])) for r in result] == [(rule, "Pending Confirmation", "6.0000")]


def test_drift_on_an_automatic_rule_is_approved(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rebalancing_rule(conn, automatic=True)
        assert [r[1] for r in drift(conn, {CLIENT_A: {"Equity": 50, "Debt": 40, "Gold": 10}})] == ["Approved"]
        row = conn.execute(
            "select executed_automatically, confirmed_at is not null from public.rebalancing_executions"
        ).fetchone()
        assert row == (True, True)


def test_drift_within_threshold_records_nothing_but_stamps_the_check(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rebalancing_rule(conn)
        assert drift(conn, {CLIENT_A: {"Equity": 65, "Debt": 35}}) == []
        row = conn.execute("select last_checked_at = '2025-03-03 10:00+00' from public.rebalancing_rules").fetchone()
        assert row == (True,)


def test_open_execution_blocks_a_second_but_a_finished_one_does_not(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rebalancing_rule(conn)
        off = {CLIENT_A: {"Equity": 70.0, "Debt": 30.0}}
        assert len(drift(conn, off)) == 1
        assert drift(conn, off) == []
        conn.execute("update public.rebalancing_executions set status = 'Completed', completed_at = now()")
        assert len(drift(conn, off, now="2025-04-01 10:00+00")) == 1


def test_rebalancing_drift_is_recorded_once_by_eight_concurrent_workers(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_rebalancing_rule(conn, CLIENT_A)
        add_rebalancing_rule(conn, CLIENT_B, automatic=True)
    off = {CLIENT_A: {"Equity": 70.0, "Debt": 30.0}, CLIENT_B: {"Equity": 40.0, "Debt": 60.0}}

    def work(conn: psycopg.Connection[Any], i: int, start: threading.Barrier) -> list[Any]:
        start.wait()
        got = [r[0] for r in drift(conn, off, worker=f"worker-{i}")]
        conn.commit()
        start.wait()
        got += [r[0] for r in drift(conn, off, worker=f"worker-{i}-again")]
        conn.commit()
        return got

    counts = Counter(run_workers(migrated_url, work))
    assert len(counts) == 2 and max(counts.values()) == 1
    with connect(migrated_url) as conn:
        assert conn.execute("select count(*) from public.rebalancing_executions").fetchone() == (2,)


# ---------------------------------------------------------------- notification preferences

def should_send(conn: psycopg.Connection[Any], user: str, channel: str, at: str, event: str = "auto_invest.executed") -> bool:
    row = conn.execute("select public.should_send_automation_notification(%s, %s, %s, %s)",
                       (user, event, channel, at)).fetchone()
    assert row is not None
    return bool(row[0])


def add_preference(conn: psycopg.Connection[Any], **extra: Any) -> None:
    cols = {"user_id": USER_A, "event": "auto_invest.executed", "channels": ["Push", "In-App"],
            "quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "time_zone": "UTC", **extra}
    conn.execute(
        f"insert into public.notification_preferences ({', '.join(cols)}) values ({', '.join(['%s'] * len(cols))})",  # noqa: S608
        tuple(cols.values()),
    )


@pytest.mark.parametrize(
    ("at", "sent"),
    [("2025-01-01 21:59+00", True), ("2025-01-01 22:00+00", False), ("2025-01-01 23:30+00", False),
     ("2025-01-02 00:00+00", False), ("2025-01-02 06:59+00", False), ("2025-01-02 07:00+00", True),
     ("2025-01-02 12:00+00", True)],
)
def test_quiet_hours_across_midnight_suppress_push(migrated_url: str, at: str, sent: bool) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_preference(conn)
        assert should_send(conn, USER_A, "Push", at) is sent


def test_quiet_hours_are_in_the_users_time_zone(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_preference(conn, time_zone="Asia/Kolkata")
        # 22:00-07:00 in Kolkata (UTC+05:30) is 16:30-01:30 UTC.
        assert should_send(conn, USER_A, "Push", "2025-01-01 16:29+00") is True
        assert should_send(conn, USER_A, "Push", "2025-01-01 17:00+00") is False
        assert should_send(conn, USER_A, "Push", "2025-01-02 01:29+00") is False
        assert should_send(conn, USER_A, "Push", "2025-01-02 01:30+00") is True


def test_in_app_is_delivered_in_quiet_hours_and_unchosen_channels_are_not(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_preference(conn)
        assert should_send(conn, USER_A, "In-App", "2025-01-01 23:30+00") is True
        assert should_send(conn, USER_A, "Email", "2025-01-02 12:00+00") is False


def test_no_preference_sends_and_disabled_preference_does_not(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_preference(conn, enabled=False)
        assert should_send(conn, USER_A, "In-App", "2025-01-02 12:00+00") is False
        assert should_send(conn, USER_B, "SMS", "2025-01-01 23:30+00") is True
        assert should_send(conn, USER_A, "SMS", "2025-01-02 12:00+00", event="other.event") is True


def test_unknown_channel_in_the_check_is_refused(migrated_url: str) -> None:
    with connect(migrated_url) as conn, pytest.raises(psycopg.errors.InvalidParameterValue):
        should_send(conn, USER_A, "Pigeon", "2025-01-02 12:00+00")


def test_quiet_hours_agree_with_the_platform_helper(migrated_url: str) -> None:
    """One quiet-hours rule for the whole product: the check delegates to is_within_quiet_hours."""
    with connect(migrated_url) as conn:
        seed_people(conn)
        add_preference(conn, quiet_hours_start="23:00", quiet_hours_end="01:00", time_zone="Europe/Berlin")
        for hour in range(24):
            at = f"2025-07-01 {hour:02d}:15+00"
            quiet = conn.execute(
                "select public.is_within_quiet_hours(%s, '23:00', '01:00', 'Europe/Berlin')", (at,)
            ).fetchone()
            assert quiet is not None
            assert should_send(conn, USER_A, "Push", at) is (not quiet[0])


# ---------------------------------------------------------------- end-to-end workflows (seed 001 E2E list)

def test_complete_auto_invest_workflow(migrated_url: str) -> None:
    """Rule created -> claimed by the scheduler -> order outcome logged -> client notified."""
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rule(conn, CLIENT_A, start="2025-01-31")
        add_preference(conn, channels=["In-App", "Push"])
        (log_id, rule_id, period) = conn.execute(
            "select execution_log_id::text, rule_id::text, period_date::text"
            " from public.claim_due_auto_invest_rules('2025-01-31 23:30+00', 10, 'w')"
        ).fetchone() or (None, None, None)
        assert (rule_id, period) == (rule, "2025-01-31")
        conn.execute("update public.automation_execution_logs set status = 'Succeeded', finished_at = now()"
                     " where id = %s", (log_id,))
        channels = [c for c in ("Push", "In-App") if should_send(conn, USER_A, c, "2025-01-31 23:30+00")]
        assert channels == ["In-App"]
        conn.execute("insert into public.in_app_notifications (user_id, event, title, message)"
                     " values (%s, 'auto_invest.executed', 'SIP placed', 'Rs 1000 invested')", (USER_A,))
        conn.execute("insert into public.notification_logs (user_id, event, channel, status)"
                     " values (%s, 'auto_invest.executed', 'Push', 'Suppressed')", (USER_A,))
        with as_role(conn, "authenticated", USER_A) as cur:
            mine = cur.execute("select r.next_execution_date::text, n.title from public.auto_invest_rules r,"
                               " public.in_app_notifications n").fetchall()
        assert mine == [("2025-02-28", "SIP placed")]


def test_complete_rebalancing_workflow(migrated_url: str) -> None:
    """Drift detected -> pending -> confirmed -> completed -> a later drift is recorded again."""
    with connect(migrated_url) as conn:
        seed_people(conn)
        rule = add_rebalancing_rule(conn)
        off = {CLIENT_A: {"Equity": 72.5, "Debt": 27.5}}
        assert drift(conn, off)[0][1] == "Pending Confirmation"
        with as_role(conn, "authenticated", USER_A) as cur:
            seen = cur.execute("select rebalancing_rule_id::text, status from public.rebalancing_executions").fetchall()
        assert seen == [(rule, "Pending Confirmation")]
        conn.execute("update public.rebalancing_executions set status = 'Approved', confirmed_at = now()")
        conn.execute("update public.rebalancing_executions set status = 'Completed', completed_at = now()")
        assert drift(conn, off, now="2025-06-01 10:00+00")[0][1] == "Pending Confirmation"
        assert conn.execute("select count(*) from public.rebalancing_executions").fetchone() == (2,)


def test_trigger_order_activation_workflow(migrated_url: str) -> None:
    """Order placed -> NAV falls through the threshold -> triggered once -> executed."""
    with connect(migrated_url) as conn:
        seed_people(conn)
        order = add_order(conn, condition="Less Than", value=50)
        assert evaluate(conn, nav(51)) == []
        assert [r[0] for r in evaluate(conn, nav(49))] == [order]
        conn.execute("update public.trigger_orders set status = 'Executed', executed_at = now() where id = %s",
                     (order,))
        assert evaluate(conn, nav(10)) == []
        with as_role(conn, "authenticated", USER_B) as cur:
            assert cur.execute("select count(*) from public.trigger_orders").fetchone() == (0,)
