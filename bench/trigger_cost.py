"""Benchmark: what the modules' row triggers cost on bulk writes, and what
cleanup_old_executions costs on 200,000 executions.

Each write is one statement in its own transaction, committed (so NOTIFYs are really
queued), measured with and without the trigger (ALTER TABLE ... DISABLE TRIGGER in this
benchmark's own database), runs interleaved, median of `runs`; the table is emptied
(TRUNCATE) or vacuumed between runs so every run starts from the same state.

* duration_ms: strategy_execution_logs_duration (BEFORE INSERT OR UPDATE), 100,000 rows.
* updated_at: update_automations_updated_at (BEFORE UPDATE; the updated_at triggers fire on
  UPDATE only, so the bulk write is an UPDATE of 100,000 automations).
* event NOTIFY: trigger_lead_automations (AFTER INSERT), 10,000 leads for accounts with 7
  matching event automations (70,000 NOTIFYs, received by a listener) or with none.

Usage: python bench/trigger_cost.py   (starts its own throwaway cluster)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from common import Cluster, Section, captured_plans, connect, latency, run_timed, standalone
from common import summarize_plans, uid_sql
from hot_queries import ACCOUNTS, EMPTY, seed_automations

ROWS = 100_000
LEADS = 10_000

INSERT_LOGS = f"""
insert into public.strategy_execution_logs
    (execution_id, workflow_id, node_id, node_type, status, started_at, completed_at)
select {uid_sql('g % 1000 + 1', '20000000')}, {uid_sql('g % 1000 + 1', '10000000')}, 'node-' || g, 'filter', 'success',
       timestamptz '2026-01-01' + g * interval '1 second',
       timestamptz '2026-01-01' + g * interval '1 second' + interval '250 milliseconds'
