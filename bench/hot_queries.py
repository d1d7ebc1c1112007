"""Benchmark: the documents' hot queries at 100x and 1000x their stated scale.

Stated scales (seed 003 "Performance Considerations"): 1000+ strategies (cron job query,
< 10 ms), 1000+ watchlist items (watchlist lookup, < 50 ms), 100+ nodes per execution
(execution-log lookup, < 50 ms). The other documents state none; we take 1000 auto-invest
rules, 1000 trigger orders, 100 automations per account and one year of ALM import history
as their scale.

Each table is seeded with generate_series, grown from 100x to 1000x, vacuumed and
analysed; each query is timed on the client over loopback (p50/p95 of n calls, prepared
after the 5th call like any psycopg application) and its plan is captured once with
auto_explain (nested statements included, so the plans inside claim functions and
triggers show). Every row calls the module's installed function or runs the document's
query against the installed indexes, so it measures the module's current SQL; the one
"previous form" row (the strategy claim as written before commit 31867a8) is created in
this benchmark's database under another name. Claim functions commit each call, like a
scheduler does; evaluate_trigger_orders is rolled back after each call.

Usage: python bench/hot_queries.py   (starts its own throwaway cluster)
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import psycopg

from common import Cluster, Latency, Section, captured_plans, connect, latency, run_timed, standalone
from common import summarize_plans, uid, uid_sql

USERS = 10_000
RNG = random.Random(20261121)


def _plan(url: str, statement: str, params: Any = None, role: str | None = None, setup: str = "") -> str:
    with connect(url) as conn:
        if setup:
            conn.execute(setup)
        with captured_plans(conn) as plans:
            if role:
                conn.execute(f"set role {role}")
            conn.execute(statement, params, prepare=bool(setup)).fetchall()
    return summarize_plans(plans)


def _time(url: str, statement: str, params_for: Any, n: int, role: str | None = None, warmup: int = 10,
          setup: str = "") -> Latency:
    with connect(url) as conn:
        if setup:
            conn.execute(setup)
        if role:
            conn.execute(f"set role {role}")

        def call(i: int) -> None:
            conn.execute(statement, params_for(i), prepare=True if setup else None).fetchall()

        return latency(call, n, warmup)


def _count(url: str, table: str) -> int:
    with connect(url) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]


def _row(name: str, scale: str, rows: int, lat: Latency, plan: str) -> list[Any]:
    return [name, scale, f"{rows:,}", lat.n, lat.p50, lat.p95, plan]


HEADERS = ["query", "scale", "table rows", "n", "p50 ms", "p95 ms", "plan (scans, incl. nested)"]


# ------------------------------------------------------------------ strategy_execution

def _seed_strategy(conn: psycopg.Connection[Any], lo: int, hi: int, wl_workflows: tuple[int, int],
                   executions: tuple[int, int]) -> None:
    conn.execute("set session_replication_role = replica")  # seeding: skip FK and user triggers
    conn.execute(f"""
        insert into public.workflow_sessions
            (id, user_id, name, status, auto_run, execution_interval_minutes, next_execution_at)
        select {uid_sql('g', '10000000')}, {uid_sql(f'g % {USERS} + 1')}, 'strategy ' || g,
               case when g % 20 = 0 then 'error' when g % 20 < 16 then 'running' else 'paused' end,
               g % 2 = 0, 5,
               -- spread over [now - 1 min, now + 5 min): about 1/6 of scheduled strategies are due
               now() - interval '1 minute' + (g % 360) * interval '1 second'
        from generate_series({lo}, {hi}) as g""")
    w_lo, w_hi = wl_workflows
    if w_hi >= w_lo:
        conn.execute(f"""
            insert into public.strategy_watchlists (workflow_id, market_id, added_at, reason)
            select {uid_sql('w', '10000000')}, 'market-' || m,
                   timestamptz '2026-01-01' + (w * 1000 + m) * interval '1 second', 'signal'
            from generate_series({w_lo}, {w_hi}) as w, generate_series(1, 1000) as m""")
    e_lo, e_hi = executions
    if e_hi >= e_lo:
        conn.execute(f"""
            insert into public.workflow_executions (id, workflow_id, status, started_at, completed_at)
            select {uid_sql('e', '20000000')}, {uid_sql('e % 1000 + 1', '10000000')}, 'completed',
                   timestamptz '2026-01-01' + e * interval '1 minute',
                   timestamptz '2026-01-01' + e * interval '1 minute' + interval '20 seconds'
            from generate_series({e_lo}, {e_hi}) as e""")
        conn.execute(f"""
            insert into public.strategy_execution_logs
                (execution_id, workflow_id, node_id, node_type, status, started_at, completed_at, duration_ms)
            select {uid_sql('e', '20000000')}, {uid_sql('e % 1000 + 1', '10000000')}, 'node-' || n, 'filter',
                   'success',
                   timestamptz '2026-01-01' + e * interval '1 minute' + n * interval '100 milliseconds',
                   timestamptz '2026-01-01' + e * interval '1 minute' + n * interval '100 milliseconds'
                       + interval '50 milliseconds', 50
            from generate_series({e_lo}, {e_hi}) as e, generate_series(1, 100) as n""")
    conn.execute("reset session_replication_role")
    for table in ("workflow_sessions", "strategy_watchlists", "workflow_executions", "strategy_execution_logs"):
        conn.execute(f"vacuum analyze public.{table}")


CRON_QUERY = """select * from public.workflow_sessions
where auto_run = true and next_execution_at <= now() and status in ('running', 'error')
limit 25"""
CLAIM = "select * from public.claim_due_strategies(now(), 25)"
# Not the module's SQL: the claim as the module wrote it before commit 31867a8 (CTE of the
# locked ids joined back with UPDATE ... FROM), created in this benchmark's database only
# under another name, to show what the module's current id = any(array(...)) form buys.
PREVIOUS_CLAIM_FUNCTION = """create function public.bench_previous_claim_due_strategies(
    p_now timestamptz default now(), p_batch_size integer default 25)
