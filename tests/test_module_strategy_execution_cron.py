"""The cron job's database side of module strategy_execution (seed 003, "cron job query"):
public.claim_due_strategies and public.record_strategy_execution.

Claimers run as service_role on their own connections and commit, as the executor does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import psycopg
import pytest

from dbkit.identity import Identity, act_as
from dbkit.plans import nodes as plan_nodes
from helpers import captured_plans, plan_documents

OWNER = "00000000-0000-0000-0000-00000000000a"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
CLAIMERS = 8
T = TypeVar("T")


def connect(url: str, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A claimer's connection: a lock wait is a failure (no SKIP LOCKED), never a hang."""
    return psycopg.connect(url, autocommit=autocommit, options="-c lock_timeout=10s")


def seed_strategies(url: str, due: int, not_due: int = 0) -> set[str]:
    """`due` strategies due at NOW (running or error), `not_due` ones that are not; returns the due ids."""
    with psycopg.connect(url) as conn:
        conn.execute("insert into auth.users (id) values (%s) on conflict do nothing", (OWNER,))
        rows = conn.execute(
            """
            insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at)
            select %(owner)s, true, case when mod(g, 2) = 0 then 'running' else 'error' end,
                   %(now)s - g * interval '1 second'
            from generate_series(1, %(due)s) g
            returning id::text
            """,
            {"owner": OWNER, "now": NOW, "due": due},
        ).fetchall()
        conn.execute(
            """
            insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at)
            select %(owner)s, mod(g, 3) <> 0, (array['paused', 'running', 'stopped'])[1 + mod(g, 3)],
                   %(now)s + case when mod(g, 3) = 1 then interval '1 minute' else -interval '1 minute' end
            from generate_series(1, %(n)s) g
            """,
            {"owner": OWNER, "now": NOW, "n": not_due},
        )
    return {r[0] for r in rows}


def run_concurrently(n: int, work: Callable[[int, threading.Barrier], T]) -> list[T]:
    barrier = threading.Barrier(n, timeout=60)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def claim(conn: psycopg.Connection[Any], batch: int, now: datetime = NOW) -> list[str]:
    act_as(conn.cursor(), Identity("service_role"))
    return [r[0] for r in conn.execute(
        "select id::text from public.claim_due_strategies(%s, %s)", (now, batch)).fetchall()]


def test_eight_concurrent_claimers_holding_their_locks_get_disjoint_batches(migrated_url: str) -> None:
    """All 8 claim while every other claimer still holds its rows: SKIP LOCKED hands out disjoint sets."""
    due = seed_strategies(migrated_url, due=100, not_due=30)

    def work(i: int, barrier: threading.Barrier) -> list[str]:
        with connect(migrated_url) as conn:
            barrier.wait()
            ids = claim(conn, batch=10)
            barrier.wait()  # nobody commits before everybody has claimed
        return ids

    batches = run_concurrently(CLAIMERS, work)
    claimed = [i for b in batches for i in b]
    assert all(len(b) == 10 for b in batches), [len(b) for b in batches]
    assert len(claimed) == len(set(claimed)) == 80
    assert set(claimed) <= due


def test_eight_concurrent_claimers_never_claim_the_same_due_strategy_twice(migrated_url: str) -> None:
    """8 executors loop claim-and-commit until nothing is due: every due strategy is claimed exactly once."""
    due = seed_strategies(migrated_url, due=300, not_due=50)

    def work(i: int, barrier: threading.Barrier) -> list[str]:
        got: list[str] = []
        with connect(migrated_url) as conn:
            barrier.wait()
            while True:
                with conn.transaction():
                    ids = claim(conn, batch=7)
                if not ids:
                    return got
                got.extend(ids)

    batches = run_concurrently(CLAIMERS, work)
    claimed = [i for b in batches for i in b]
    assert len(claimed) == len(set(claimed)), "a strategy was claimed twice"
    assert set(claimed) == due


def test_claim_skips_rows_locked_by_another_claimer(migrated_url: str) -> None:
    due = seed_strategies(migrated_url, due=3)
    with connect(migrated_url) as first, connect(migrated_url) as second:
        held = claim(first, batch=2)
        rest = claim(second, batch=25)
        assert len(held) == 2 and len(rest) == 1
        assert set(held) | set(rest) == due and not set(held) & set(rest)


def test_claimed_strategy_is_not_due_again_until_its_interval_passed(migrated_url: str) -> None:
    (sid,) = seed_strategies(migrated_url, due=1)
    with connect(migrated_url, autocommit=True) as conn:
        conn.execute("update public.workflow_sessions set execution_interval_minutes = 15 where id = %s", (sid,))
        with conn.transaction():
            assert claim(conn, batch=25) == [sid]
        nxt = conn.execute("select next_execution_at from public.workflow_sessions where id = %s", (sid,)).fetchone()
        assert nxt is not None and nxt[0] == NOW + timedelta(minutes=15)
        with conn.transaction():
            assert claim(conn, batch=25, now=NOW + timedelta(minutes=14, seconds=59)) == []
        with conn.transaction():
            assert claim(conn, batch=25, now=NOW + timedelta(minutes=15)) == [sid]