from generate_series(1, {ROWS}) g"""
UPDATE_AUTOMATIONS = "update public.automations set execution_count = execution_count + 1"
INSERT_LEADS_MATCHING = f"""
insert into public.leads (user_id, name)
select {uid_sql(f'g % {ACCOUNTS} + 1')}, 'lead ' || g from generate_series(1, {LEADS}) g"""
INSERT_LEADS_NO_MATCH = f"""
insert into public.leads (user_id, name)
select {uid_sql(str(EMPTY))}, 'lead ' || g from generate_series(1, {LEADS}) g"""


def _seed(conn: psycopg.Connection[Any]) -> None:
    seed_automations(conn)  # 1000 accounts x 100 automations (+ 2 special accounts)
    conn.execute("set session_replication_role = replica")
    conn.execute(f"""insert into public.workflow_sessions (id, user_id, name)
        select {uid_sql('g', '10000000')}, {uid_sql('g')}, 'strategy' from generate_series(1, 1000) g""")
    conn.execute(f"""insert into public.workflow_executions (id, workflow_id)
        select {uid_sql('g', '20000000')}, {uid_sql('g', '10000000')} from generate_series(1, 1000) g""")
    conn.execute("reset session_replication_role")
    conn.execute("vacuum analyze public.workflow_sessions")
    conn.execute("vacuum analyze public.workflow_executions")


def _pair(conn: psycopg.Connection[Any], table: str, trigger: str, statement: str, reset: Callable[[], None],
          runs: int, after: Callable[[], Any] | None = None) -> tuple[float, float, Any]:
    """Median seconds of statement with the trigger enabled and disabled (interleaved)."""
    on: list[float] = []
    off: list[float] = []
    extra = None
    for _ in range(runs):
        for enabled, samples in ((True, on), (False, off)):
            conn.execute(f"alter table {table} {'enable' if enabled else 'disable'} trigger {trigger}")
            reset()
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(statement)
            samples.append(time.perf_counter() - started)
            if enabled and after is not None:
                extra = after()
    conn.execute(f"alter table {table} enable trigger {trigger}")
    reset()
    return sorted(on)[len(on) // 2], sorted(off)[len(off) // 2], extra


HEADERS = ["trigger", "bulk statement", "rows", "with trigger s", "without s", "cost per row µs", "overhead"]


def _row(trigger: str, what: str, rows: int, on: float, off: float) -> list[Any]:
    return [trigger, what, f"{rows:,}", on, off, (on - off) / rows * 1e6, f"{(on / off - 1) * 100:+.0f}%"]


def bench_triggers(c: Cluster, runs: int) -> Section:
    url = c.clone("bench_triggers")
    section = Section(
        "Trigger cost on bulk writes (median of %d runs each, interleaved)" % runs,
        HEADERS,
        note=("One statement per transaction, committed. 'without' = ALTER TABLE ... DISABLE TRIGGER. "
              "The NOTIFY rows are received by a LISTEN connection, drained after each run (not timed)."),
    )
    with connect(url) as conn:
        _seed(conn)
    with connect(url) as conn, connect(url) as listener:
        def truncate_logs() -> None:
            conn.execute("truncate public.strategy_execution_logs")

        on, off, _ = _pair(conn, "public.strategy_execution_logs", "strategy_execution_logs_duration",
                           INSERT_LOGS, truncate_logs, runs)
        section.rows.append(_row("strategy_execution_logs_duration (duration_ms)", "INSERT ... SELECT", ROWS, on, off))

        def vacuum_automations() -> None:
            conn.execute("vacuum public.automations")

        on, off, _ = _pair(conn, "public.automations", "update_automations_updated_at",
                           UPDATE_AUTOMATIONS, vacuum_automations, runs)
        rows = int(conn.execute("select count(*) from public.automations").fetchone()[0])  # type: ignore[index]
        section.rows.append(_row("update_automations_updated_at (updated_at)", "UPDATE all rows", rows, on, off))

        listener.execute("listen automation_trigger")

        def truncate_leads() -> None:
            conn.execute("truncate public.leads, public.conversations, public.automation_executions")

        def drain() -> int:
            return sum(1 for _ in listener.notifies(timeout=2.0, stop_after=LEADS * 7))

        on, off, received = _pair(conn, "public.leads", "trigger_lead_automations", INSERT_LEADS_MATCHING,
                                  truncate_leads, runs, after=drain)
        section.rows.append(_row(f"trigger_lead_automations, 7 matches per lead ({received:,} NOTIFYs received)",
                                 "INSERT ... SELECT", LEADS, on, off))
        on, off, _ = _pair(conn, "public.leads", "trigger_lead_automations", INSERT_LEADS_NO_MATCH,
                           truncate_leads, runs)
        section.rows.append(_row("trigger_lead_automations, no matching automation", "INSERT ... SELECT",
                                 LEADS, on, off))
    c.drop("bench_triggers")
    return section


# ------------------------------------------------------------------ cleanup_old_executions

EXECUTIONS = 200_000
SEED_EXECUTIONS = f"""
insert into public.automation_executions (automation_id, trigger_type, status, started_at, completed_at, duration_ms)
select a.id, 'event',
       case when g % 10 < 6 then 'completed' when g % 10 = 6 then 'failed' when g % 10 = 7 then 'cancelled'
            when g % 10 = 8 then 'running' else 'pending' end,
       now() - (g % 90) * interval '1 day' - interval '1 minute',
       case when g % 10 < 8 then now() - (g % 90) * interval '1 day' end,
       case when g % 10 < 8 then 60000 end