returns setof public.workflow_sessions language sql volatile set search_path = '' as $$
    with due as (
        select ws.id from public.workflow_sessions as ws
        where ws.auto_run = true and ws.status in ('running', 'error') and ws.next_execution_at <= p_now
        order by ws.next_execution_at limit greatest(p_batch_size, 0) for update skip locked
    )
    update public.workflow_sessions as ws
    set next_execution_at = p_now + make_interval(mins => ws.execution_interval_minutes)
    from due where ws.id = due.id
    returning ws.*;
$$"""
PREVIOUS_CLAIM = "select * from public.bench_previous_claim_due_strategies(now(), 25)"
WATCHLIST = "select * from public.strategy_watchlists where workflow_id = %s order by added_at desc limit 100"
EXEC_LOG = "select * from public.strategy_execution_logs where execution_id = %s order by started_at asc"


def bench_strategy(c: Cluster, n: int) -> Section:
    url = c.clone("bench_hot_strategy")
    section = Section(
        "strategy_execution (seed 003): cron claim, watchlist lookup, execution-log lookup",
        HEADERS,
        note=("Stated scale: 1000 strategies, 1000 watchlist items, 100 nodes per execution. "
              "Strategies: half auto_run, 80% of those running/error, next run spread over 6 minutes "
              "(~1/6 due). Watchlists: 1000 markets per strategy. Logs: 100 nodes per execution."),
    )
    with connect(url) as conn:
        conn.execute(f"""insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {USERS}) g""")
        conn.execute(PREVIOUS_CLAIM_FUNCTION)
        conn.execute("grant execute on function public.bench_previous_claim_due_strategies(timestamptz, integer) "
                     "to service_role")
    steps = [("100x", 100_000, (1, 100), (1, 1_000)), ("1000x", 1_000_000, (101, 1000), (1_001, 10_000))]
    done = 0
    for label, strategies, wl, ex in steps:
        with connect(url) as conn:
            _seed_strategy(conn, done + 1, strategies, wl, ex)
        done = strategies
        rows = _count(url, "public.workflow_sessions")
        lat = _time(url, CRON_QUERY, lambda i: None, n)
        section.rows.append(_row("cron due query (doc text, LIMIT 25)", label, rows, lat, _plan(url, CRON_QUERY)))
        lat = _time(url, CLAIM, lambda i: None, max(n // 2, 20), role="service_role")
        section.rows.append(_row("claim_due_strategies(now(), 25), commit each", label, rows, lat,
                                 _plan(url, CLAIM, role="service_role")))
        lat = _time(url, PREVIOUS_CLAIM, lambda i: None, max(n // 2, 20), role="service_role")
        section.rows.append(_row("previous form (CTE + UPDATE ... FROM), commit each", label, rows, lat,
                                 _plan(url, PREVIOUS_CLAIM, role="service_role")))
        workflows = wl[1]
        rows = _count(url, "public.strategy_watchlists")
        lat = _time(url, WATCHLIST, lambda i: (uid(RNG.randint(1, workflows), "10000000"),), n)
        section.rows.append(_row("watchlist lookup (workflow_id, LIMIT 100 of 1000)", label, rows, lat,
                                 _plan(url, WATCHLIST, (uid(1, "10000000"),))))
        executions = ex[1]
        rows = _count(url, "public.strategy_execution_logs")
        lat = _time(url, EXEC_LOG, lambda i: (uid(RNG.randint(1, executions), "20000000"),), n)
        section.rows.append(_row("execution-log lookup (execution_id, 100 nodes)", label, rows, lat,
                                 _plan(url, EXEC_LOG, (uid(7, "20000000"),))))
    c.drop("bench_hot_strategy")
    return section


# ------------------------------------------------------------------ wealth_automation

CLAIM_RULES = "select * from public.claim_due_auto_invest_rules(now(), 100, 'bench')"
CLIENTS = 10_000
SCHEMES = 100


def _seed_wealth_people(conn: psycopg.Connection[Any]) -> None:
    """10,000 users with one client each and 100 schemes (products)."""
    conn.execute("set session_replication_role = replica")
    conn.execute(f"insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {CLIENTS}) g")
    conn.execute(f"insert into public.users (id) select {uid_sql('g')} from generate_series(1, {CLIENTS}) g")
    conn.execute(f"""insert into public.clients (id, user_id, full_name)
        select {uid_sql('g', '40000000')}, {uid_sql('g')}, 'client ' || g from generate_series(1, {CLIENTS}) g""")
    conn.execute(f"""insert into public.products (id, scheme_code, name)
        select {uid_sql('g', '50000000')}, 'S' || g, 'scheme ' || g from generate_series(1, {SCHEMES}) g""")
    conn.execute("reset session_replication_role")


def _without_triggers(conn: psycopg.Connection[Any], statement: str) -> None:
    """Seed with FK checks and user triggers off (session_replication_role = replica)."""
    conn.execute("set session_replication_role = replica")
    conn.execute(statement)
    conn.execute("reset session_replication_role")


def bench_wealth(c: Cluster, n: int) -> Section:
    url = c.clone("bench_hot_wealth")
    section = Section(
        "wealth_automation (seeds 000/001): due auto-invest rules claim",
        HEADERS,
        note=("No stated scale; we take 1000 rules. 10,000 clients, 100 schemes; 80% Active; "
              "next_execution_date spread over 31 days (~2/31 due). One call claims 100 rules: it "
              "locks them, inserts 100 execution logs and advances 100 rules, then commits."),
    )
    with connect(url) as conn:
        _seed_wealth_people(conn)
    done = 0
    for label, rules in (("100x", 100_000), ("1000x", 1_000_000)):
        with connect(url) as conn:
            _without_triggers(conn, f"""
                insert into public.auto_invest_rules
                    (client_id, scheme_id, name, amount, frequency, start_date, day_of_month,
                     next_execution_date, status)
                select {uid_sql(f'g % {CLIENTS} + 1', '40000000')}, {uid_sql(f'g % {SCHEMES} + 1', '50000000')},
                       'rule ' || g, 1000,
                       case g % 10 when 0 then 'Weekly' when 1 then 'Daily' else 'Monthly' end,
                       current_date - 400, (g % 28) + 1,
                       current_date - 1 + (g % 31),
                       case when g % 10 < 8 then 'Active' else 'Paused' end
                from generate_series({done + 1}, {rules}) g""")
            conn.execute("vacuum analyze public.auto_invest_rules")
            conn.execute("vacuum analyze public.automation_execution_logs")
        done = rules
        rows = _count(url, "public.auto_invest_rules")
        lat = _time(url, CLAIM_RULES, lambda i: None, max(n // 8, 20), role="service_role", warmup=3)
        section.rows.append(_row("claim_due_auto_invest_rules(now(), 100), commit each", label, rows, lat,
                                 _plan(url, CLAIM_RULES, role="service_role")))
    c.drop("bench_hot_wealth")
    return section


# Trigger orders: Price / NAV orders watch their scheme, Portfolio Value orders their client.
# 'Greater' thresholds sit in [100, 200), 'Less' thresholds in (1, 100] (x1000 for Portfolio
# Value); an observation of 100.5 (100,500) crosses 0.5% of the Greater orders of its subject.
SEED_TRIGGER_ORDERS = """
insert into public.trigger_orders
    (client_id, scheme_id, trigger_type, trigger_condition, trigger_value, order_type, amount, status)