def test_claim_takes_the_longest_overdue_first_up_to_the_batch_size(migrated_url: str) -> None:
    seed_strategies(migrated_url, due=5)
    with psycopg.connect(migrated_url) as conn:
        expected = [r[0] for r in conn.execute(
            "select id::text from public.workflow_sessions order by next_execution_at limit 2").fetchall()]
        assert sorted(claim(conn, batch=2)) == sorted(expected)


def test_users_cannot_claim_strategies(migrated_url: str) -> None:
    seed_strategies(migrated_url, due=1)
    with psycopg.connect(migrated_url) as conn:
        act_as(conn.cursor(), Identity("authenticated", OWNER))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from public.claim_due_strategies(now(), 25)")


def record(conn: psycopg.Connection[Any], sid: str, ok: bool, ms: int) -> tuple[Any, ...]:
    act_as(conn.cursor(), Identity("service_role"))
    row = conn.execute(
        "select (r).status, (r).success_count, (r).error_count, (r).average_execution_time_ms, (r).last_executed_at "
        "from (select public.record_strategy_execution(%s, %s, %s, %s) as r) s", (sid, ok, ms, NOW)).fetchone()
    assert row is not None
    return tuple(row)


def test_record_execution_counts_outcomes_and_keeps_a_running_mean(migrated_url: str) -> None:
    (sid,) = seed_strategies(migrated_url, due=1)
    with psycopg.connect(migrated_url) as conn:
        conn.execute("update public.workflow_sessions set status = 'running' where id = %s", (sid,))
        assert record(conn, sid, True, 100) == ("running", 1, 0, 100, NOW)
        assert record(conn, sid, True, 200) == ("running", 2, 0, 150, NOW)
        assert record(conn, sid, True, 300) == ("running", 3, 0, 200, NOW)


def test_failure_puts_a_running_strategy_in_error_and_success_recovers_it(migrated_url: str) -> None:
    (sid,) = seed_strategies(migrated_url, due=1)
    with psycopg.connect(migrated_url) as conn:
        conn.execute("update public.workflow_sessions set status = 'running' where id = %s", (sid,))
        assert record(conn, sid, False, 40)[:3] == ("error", 0, 1)
        assert record(conn, sid, True, 60)[:3] == ("running", 1, 1)


def test_failure_after_user_stopped_the_strategy_keeps_it_stopped(migrated_url: str) -> None:
    (sid,) = seed_strategies(migrated_url, due=1)
    with psycopg.connect(migrated_url) as conn:
        conn.execute("update public.workflow_sessions set status = 'stopped', auto_run = false where id = %s", (sid,))
        assert record(conn, sid, False, 40)[:3] == ("stopped", 0, 1)


@pytest.mark.parametrize(("workflow", "ms", "sqlstate"), [
    ("10000000-0000-0000-0000-0000000000ff", 10, "P0002"),  # unknown strategy
    (None, -1, "22023"),  # negative duration
])
def test_record_execution_rejects_bad_input(migrated_url: str, workflow: str | None, ms: int, sqlstate: str) -> None:
    (sid,) = seed_strategies(migrated_url, due=1)
    with psycopg.connect(migrated_url) as conn:
        with pytest.raises(psycopg.Error) as info:
            record(conn, workflow or sid, True, ms)
        assert info.value.sqlstate == sqlstate


def nested_plans(conn: psycopg.Connection[Any], statement: str, params: Any, role: str) -> list[dict[str, Any]]:
    """JSON plans of every statement the call runs as `role`, the function body included (auto_explain)."""
    with captured_plans(conn) as messages:
        act_as(conn.cursor(), Identity(role))
        conn.execute(statement, params).fetchall()
    return [document["Plan"] for document in plan_documents(messages)]


def test_claim_updates_the_claimed_ids_by_index_probe_not_by_joining_the_table(migrated_url: str) -> None:
    """The body is planned without p_batch_size's value (LIMIT estimated at 10% of the table);
    the UPDATE must still probe an id index with the locked ids, never join over the table."""
    with psycopg.connect(migrated_url) as conn:
        conn.execute("insert into auth.users (id) values (%s)", (OWNER,))
        conn.execute(
            """
            insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at)
            select %s, mod(g, 2) = 0, 'running', %s - mod(g, 600) * interval '1 second'
            from generate_series(1, 20000) g
            """, (OWNER, NOW))
        conn.execute("analyze public.workflow_sessions")
        conn.commit()
        plans = nested_plans(conn, "select id from public.claim_due_strategies(%s, 25)", (NOW,), "service_role")
        conn.rollback()
    updates = [p for p in plans if p["Node Type"] == "ModifyTable" and p.get("Operation") == "Update"]
    assert len(updates) == 1, json.dumps(plans, indent=1)
    nodes = list(plan_nodes(updates[0]))
    assert any(n["Node Type"] == "LockRows" for n in nodes), "the claimed ids are not locked in this statement"
    target = [n for child in updates[0]["Plans"] if child.get("Parent Relationship") != "InitPlan"
              for n in plan_nodes(child)]
    kinds = [n["Node Type"] for n in target]
    assert kinds in (["Index Scan"], ["Bitmap Heap Scan", "Bitmap Index Scan"]), json.dumps(updates[0], indent=1)
    assert "id = ANY" in target[-1]["Index Cond"], json.dumps(updates[0], indent=1)