from generate_series(1, {EXECUTIONS}) g
join (select id, row_number() over (order by id) as k from public.automations) a on a.k = g % 100000 + 1"""


_DUE = """(x.status in ('completed', 'cancelled') and x.completed_at < now() - interval '30 days')
               or (x.status = 'failed' and x.completed_at < now() - interval '7 days')"""
# One batch of the module's function as installed (one DELETE of at most 5000 rows), and, not
# in the module, the batch as the module wrote it before commit 6552b13 (id IN (select ...)).
ONE_BATCH = "select public.cleanup_old_executions(5000, 1)"
PREVIOUS_BATCH = f"""delete from public.automation_executions as e where e.id in (
    select x.id from public.automation_executions as x where {_DUE} limit 5000 for update skip locked)"""


def bench_cleanup(c: Cluster, runs: int) -> Section:
    url = c.clone("bench_cleanup_seed")
    with connect(url) as conn:
        seed_automations(conn)
        conn.execute("set session_replication_role = replica")
        conn.execute(SEED_EXECUTIONS)
        conn.execute("reset session_replication_role")
        conn.execute("vacuum analyze public.automation_executions")
        eligible = int(conn.execute("""select count(*) from public.automation_executions
            where (status in ('completed', 'cancelled') and completed_at < now() - interval '30 days')
               or (status = 'failed' and completed_at < now() - interval '7 days')""").fetchone()[0])  # type: ignore[index]
    section = Section(
        f"cleanup_old_executions() on {EXECUTIONS:,} automation_executions",
        ["call", "rows deleted", "n", "p50 s / ms", "p95", "plan of one batch (scans)"],
        note=(f"60% completed, 10% failed, 10% cancelled, 20% running/pending, completed_at spread over 90 days: "
              f"{eligible:,} rows are due for deletion. Defaults: 5000 rows per DELETE, at most 100 DELETEs "
              "per call. The full drain is measured on a fresh copy of the seeded database each run."),
    )
    drained: list[float] = []
    deleted = 0
    for i in range(runs):
        run_url = c.clone(f"bench_cleanup_{i}", template="bench_cleanup_seed")
        with connect(run_url) as conn:
            started = time.perf_counter()
            deleted = int(conn.execute("select public.cleanup_old_executions()").fetchone()[0])  # type: ignore[index]
            drained.append(time.perf_counter() - started)
        if i < runs - 1:
            c.drop(f"bench_cleanup_{i}")
    drained.sort()
    section.rows.append(["full drain, one call (s)", f"{deleted:,}", runs, drained[len(drained) // 2], drained[-1],
                         _batch_plan(url)])
    for name, statement in (("one batch of 5000, module: cleanup_old_executions(5000, 1), rolled back (ms)",
                             ONE_BATCH),
                            ("one batch of 5000, previous form: id IN (select ...), rolled back (ms)",
                             PREVIOUS_BATCH)):
        with connect(url) as conn:
            def batch(i: int) -> None:
                conn.execute("begin")
                conn.execute(statement)
                conn.execute("rollback")

            lat = latency(batch, 10, warmup=2)
            conn.execute("begin")
            with captured_plans(conn) as plans:
                conn.execute(statement)
            conn.execute("rollback")
        section.rows.append([name, "5,000", lat.n, lat.p50, lat.p95, summarize_plans(plans)])
    last = c.url(f"bench_cleanup_{runs - 1}")
    with connect(last) as conn:
        conn.execute("vacuum analyze public.automation_executions")

        def call(i: int) -> None:
            conn.execute("select public.cleanup_old_executions()").fetchone()

        lat = latency(call, 50, warmup=5)
    section.rows.append(["next daily call, nothing to delete (ms)", 0, lat.n, lat.p50, lat.p95, _batch_plan(last)])
    c.drop(f"bench_cleanup_{runs - 1}")
    c.drop("bench_cleanup_seed")
    return section


def _batch_plan(url: str) -> str:
    with connect(url) as conn:
        conn.execute("begin")
        with captured_plans(conn) as plans:
            conn.execute("select public.cleanup_old_executions(5000, 1)").fetchall()
        conn.execute("rollback")
    return summarize_plans(plans)


def run(c: Cluster, runs: int = 3) -> list[Section]:
    return run_timed(c, (bench_triggers, bench_cleanup), runs)


if __name__ == "__main__":
    standalone(run)