select {client}, {scheme},
       case g % 3 when 0 then 'Price' when 1 then 'NAV' else 'Portfolio Value' end,
       (array['Greater Than', 'Greater Than Or Equal', 'Less Than', 'Less Than Or Equal'])[(g / 3) % 4 + 1],
       (case when (g / 3) % 4 < 2 then 100 + (((g % 10000) * 7919) % 10000) / 100.0
             else 100 - (((g % 10000) * 7919) % 9900) / 100.0 end)
       * case when g % 3 = 2 then 1000 else 1 end,
       'Purchase', 1000,
       case when g % 10 < 8 then 'Active' else 'Cancelled' end
from generate_series({lo}, {hi}) g"""
OBSERVED_CLIENTS = 1000
EVALUATE = "select * from public.evaluate_trigger_orders(%s::jsonb, now(), 1000, 'bench')"


def _observations() -> str:
    """One price feed: Price and NAV of all 100 schemes, Portfolio Value of 1000 clients."""
    feed: list[dict[str, Any]] = []
    for i in range(1, SCHEMES + 1):
        feed.append({"trigger_type": "Price", "scheme_id": uid(i, "50000000"), "value": 100.5})
        feed.append({"trigger_type": "NAV", "scheme_id": uid(i, "50000000"), "value": 100.5})
    for i in range(1, OBSERVED_CLIENTS + 1):
        feed.append({"trigger_type": "Portfolio Value", "client_id": uid(i, "40000000"), "value": 100_500})
    return json.dumps(feed)


def bench_trigger_orders(c: Cluster, n: int) -> Section:
    url = c.clone("bench_hot_trigger_orders")
    feed = _observations()
    observations = len(json.loads(feed))
    section = Section(
        "wealth_automation (seeds 000/001): evaluate_trigger_orders on one price feed",
        HEADERS,
        note=(f"No stated scale; we take 1000 trigger orders. 10,000 clients, 100 schemes; orders split evenly "
              f"over Price / NAV / Portfolio Value and the four conditions, 80% Active. One call passes "
              f"{observations:,} observations (Price and NAV of every scheme, Portfolio Value of 1000 clients) "
              "that cross ~0.25% of the active orders' thresholds; batch 1000 (the default). Each call runs as "
              "service_role in a transaction that is rolled back, so every call sees the same orders; the "
              "timing includes BEGIN and ROLLBACK."),
    )
    with connect(url) as conn:
        _seed_wealth_people(conn)
    done = 0
    for label, orders in (("100x", 100_000), ("1000x", 1_000_000)):
        with connect(url) as conn:
            _without_triggers(conn, SEED_TRIGGER_ORDERS.format(
                client=uid_sql(f"g % {CLIENTS} + 1", "40000000"), scheme=uid_sql(f"g % {SCHEMES} + 1", "50000000"),
                lo=done + 1, hi=orders))
            conn.execute("vacuum analyze public.trigger_orders")
        done = orders
        rows = _count(url, "public.trigger_orders")
        with connect(url) as conn:
            conn.execute("set role service_role")

            def call(i: int) -> None:
                conn.execute("begin")
                conn.execute(EVALUATE, (feed,), prepare=True).fetchall()
                conn.execute("rollback")

            lat = latency(call, max(n // 8, 20), warmup=3)
            conn.execute("reset role")
            with captured_plans(conn) as plans:
                conn.execute("set role service_role")
                conn.execute("begin")
                triggered = len(conn.execute(EVALUATE, (feed,)).fetchall())
                conn.execute("rollback")
        section.rows.append(_row(f"evaluate_trigger_orders({observations:,} observations) triggers {triggered:,}, "
                                 "rolled back", label, rows, lat, summarize_plans(plans)))
    c.drop("bench_hot_trigger_orders")
    return section


# ------------------------------------------------------------------ automations

LEAD = "insert into public.leads (user_id, name) values (%s, 'lead') returning id"
ACCOUNTS = 1000
HEAVY = ACCOUNTS + 1
EMPTY = ACCOUNTS + 2


def seed_automations(conn: psycopg.Connection[Any], per_account: int = 100) -> None:
    """1000 accounts x per_account automations (25% event: ~7 per account match a lead INSERT),
    one heavy account with 1000 event automations (100 match) and one account with none."""
    conn.execute("set session_replication_role = replica")
    conn.execute(f"insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {EMPTY}) g")
    conn.execute(f"""insert into public.agents (id, user_id, name)
        select {uid_sql('g', '30000000')}, {uid_sql('g')}, 'agent ' || g from generate_series(1, {EMPTY}) g""")
    conn.execute(f"""
        insert into public.automations (agent_id, user_id, name, status, enabled, trigger_type, trigger_config)
        select {uid_sql('a', '30000000')}, {uid_sql('a')}, 'automation ' || j,
               case when j % 2 = 0 then 'active' else 'paused' end, j % 2 = 0,
               case when j < 25 then 'event' when j % 3 = 0 then 'schedule' when j % 3 = 1 then 'manual'
                    else 'ai_tool' end,
               case when j < 25 then jsonb_build_object(
                        'event_source', case when j % 4 = 0 then 'lead' else 'conversation' end,
                        'event_type', case when j % 8 = 0 then 'INSERT' when j % 8 = 4 then 'any' else 'UPDATE' end)
                    else '{{}}'::jsonb end
        from generate_series(1, {ACCOUNTS}) a, generate_series(0, {per_account - 1}) j""")
    conn.execute(f"""
        insert into public.automations (agent_id, user_id, name, status, enabled, trigger_type, trigger_config)
        select {uid_sql(str(HEAVY), '30000000')}, {uid_sql(str(HEAVY))}, 'heavy ' || j, 'active', true, 'event',
               jsonb_build_object('event_source', 'lead', 'event_type', case when j % 10 = 0 then 'any' else 'UPDATE' end)
        from generate_series(0, 999) j""")
    conn.execute("reset session_replication_role")
    conn.execute("vacuum analyze public.automations")
    conn.execute("vacuum analyze public.agents")


def bench_automations(c: Cluster, n: int) -> Section:
    url = c.clone("bench_hot_automations")
    with connect(url) as conn:
        seed_automations(conn)
        rows = _count(url, "public.automations")
    section = Section(
        "automations (seed 004): event-trigger matching on a lead INSERT",
        HEADERS[:2] + ["automations rows"] + HEADERS[3:],
        note=("No stated scale; 1000 accounts x 100 automations (the 100x reading of 'many automations "
              "present'). Each INSERT is its own transaction; the AFTER INSERT trigger matches the "
              "account's event automations and sends one NOTIFY per match (no listener)."),
    )
    cases: list[tuple[str, Callable[[int], tuple[str]]]] = [("lead INSERT, account with 7 matching of 100", lambda i: (uid(RNG.randint(1, ACCOUNTS)),)),
             ("lead INSERT, account with 0 automations", lambda i: (uid(EMPTY),)),
             ("lead INSERT, account with 100 matching of 1000", lambda i: (uid(HEAVY),))]
    for name, params in cases:
        lat = _time(url, LEAD, params, n)
        section.rows.append(_row(name, "100x", rows, lat, _plan(url, LEAD, params(0))))
    c.drop("bench_hot_automations")
    return section


# ------------------------------------------------------------------ alm_reporting

DATES = "select * from alm_reporting.dates_needing_import(%s, %s)"


def bench_alm(c: Cluster, n: int) -> Section:
    url = c.clone("bench_hot_alm")
    section = Section(
        "alm_reporting (seed 002): dates needing import over a one-year window",
        HEADERS,
        note=("Stated scale: one year of daily imports (365 rows). import_history grown to 100 and "
              "1000 years of daily rows (5% FAILED); the query asks for one year (2025) or ten years."),
    )
    done = 0
    for label, days in (("100x", 36_500), ("1000x", 365_000)):
        with connect(url) as conn:
            conn.execute(f"""
                insert into alm_reporting.import_history (import_date, import_type, status, records_imported,
                                                          started_at, completed_at)
                select date '2026-01-01' - g, 'DAILY', case when g % 20 = 0 then 'FAILED' else 'SUCCESS' end, 1000,
                       (date '2026-01-01' - g) + time '06:00', (date '2026-01-01' - g) + time '06:05'
                from generate_series({done + 1}, {days}) g""")
            conn.execute("vacuum analyze alm_reporting.import_history")
        done = days
        rows = _count(url, "alm_reporting.import_history")
        year = ("2025-01-01", "2025-12-31")
        lat = _time(url, DATES, lambda i: year, n, role="service_role")
        section.rows.append(_row("dates_needing_import(2025-01-01, 2025-12-31)", label, rows, lat,
                                 _plan(url, DATES, year, role="service_role")))
        decade = ("2016-01-01", "2025-12-31")
        lat = _time(url, DATES, lambda i: decade, max(n // 4, 20), role="service_role")
        section.rows.append(_row("dates_needing_import, ten-year window", label, rows, lat,
                                 _plan(url, DATES, decade, role="service_role")))
    c.drop("bench_hot_alm")
    return section


def run(c: Cluster, n: int = 200) -> list[Section]:
    return run_timed(c, (bench_strategy, bench_wealth, bench_trigger_orders, bench_automations, bench_alm), n)


if __name__ == "__main__":
    standalone(run)
