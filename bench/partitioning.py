"""Benchmark: automation_executions partitioned by month (docs/partitioning.md) against the
module's unpartitioned table, at 10,000,000 executions.

Both databases hold the same rows: 10,000 accounts, 200,000 automations, 10,000,000
executions started over the last 150 days (finished ones completed a minute after they
started; only the last day holds running and pending runs). One is converted with
docs/partitioning/automation_executions_by_month.sql and the module's policy file, as the
document describes; the other keeps the module's table. Measured in each:
  * inserts: 100,000 new executions in one INSERT ... SELECT, and 2,000 single-row INSERTs
    committed one by one (µs per row, median of runs);
  * the recent-executions read under RLS ("my latest 50"), exec ms (EXPLAIN ANALYZE);
  * retention: the unpartitioned table's `select public.cleanup_old_executions()` against
    drop_expired_automation_execution_partitions() followed by cleanup_old_executions() for
    what is left in months that still hold recent rows.

Usage: python bench/partitioning.py [--executions 10000000]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from typing import Any

from common import ROOT, Cluster, Section, connect, standalone, uid, uid_sql

ACCOUNTS = 10_000
AUTOMATIONS = 200_000
DAYS = 150
CONVERT = ROOT / "docs" / "partitioning" / "automation_executions_by_month.sql"
POLICIES = ROOT / "sql" / "policies" / "public.automation_executions.sql"
USER = 7


def _seed(url: str, executions: int) -> None:
    step = DAYS * 86400 / executions
    with connect(url) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute(f"insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {ACCOUNTS}) g")
        conn.execute(f"insert into public.agents (id, user_id, name) select {uid_sql('g', '30000000')}, {uid_sql('g')}, "
                     f"'agent' from generate_series(1, {ACCOUNTS}) g")
        conn.execute(f"""insert into public.automations (id, agent_id, user_id, name, trigger_type)
            select {uid_sql('g', '60000000')}, {uid_sql(f'g % {ACCOUNTS} + 1', '30000000')},
                   {uid_sql(f'g % {ACCOUNTS} + 1')}, 'automation ' || g, 'manual'
            from generate_series(1, {AUTOMATIONS}) g""")
        chunk = 1_000_000
        for lo in range(1, executions + 1, chunk):
            hi = min(lo + chunk - 1, executions)
            conn.execute(f"""insert into public.automation_executions (automation_id, trigger_type, status, started_at,
                                                                  completed_at)
                select {uid_sql(f'g % {AUTOMATIONS} + 1', '60000000')}, 'manual', s.status, s.started,
                       case when s.status in ('running', 'pending') then null else s.started + interval '1 minute' end
                from generate_series({lo}, {hi}) g,
                     lateral (select now() - ({executions} - g) * interval '{step:.6f} seconds' as started) t,
                     lateral (select t.started, case
                         when t.started > now() - interval '1 day' and g % 10 = 8 then 'running'
                         when t.started > now() - interval '1 day' and g % 10 = 9 then 'pending'
                         when g % 10 = 6 then 'failed' when g % 10 = 7 then 'cancelled'
                         else 'completed' end as status) s""")
        conn.execute("reset session_replication_role")
        for table in ("auth.users", "public.agents", "public.automations", "public.automation_executions"):
            conn.execute(f"vacuum analyze {table}")


def _convert(url: str) -> float:
    started = time.perf_counter()
    with connect(url) as conn:
        conn.execute(CONVERT.read_text(encoding="utf-8"))
        conn.execute(POLICIES.read_text(encoding="utf-8"))
        conn.execute("vacuum analyze public.automation_executions")
    return time.perf_counter() - started


def _latest(url: str, n: int = 50) -> tuple[float, str]:
    query = "select * from public.automation_executions order by started_at desc limit 50"
    with connect(url) as conn:
        conn.execute("set role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, false)",
                     (json.dumps({"sub": uid(USER), "role": "authenticated"}),))
        times = []
        lines: list[str] = []
        for _ in range(n):
            lines = [r[0] for r in conn.execute("explain (analyze, timing off, costs off) " + query).fetchall()]
            m = re.search(r"Execution Time: ([\d.]+)", lines[-1])
            times.append(float(m.group(1)) if m else float("nan"))
    scans = len([line for line in lines if "Scan" in line and "actual rows" in line])
    return statistics.median(times), f"{scans} scan nodes"


def _inserts(url: str, runs: int = 3) -> tuple[float, float]:
    bulk = (f"insert into public.automation_executions (automation_id, trigger_type, status) "
            f"select {uid_sql(f'g % {AUTOMATIONS} + 1', '60000000')}, 'manual', 'running' "
            "from generate_series(1, 100000) g")
    bulk_us: list[float] = []
    single_us: list[float] = []
    with connect(url) as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(bulk)
            bulk_us.append((time.perf_counter() - started) * 1e6 / 100_000)
            started = time.perf_counter()
            for i in range(2000):
                conn.execute("insert into public.automation_executions (automation_id, trigger_type, status) "
                             "values (%s, 'manual', 'running')", (uid(i % AUTOMATIONS + 1, "60000000"),))
            single_us.append((time.perf_counter() - started) * 1e6 / 2000)
    return statistics.median(bulk_us), statistics.median(single_us)


def _retention(url: str, partitioned: bool) -> tuple[float, int, str]:
    with connect(url) as conn:
        before = int(conn.execute("select count(*) from public.automation_executions").fetchone()[0])  # type: ignore[index]
        started = time.perf_counter()
        detail = ""
        if partitioned:
            dropped = int(conn.execute("select public.drop_expired_automation_execution_partitions()").fetchone()[0])  # type: ignore[index]
            detail = f"{dropped} partitions dropped; "
        deleted = int(conn.execute("select public.cleanup_old_executions()").fetchone()[0])  # type: ignore[index]
        seconds = time.perf_counter() - started
        after = int(conn.execute("select count(*) from public.automation_executions").fetchone()[0])  # type: ignore[index]
    return seconds, before - after, detail + f"{deleted:,} rows deleted by cleanup_old_executions()"


def run(c: Cluster, executions: int = 10_000_000) -> list[Section]:
    plain = c.clone("bench_part_plain")
    started = time.perf_counter()
    _seed(plain, executions)
    print(f"  seed {executions:,}: {time.perf_counter() - started:.0f}s", flush=True)
    parted = c.clone("bench_part_parted", template="bench_part_plain")
    convert_s = _convert(parted)
    print(f"  convert: {convert_s:.0f}s", flush=True)
    section = Section(
        f"automation_executions partitioned by month against the module's table, {executions:,} executions",
        ["measure", "unpartitioned (module)", "partitioned by month", "note"],
        note=(f"{ACCOUNTS:,} accounts, {AUTOMATIONS:,} automations, executions started over the last {DAYS} days "
              f"(running/pending only in the last day). Conversion of the copy with "
              f"docs/partitioning/automation_executions_by_month.sql and the module's policy file: {convert_s:.0f} s."),
    )
    rows: dict[str, list[Any]] = {}
    for label, url in (("plain", plain), ("parted", parted)):
        latest_ms, scans = _latest(url)
        bulk, single = _inserts(url)
        rows.setdefault("latest", []).append((latest_ms, scans))
        rows.setdefault("bulk", []).append(bulk)
        rows.setdefault("single", []).append(single)
    for label, url in (("plain", plain), ("parted", parted)):
        rows.setdefault("retention", []).append(_retention(url, label == "parted"))
    (pl, pls), (pa, pas) = rows["latest"]
    section.rows.append(["my latest 50 executions under RLS, exec ms (median of 50)", pl, pa,
                         f"plan: {pls} unpartitioned, {pas} partitioned"])
    section.rows.append(["INSERT ... SELECT 100,000 executions, µs/row", rows["bulk"][0], rows["bulk"][1], ""])
    section.rows.append(["single-row INSERT, committed each, µs/row (client)", rows["single"][0], rows["single"][1], ""])
    (s0, d0, n0), (s1, d1, n1) = rows["retention"]
    section.rows.append(["retention run, s", s0, s1, f"unpartitioned: {d0:,} rows deleted; partitioned: {d1:,} rows "
                                                    f"gone ({n1})"])
    c.drop("bench_part_parted")
    c.drop("bench_part_plain")
    return [section]


def main() -> None:
    parser = argparse.ArgumentParser(description="automation_executions partitioned by month")
    parser.add_argument("--executions", type=int, default=10_000_000)
    args = parser.parse_args()
    standalone(lambda c: run(c, args.executions))


if __name__ == "__main__":
    main()
