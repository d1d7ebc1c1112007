"""Benchmark: what RLS costs on the same SELECT.

100,000 strategy_watchlists rows (1000 users x 2 strategies x 50 markets) and 100,000
automations (1000 accounts x 100; every user is also a member of one other account).
Each query runs as `authenticated` with request.jwt.claims set (RLS applies) and as the
table owner (postgres, RLS not applied), where the owner's query states the same filter
explicitly, so both return the same rows. The first table uses the policies the modules
install. The second compares policy forms: the module's current one (read from pg_policy,
so it is whatever the module installs today) against the previous module form (EXISTS
with (select auth.uid())) and the seed's bare auth.uid(), each swapped in with ALTER
POLICY in this benchmark's own database; the installed definitions are put back at the
end.

Usage: python bench/rls_overhead.py   (starts its own throwaway cluster)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import Cluster, Section, captured_plans, connect, latency, standalone, summarize_plans
from common import uid, uid_sql

USERS = 1000
USER = 7  # the benchmark's user: owns strategies 7 and 1007, account 7, member of account 8
CLAIMS = json.dumps({"sub": uid(USER), "role": "authenticated"})

SEED = f"""
set session_replication_role = replica;
insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {USERS}) g;
insert into public.workflow_sessions (id, user_id, name)
select {uid_sql('w', '10000000')}, {uid_sql(f'(w - 1) % {USERS} + 1')}, 'strategy ' || w
from generate_series(1, {2 * USERS}) w;
insert into public.strategy_watchlists (workflow_id, market_id, added_at)
select {uid_sql('w', '10000000')}, 'market-' || m, timestamptz '2026-01-01' + (w * 50 + m) * interval '1 second'
from generate_series(1, {2 * USERS}) w, generate_series(1, 50) m;
insert into public.agents (id, user_id, name)
select {uid_sql('g', '30000000')}, {uid_sql('g')}, 'agent ' || g from generate_series(1, {USERS}) g;
insert into public.account_members (account_id, user_id)
select {uid_sql(f'g % {USERS} + 1')}, {uid_sql('g')} from generate_series(1, {USERS}) g;
insert into public.automations (agent_id, user_id, name, trigger_type)
select {uid_sql('a', '30000000')}, {uid_sql('a')}, 'automation ' || j, 'manual'
from generate_series(1, {USERS}) a, generate_series(1, 100) j;
insert into public.notifications (user_id, type, title, message, created_at)
select {uid_sql(f'g % {USERS} + 1')}, 'info', 'title', 'message', timestamptz '2026-01-01' + g * interval '1 minute'
from generate_series(1, 100000) g;
reset session_replication_role;
vacuum analyze public.notifications;
vacuum analyze auth.users;
vacuum analyze public.workflow_sessions;
vacuum analyze public.strategy_watchlists;
vacuum analyze public.agents;
vacuum analyze public.account_members;
vacuum analyze public.automations
"""

WORKFLOW = uid(USER, "10000000")
AGENT = uid(USER, "30000000")
ACCOUNT_MEMBER_OF = uid(USER % USERS + 1)

# (name, query as authenticated, same rows as owner without RLS, params)
CASES: list[tuple[str, str, str, tuple[Any, ...]]] = [
    ("watchlist: one strategy, LIMIT 100",
     "select * from public.strategy_watchlists where workflow_id = %s order by added_at desc limit 100",
     "select * from public.strategy_watchlists where workflow_id = %s order by added_at desc limit 100",
     (WORKFLOW,)),
    ("watchlist: all of mine (no WHERE)",
     "select * from public.strategy_watchlists",
     "select * from public.strategy_watchlists as sw where sw.workflow_id in "
     "(select ws.id from public.workflow_sessions as ws where ws.user_id = %s)",
     (uid(USER),)),
    ("automations: one agent",
     "select id, name from public.automations where agent_id = %s",
     "select id, name from public.automations where agent_id = %s",
     (AGENT,)),
    ("automations: all visible (no WHERE)",
     "select id, name from public.automations",
     "select id, name from public.automations where user_id = %s or user_id in "
     "(select m.account_id from public.account_members as m where m.user_id = %s)",
     (uid(USER), uid(USER))),
]

WATCHLIST_POLICY = "strategy_watchlists_select_own"
NOTIFICATIONS_POLICY = "notifications_select_own"
UNREAD = "select count(*) from public.notifications where read = false"
NO_INDEX = "set enable_indexscan = off; set enable_bitmapscan = off"
# Previous module form of strategy_watchlists_select_own (before commit 8a99ea9), and the
# same with the seed's bare auth.uid(). The module's current form is read from the catalog.
BARE = ("exists (select 1 from public.workflow_sessions as ws "
        "where ws.id = strategy_watchlists.workflow_id and ws.user_id = auth.uid())")
WRAPPED = ("exists (select 1 from public.workflow_sessions as ws "
           "where ws.id = strategy_watchlists.workflow_id and ws.user_id = (select auth.uid()))")

POLICY_QUAL = """select pg_catalog.pg_get_expr(p.polqual, p.polrelid) from pg_catalog.pg_policy as p
where p.polname = %s and p.polrelid = %s::regclass"""


def _installed(url: str, policy: str, table: str) -> str:
    """The USING expression of a policy as the module installed it."""
    with connect(url) as conn:
        row = conn.execute(POLICY_QUAL, (policy, table)).fetchone()
    if row is None:
        raise RuntimeError(f"policy {policy} on {table} is not installed")
    return str(row[0])


HEADERS = ["query", "run as", "rows", "n", "p50 ms", "p95 ms", "plan (scans)"]


def _measure(url: str, query: str, params: tuple[Any, ...], *, as_user: bool, n: int, jit: bool = True,
             setup: str = "") -> list[Any]:
    with connect(url) as conn:
        conn.execute(f"set jit = {'on' if jit else 'off'}")
        if setup:
            conn.execute(setup)
        with captured_plans(conn) as plans:
            if as_user:
                conn.execute("set role authenticated")
                conn.execute("select set_config('request.jwt.claims', %s, false)", (CLAIMS,))
            rows = len(conn.execute(query, params if not as_user else _user_params(query, params)).fetchall())
        plan = summarize_plans(plans)
        if as_user:
            conn.execute("set role authenticated")
            conn.execute("select set_config('request.jwt.claims', %s, false)", (CLAIMS,))
        bound = params if not as_user else _user_params(query, params)

        def call(i: int) -> None:
            conn.execute(query, bound).fetchall()

        lat = latency(call, n, min_n=6)
    return [rows, lat.n, lat.p50, lat.p95, plan]


def _user_params(query: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    return params[: query.count("%s")]


def run(c: Cluster, n: int = 100, other: bool = True) -> list[Section]:
    url = c.clone("bench_rls")
    with connect(url) as conn:
        for statement in SEED.split(";\n"):
            conn.execute(statement)
    section = Section(
        "RLS overhead: the same SELECT as authenticated (RLS) and as the table owner (no RLS)",
        HEADERS,
        note=("100,000 watchlist rows over 1000 users and 100,000 automations over 1000 accounts; "
              "the user owns 2 strategies (100 watchlist rows) and sees 200 automations "
              "(own account + one membership). The owner's query states the same filter explicitly. "
              "jit is PostgreSQL's default (on, jit_above_cost 100000) unless the row says jit off."),
    )
    for name, user_q, owner_q, params in CASES:
        section.rows.append([name, "authenticated (RLS)"] + _measure(url, user_q, params, as_user=True, n=n))
        section.rows.append([name, "authenticated (RLS), jit off"]
                            + _measure(url, user_q, params, as_user=True, n=n, jit=False))
        section.rows.append([name, "owner (no RLS)"] + _measure(url, owner_q, params, as_user=False, n=n))
    current_watchlist = _installed(url, WATCHLIST_POLICY, "public.strategy_watchlists")
    current_notifications = _installed(url, NOTIFICATIONS_POLICY, "public.notifications")
    uid_section = Section(
        "RLS policy forms: the module's current form against the previous one and bare auth.uid()",
        ["table: query", "policy form", "rows", "n", "p50 ms", "p95 ms", "plan (scans)"],
        note=("Each policy is swapped with ALTER POLICY in this benchmark's database only; jit at its default "
              "(on). strategy_watchlists: the module's current SELECT policy as installed ("
              f"`{' '.join(current_watchlist.split())}`), the previous module form (EXISTS with (select auth.uid()), before "
              "commit 8a99ea9) and the same EXISTS with bare auth.uid() (the seed's text). notifications: "
              f"100,000 rows over 1000 users, the module's policy (`{' '.join(current_notifications.split())}`) "
              "against bare "
              "auth.uid(); 'per-row path' disables index and bitmap scans so the policy is evaluated as a "
              "filter on every row, as happens whenever it cannot be an index condition."),
    )
    # (label, watchlist policy, notifications label, notifications policy or "" to skip)
    forms = (("module's current form", current_watchlist, "module's current form", current_notifications),
             ("previous form: EXISTS, (select auth.uid())", WRAPPED, "", ""),
             ("EXISTS, bare auth.uid()", BARE, "bare auth.uid()", "user_id = auth.uid()"))
    for form, watchlist_expr, notifications_form, notifications_expr in forms:
        with connect(url) as conn:
            conn.execute(f"alter policy {WATCHLIST_POLICY} on public.strategy_watchlists using ({watchlist_expr})")
            if notifications_expr:
                conn.execute(f"alter policy {NOTIFICATIONS_POLICY} on public.notifications "
                             f"using ({notifications_expr})")
        for name, user_q, _owner_q, params in CASES[:2]:
            uid_section.rows.append([f"strategy_watchlists: {name}", form]
                                    + _measure(url, user_q, params, as_user=True, n=n))
        if not notifications_expr:
            continue
        uid_section.rows.append(["notifications: count unread (index on user_id)", notifications_form]
                                + _measure(url, UNREAD, (), as_user=True, n=n))
        uid_section.rows.append(["notifications: count unread, per-row path", notifications_form]
                                + _measure(url, UNREAD, (), as_user=True, n=n, setup=NO_INDEX))
    with connect(url) as conn:  # put the installed definitions back
        conn.execute(f"alter policy {WATCHLIST_POLICY} on public.strategy_watchlists using ({current_watchlist})")
        conn.execute(f"alter policy {NOTIFICATIONS_POLICY} on public.notifications using ({current_notifications})")
    c.drop("bench_rls")
    sections = [section, uid_section]
    if other:
        extra = _automations_forms(c)
        if extra:
            sections.append(extra)
    return sections


def _automations_forms(c: Cluster) -> Section | None:
    """bench/automations_rls.py (written by the automations module's owner), when present:
    the automations SELECT policy in its bare / wrapped / set forms."""
    script = Path(__file__).with_name("automations_rls.py")
    if not script.exists():
        return None
    url = c.clone("bench_automations_rls")
    result = subprocess.run([sys.executable, str(script), "--database-url", url, "--repeat", "3"],
                            capture_output=True, text=True, check=False, timeout=240)
    c.drop("bench_automations_rls")
    section = Section(
        "automations SELECT policy forms (bench/automations_rls.py, --repeat 3)",
        ["output"],
        note=("Server-side execution time (median of EXPLAIN ANALYZE runs), as a member of one account. "
              "automations SELECT policy: 'module' is the policy as installed (read from pg_policy; today "
              "user_id = any(array(select accessible_account_ids()))), 'bare' the previous module form "
              "has_account_access(user_id), 'wrapped' (select has_account_access(user_id)), 'set' the "
              "membership table inlined. automation_executions SELECT policy: 'module' as installed, "
              "'exists' the previous module form (EXISTS ... has_account_access(a.user_id)), 'doc_in' the "
              "document's IN form."),
    )
    text = result.stdout if result.returncode == 0 else f"failed (exit {result.returncode}): {result.stderr[-500:]}"
    section.raw = text.rstrip()
    return section


if __name__ == "__main__":
    standalone(run)
