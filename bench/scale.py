"""Benchmark: the slow paths of issue 19 at its scale, each against its baseline in the same run.

Scale (the issue's): 10,000 accounts, 200,000 automations, 1,000,000 automation executions,
1,000,000 strategies (100 per user), 2,000,000 watchlist rows. Every row below runs the
module's SQL as installed (policies and functions read from the catalog, never restated);
a row labelled "previous form" re-creates, in this benchmark's database only, what the module
had before issue 19, to keep the before/after comparison on the same machine and run.

Two server-side figures per read, both medians:
  * exec ms: EXPLAIN (ANALYZE, TIMING OFF) "Execution Time", a fresh plan each time, which is
    what the issue quoted (includes the InitPlans a policy adds, not planning);
  * µs/call prepared: the statement run N times inside one PL/pgSQL loop, a cached plan like
    a prepared statement or PostgREST's, so no network and no parse in the figure.
The ratio columns divide the RLS figure by the explicit-filter figure of the same run. The
explicit filter names the caller's accounts as constants (what an application that already
knows them would send); "accounts looked up" is the explicit filter that reads them from
account_members itself, which is the work any correct account check has to do.

Writes: cleanup_old_executions() on the 1,000,000 executions (about 530,000 due), the
document's call against the document's two DELETEs and against the scheduled procedure, each
on a fresh copy, with a concurrent writer (one session inserting an execution and completing
another, committing each, as fast as it can) whose longest statement is the "max wait";
should_send_notification per call; an INSERT into leads with user triggers disabled against
the same table without the tenant key.

Usage: python bench/scale.py [--only reads,notification,leads,cleanup]   (starts its own throwaway cluster)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from common import Cluster, Section, cluster, connect, run_timed, uid, uid_sql

ACCOUNTS = 10_000
AUTOMATIONS = 200_000
EXECUTIONS = 1_000_000
STRATEGIES = 1_000_000
WATCHED = 20_000  # strategies with a 100-market watchlist: 2,000,000 rows
USER = 7  # owns account 7; odd users have no membership
MEMBER = 8  # even users are also members of the next account: two accounts

# Loaded with triggers off (session_replication_role): every column a trigger would fill is
# named, strategy_watchlists.user_id (the strategy's owner) included.
SEED = f"""
set session_replication_role = replica;
insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {ACCOUNTS}) g;
insert into public.account_members (account_id, user_id)
  select {uid_sql(f'g % {ACCOUNTS} + 1')}, {uid_sql('g')} from generate_series(2, {ACCOUNTS}, 2) g;
insert into public.agents (id, user_id, name)
  select {uid_sql('g', '30000000')}, {uid_sql('g')}, 'agent' from generate_series(1, {ACCOUNTS}) g;
insert into public.automations (id, agent_id, user_id, name, trigger_type)
  select {uid_sql('g', '60000000')}, {uid_sql(f'g % {ACCOUNTS} + 1', '30000000')}, {uid_sql(f'g % {ACCOUNTS} + 1')},
         'automation ' || g, 'manual'
  from generate_series(1, {AUTOMATIONS}) g;
insert into public.automation_executions (automation_id, trigger_type, status, started_at, completed_at)
  select {uid_sql(f'g % {AUTOMATIONS} + 1', '60000000')}, 'manual',
         case when g % 10 < 6 then 'completed' when g % 10 = 6 then 'failed' when g % 10 = 7 then 'cancelled'
              when g % 10 = 8 then 'running' else 'pending' end,
         now() - ({EXECUTIONS} - g) * interval '7 seconds',
         case when g % 10 < 8 then now() - ({EXECUTIONS} - g) * interval '7 seconds' + interval '1 minute' end
  from generate_series(1, {EXECUTIONS}) g;
insert into public.workflow_sessions (id, user_id, name)
  select {uid_sql('w', '10000000')}, {uid_sql(f'(w - 1) % {ACCOUNTS} + 1')}, 'strategy ' || w
  from generate_series(1, {STRATEGIES}) w;
insert into public.strategy_watchlists (workflow_id, user_id, market_id, added_at)
  select {uid_sql('w', '10000000')}, {uid_sql(f'(w - 1) % {ACCOUNTS} + 1')}, 'market-' || m,
         timestamptz '2026-01-01' + (w * 100 + m) * interval '1 second'
  from generate_series(1, {WATCHED}) w, generate_series(1, 100) m;
insert into public.notification_settings (user_id, notification_type, enabled, quiet_hours_enabled,
                                          quiet_hours_start, quiet_hours_end)
  select {uid_sql('g')}, 'strategy_started', g % 3 > 0, g % 2 = 0, '22:00', '07:00'
  from generate_series(1, {ACCOUNTS // 2}) g;
reset session_replication_role
"""
ANALYZE = ["auth.users", "public.account_members", "public.agents", "public.automations",
           "public.automation_executions", "public.workflow_sessions", "public.strategy_watchlists",
           "public.notification_settings"]

LOOP = """create or replace function pg_temp.bench_loop(n integer) returns double precision language plpgsql as $f$
declare t0 timestamptz;
begin
    t0 := clock_timestamp();
    for i in 1..n loop perform 1 from ({query}) as q; end loop;
    return extract(epoch from clock_timestamp() - t0) * 1e6 / n;
end $f$"""


def _as(conn: psycopg.Connection[Any], sub: int | None) -> None:
    if sub is None:
        conn.execute("set role service_role")
    else:
        conn.execute("set role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, false)",
                     (json.dumps({"sub": uid(sub), "role": "authenticated"}),))


def _exec_ms(conn: psycopg.Connection[Any], query: str, n: int) -> tuple[float, str]:
    times = []
    text = ""
    for _ in range(n):
        lines = [r[0] for r in conn.execute("explain (analyze, timing off, costs off) " + query).fetchall()]
        m = re.search(r"Execution Time: ([\d.]+) ms", lines[-1])
        times.append(float(m.group(1)) if m else float("nan"))
        text = "\n".join(lines)
    return statistics.median(times), text


def _loop_us(conn: psycopg.Connection[Any], query: str, n: int, reps: int = 5) -> float:
    conn.execute(LOOP.format(query=query))
    conn.execute("select pg_temp.bench_loop(20)")
    return statistics.median(float(conn.execute("select pg_temp.bench_loop(%s)", (n,)).fetchone()[0])  # type: ignore[index]
                             for _ in range(reps))


def _scans(plan: str) -> str:
    """The scan nodes of a plan with their actual rows: 'Index Scan idx_x (200)'."""
    out = []
    for line in plan.splitlines():
        m = re.search(r"((?:Bitmap Heap|Bitmap Index|Index Only|Index|Seq|Tid) Scan(?: Backward)?)"
                      r"(?: using (\S+))? on (\S+)(?: \w+)? \(actual rows=(\d+) loops=(\d+)\)", line)
        if m:
            out.append(f"{m.group(1)} {m.group(2) or m.group(3)} ({int(m.group(4)) * int(m.group(5)):,})")
    return "; ".join(out)


def _read_pair(url: str, name: str, rls_query: str, sub: int, base_query: str, base_sub: int | None,
               n: int, loops: int, lookup_query: str = "") -> list[list[Any]]:
    """The RLS read and its explicit-filter baseline (ratios against it); with lookup_query,
    also the explicit filter that finds the caller's accounts itself, as the policy must."""
    rows = []
    results: dict[str, tuple[float, float, str]] = {}
    ways = [("authenticated (RLS)", rls_query, sub), ("explicit filter", base_query, base_sub)]
    if lookup_query:
        ways.append(("explicit filter, accounts looked up", lookup_query, base_sub))
    for label, query, who in ways:
        with connect(url) as conn:
            _as(conn, who)
            count = len(conn.execute(query).fetchall())
            exec_ms, plan = _exec_ms(conn, query, n)
            loop = _loop_us(conn, query, loops)
        results[label] = (exec_ms, loop, plan)
        rows.append([name, label + (" as service_role" if who is None else ""), count, exec_ms, loop, _scans(plan)])
    rls_e, rls_l, _ = results["authenticated (RLS)"]
    base_e, base_l, _ = results["explicit filter"]
    rows[0] += [f"{rls_e / base_e:.2f}x", f"{rls_l / base_l:.2f}x"]
    rows[1] += ["1.00x", "1.00x"]
    if lookup_query:
        look_e, look_l, _ = results["explicit filter, accounts looked up"]
        rows[2] += [f"RLS ÷ this: {rls_e / look_e:.2f}x", f"RLS ÷ this: {rls_l / look_l:.2f}x"]
    return rows


READ_HEADERS = ["read", "run as", "rows", "exec ms", "µs/call prepared", "scans (rows read)", "exec ratio",
                "prepared ratio"]

EXEC_POLICY = '"Users can view executions for their automations"'
PREVIOUS_EXEC_POLICY = ("exists (select 1 from public.automations as a where a.id = automation_executions.automation_id "
                        "and a.user_id = any(array(select public.accessible_account_ids())))")
PREVIOUS_ACCESSIBLE = """create or replace function public.bench_previous_accessible_account_ids()
returns setof uuid language sql stable security invoker set search_path = '' rows 10 as $$
    select s.account_id from (select auth.uid() as account_id) as s where s.account_id is not null
    union all
    select m.account_id from public.account_members as m where m.user_id = (select auth.uid());
$$"""
AUTOMATIONS_POLICY = '"Users can view automations in their account"'
# The executions policy of 0011_automations_scale_paths (issue 19, first round): it filtered
# the automations sub-select by the caller's accounts itself, and the automations policy did
# the same again, so a statement looked the accounts up twice.
TWO_LOOKUPS_EXEC_POLICY = ("automation_id = any(array(select a.id from public.automations as a "
                           "where a.user_id = any(array(select public.accessible_account_ids()))))")
WATCHLIST_POLICY = '"Users can view own strategy watchlists"'
# The watchlist SELECT policy before 0016_strategy_watchlists_owner: the array of the caller's
# strategy ids (PostgreSQL 15 runs one btree search per id under `workflow_id = $1`).
STRATEGY_IDS_WATCHLIST_POLICY = ("workflow_id = any(array(select ws.id from public.workflow_sessions as ws "
                                 "where ws.user_id = (select auth.uid())))")


def _policy(url: str, policy: str, table: str) -> str:
    with connect(url) as conn:
        row = conn.execute("select pg_catalog.pg_get_expr(p.polqual, p.polrelid) from pg_catalog.pg_policy p "
                           "where p.polname = %s and p.polrelid = %s::regclass", (policy.strip('"'), table)).fetchone()
    if row is None:
        raise RuntimeError(f"policy {policy} on {table} is not installed")
    return str(row[0])


def seed(c: Cluster) -> str:
    url = c.clone("bench_scale")
    with connect(url) as conn:
        for statement in SEED.split(";\n"):
            conn.execute(statement)
        for table in ANALYZE:
            conn.execute(f"vacuum analyze {table}")
    return url


def bench_reads(c: Cluster, url: str, n: int = 100, loops: int = 500) -> Section:
    section = Section(
        "Reads under RLS at the issue's scale, against the same rows fetched with an explicit filter",
        READ_HEADERS,
        note=(f"{ACCOUNTS:,} accounts (even users are also members of the next account), {AUTOMATIONS:,} automations, "
              f"{EXECUTIONS:,} executions, {STRATEGIES:,} strategies (100 per user), {WATCHED * 100:,} watchlist rows "
              f"(100 per strategy for the first {WATCHED:,}). user {USER}: one account; user {MEMBER}: two. The "
              "explicit filter runs as service_role (no RLS) and names the same rows. Policies as installed; "
              "'previous form' rows put back the module's form before issue 19 in this database only."),
    )
    latest = "select * from public.automation_executions order by started_at desc limit 50"
    for user in (USER, MEMBER):
        accounts = [uid(user)] + ([uid(user % ACCOUNTS + 1)] if user % 2 == 0 else [])
        in_list = ", ".join(f"'{a}'" for a in accounts)
        looked_up = (f"select '{uid(user)}'::uuid union all select m.account_id from public.account_members as m "
                     f"where m.user_id = '{uid(user)}'")
        section.rows += _read_pair(
            url, f"latest 50 executions, user with {len(accounts)} account(s)", latest, user,
            "select * from public.automation_executions where automation_id in (select id from public.automations "
            f"where user_id in ({in_list})) order by started_at desc limit 50", None, n, loops,
            "select * from public.automation_executions where automation_id in (select id from public.automations "
            f"where user_id in ({looked_up})) order by started_at desc limit 50")
        section.rows += _read_pair(
            url, f"count of visible automations, user with {len(accounts)} account(s)",
            "select count(*) from public.automations", user,
            f"select count(*) from public.automations where user_id in ({in_list})", None, n, loops,
            f"select count(*) from public.automations where user_id in ({looked_up})")
    workflow = uid(USER, "10000000")
    watchlist = f"select * from public.strategy_watchlists where workflow_id = '{workflow}' order by added_at desc limit 100"
    section.rows += _read_pair(url, "a workflow's watchlist (100 rows), owner of 100 strategies", watchlist, USER,
                               watchlist, None, n, loops)
    # The second-round forms issue 19 replaced (two account lookups; the strategy-id array),
    # measured against the same explicit filters in this run, in this database only.
    current_exec = _policy(url, EXEC_POLICY, "public.automation_executions")
    current_watchlist = _policy(url, WATCHLIST_POLICY, "public.strategy_watchlists")
    with connect(url) as conn:
        conn.execute(f"alter policy {EXEC_POLICY} on public.automation_executions using ({TWO_LOOKUPS_EXEC_POLICY})")
        conn.execute(f"alter policy {WATCHLIST_POLICY} on public.strategy_watchlists "
                     f"using ({STRATEGY_IDS_WATCHLIST_POLICY})")
    try:
        for user in (USER, MEMBER):
            accounts = [uid(user)] + ([uid(user % ACCOUNTS + 1)] if user % 2 == 0 else [])
            in_list = ", ".join(f"'{a}'" for a in accounts)
            pair = _read_pair(
                url, f"latest 50 executions, user with {len(accounts)} account(s)", latest, user,
                "select * from public.automation_executions where automation_id in (select id from "
                f"public.automations where user_id in ({in_list})) order by started_at desc limit 50", None, n, loops)
            section.rows.append([*pair[0][:1], "previous form: accounts looked up twice (RLS)", *pair[0][2:]])
        pair = _read_pair(url, "a workflow's watchlist (100 rows), owner of 100 strategies", watchlist, USER,
                          watchlist, None, n, loops)
        section.rows.append([*pair[0][:1], "previous form: array of the caller's strategy ids (RLS)", *pair[0][2:]])
    finally:
        with connect(url) as conn:
            conn.execute(f"alter policy {EXEC_POLICY} on public.automation_executions using ({current_exec})")
            conn.execute(f"alter policy {WATCHLIST_POLICY} on public.strategy_watchlists using ({current_watchlist})")
    # The forms before issue 19, in this database only, then the installed ones back.
    current_automations = _policy(url, AUTOMATIONS_POLICY, "public.automations")
    with connect(url) as conn:
        conn.execute(PREVIOUS_ACCESSIBLE)
        conn.execute("grant execute on function public.bench_previous_accessible_account_ids() to authenticated")
        conn.execute(f"alter policy {EXEC_POLICY} on public.automation_executions using ({PREVIOUS_EXEC_POLICY.replace('accessible_account_ids', 'bench_previous_accessible_account_ids')})")
        conn.execute(f"alter policy {AUTOMATIONS_POLICY} on public.automations using "
                     "(user_id = any(array(select public.bench_previous_accessible_account_ids())))")
    try:
        for name, query in (("latest 50 executions, user with 1 account(s)", latest),
                            ("count of visible automations, user with 1 account(s)",
                             "select count(*) from public.automations")):
            with connect(url) as conn:
                _as(conn, USER)
                exec_ms, plan = _exec_ms(conn, query, max(n // 10, 5))
                loop = _loop_us(conn, query, max(loops // 50, 5), reps=3)
            section.rows.append([name, "previous form (before issue 19)", "", exec_ms, loop, _scans(plan), "", ""])
    finally:
        with connect(url) as conn:
            conn.execute(f"alter policy {EXEC_POLICY} on public.automation_executions using ({current_exec})")
            conn.execute(f"alter policy {AUTOMATIONS_POLICY} on public.automations using ({current_automations})")
    return section


# ------------------------------------------------------------------ should_send_notification

NOTIFICATION_TYPES = ("'strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error', "
                      "'watchlist_updated', 'execution_completed', 'execution_failed'")
# The module's rules in PL/pgSQL with the quiet-hours test written out (no call of the pinned
# SQL function is_within_quiet_hours) and only the four columns it needs read.
NOTIFICATION_PLPGSQL = f"""declare v_enabled boolean; v_quiet boolean; v_start time; v_end time; v_t time;
begin
    if p_notification_type is null or p_notification_type not in ({NOTIFICATION_TYPES}) then
        raise exception 'unknown notification type: %', p_notification_type using errcode = 'invalid_parameter_value';
    end if;
    select ns.enabled, ns.quiet_hours_enabled, ns.quiet_hours_start, ns.quiet_hours_end
      into v_enabled, v_quiet, v_start, v_end
      from public.notification_settings as ns
     where ns.user_id = p_user_id and ns.notification_type = p_notification_type;
    if not found then return true; end if;
    if not v_enabled then return false; end if;
    if v_quiet and v_start is not null and v_end is not null and v_start <> v_end then
        v_t := (p_at at time zone 'UTC')::time;
        if v_start < v_end then return not (v_t >= v_start and v_t < v_end); end if;
        return not (v_t >= v_start or v_t < v_end);
    end if;
    return true;
end"""
# The same rules as one SQL expression. Not inlinable (the lookup is a sub-select), so it runs
# through the SQL-function executor; the unknown-type error comes from a PL/pgSQL helper.
NOTIFICATION_SQL = f"""select case
    when p_notification_type is null or p_notification_type not in ({NOTIFICATION_TYPES})
        then public.bench_raise_unknown_type(p_notification_type)
    else coalesce((
        select ns.enabled and not (ns.quiet_hours_enabled and ns.quiet_hours_start is not null
            and ns.quiet_hours_end is not null and ns.quiet_hours_start <> ns.quiet_hours_end
            and case when ns.quiet_hours_start < ns.quiet_hours_end
                     then (p_at at time zone 'UTC')::time >= ns.quiet_hours_start
                          and (p_at at time zone 'UTC')::time < ns.quiet_hours_end
                     else (p_at at time zone 'UTC')::time >= ns.quiet_hours_start
                          or (p_at at time zone 'UTC')::time < ns.quiet_hours_end end)
        from public.notification_settings as ns
        where ns.user_id = p_user_id and ns.notification_type = p_notification_type), true)
    end"""
NOTIFICATION_FORMS = {
    "bench_floor_call": ("language plpgsql stable as $$ begin return true; end $$",
                         "a PL/pgSQL call that returns true"),
    "bench_floor_pinned": ("language plpgsql stable set search_path = '' as $$ begin return true; end $$",
                           "the same with the pinned search_path"),
    "bench_floor_lookup": ("language plpgsql stable set search_path = '' as $$ declare v boolean; begin "
                           "select ns.enabled into v from public.notification_settings as ns "
                           "where ns.user_id = p_user_id and ns.notification_type = p_notification_type; "
                           "return coalesce(v, true); end $$",
                           "pinned, plus the one index lookup the function needs"),
    "bench_floor_lookup_unpinned": ("language plpgsql stable as $$ declare v boolean; begin "
                                    "select ns.enabled into v from public.notification_settings as ns "
                                    "where ns.user_id = p_user_id and ns.notification_type = p_notification_type; "
                                    "return coalesce(v, true); end $$",
                                    "the same lookup unpinned: the least any PL/pgSQL form that reads the row costs"),
    "bench_plpgsql_inline_pinned": (f"language plpgsql stable set search_path = '' as $f${NOTIFICATION_PLPGSQL}$f$",
                                    "same answers: PL/pgSQL, quiet hours tested inline, 4 columns read, pinned"),
    "bench_plpgsql_inline_unpinned": (f"language plpgsql stable as $f${NOTIFICATION_PLPGSQL}$f$",
                                      "the same without the pinned search_path (splinter 0011 WARN)"),
    "bench_sql_pinned": (f"language sql stable set search_path = '' as $f${NOTIFICATION_SQL}$f$",
                         "same answers: one SQL expression, pinned (never inlined: a SET clause)"),
    "bench_sql_unpinned": (f"language sql stable as $f${NOTIFICATION_SQL}$f$",
                           "the same without the pin (still not inlined: its lookup is a sub-select)"),
}
NOTIFICATION_TIMES = ("'2026-01-01 23:00+00'", "'2026-01-01 12:00+00'", "'2026-01-01 07:00+00'",
                      "'2026-01-01 22:00+00'", "'2026-01-01 06:59:59+00'")


def bench_notification(c: Cluster, url: str, calls: int = 100_000, reps: int = 7) -> Section:
    section = Section(
        "should_send_notification per call, and what a call costs in PL/pgSQL and SQL",
        ["function", "calls", f"µs/call (median of {reps})", "what it does"],
        note=(f"{calls:,} calls in one statement over users 1-10,000 (half with a settings row for the type, of "
              "those a third disabled and half with quiet hours 22:00-07:00), as service_role; the forms "
              "interleaved, each minus the same statement without the call. The other rows are functions "
              "created in this database only: the floors show what the module's function is made of; the "
              "'same answers' forms were checked to answer as the module's function for 10,000 users at 5 "
              "times of day (window edges included) before they were timed."),
    )
    user = uid_sql(f"g % {ACCOUNTS} + 1")
    with connect(url) as conn:
        conn.execute("create or replace function public.bench_raise_unknown_type(p text) returns boolean "
                     "language plpgsql set search_path = '' as $$ begin raise exception "
                     "'unknown notification type: %', p using errcode = 'invalid_parameter_value'; end $$")
        for name, (body, _what) in NOTIFICATION_FORMS.items():
            conn.execute(f"create or replace function public.{name}(p_user_id uuid, p_notification_type text, "
                         f"p_at timestamptz default now()) returns boolean {body}")
        conn.execute("set role service_role")
        for name, (_body, what) in NOTIFICATION_FORMS.items():
            if what.startswith("same answers") or what.startswith("the same without"):
                differ = conn.execute(
                    f"select count(*) from generate_series(1, {ACCOUNTS}) g, "
                    f"(values {', '.join(f'(timestamptz {t})' for t in NOTIFICATION_TIMES)}) as t(at) "
                    f"where public.{name}({user}, 'strategy_started', t.at) is distinct from "
                    f"public.should_send_notification({user}, 'strategy_started', t.at)").fetchone()[0]  # type: ignore[index]
                if differ:
                    raise RuntimeError(f"{name} answers differently from should_send_notification for {differ} inputs")
        names = ["should_send_notification", *NOTIFICATION_FORMS]
        samples: dict[str, list[float]] = {name: [] for name in names}
        base = f"select count(*) from generate_series(1, {calls}) g where {user} is not null"
        for _ in range(reps):
            for name in names:
                statement = (f"select count(*) from generate_series(1, {calls}) g "
                             f"where public.{name}({user}, 'strategy_started')")
                t_call = _exec_ms(conn, statement, 1)[0]
                t_base = _exec_ms(conn, base, 1)[0]
                samples[name].append((t_call - t_base) * 1000 / calls)
        whats = {"should_send_notification": "the module's function",
                 **{k: v[1] for k, v in NOTIFICATION_FORMS.items()}}
        for name in names:
            section.rows.append([name, f"{calls:,}", statistics.median(samples[name]), whats[name]])
    return section


# ------------------------------------------------------------------ leads

def bench_leads(c: Cluster, _url: str, rows: int = 50_000, runs: int = 5) -> Section:
    section = Section(
        "INSERT into leads with user triggers disabled: the module's table against the document-shaped one",
        ["table", "keys checked per row", "rows", "µs/row (median)", "vs document-shaped"],
        note=(f"INSERT ... SELECT of {rows:,} leads with an agent, one transaction, committed; {runs} runs interleaved, "
              "table truncated between runs. 'document-shaped': the same columns, indexes and keys as 0001 made "
              "them (user_id -> auth.users, agent_id -> agents), without the tenant key of 0009 "
              "(agent_id, user_id) -> agents (id, user_id), which checks that the lead's agent is in the lead's "
              "account for every writer, service_role included (RLS checks it for API users only)."),
    )
    insert = ("insert into public.{t} (user_id, agent_id, name) select "
              f"{uid_sql(f'g % {ACCOUNTS} + 1')}, {uid_sql(f'g % {ACCOUNTS} + 1', '30000000')}, 'lead ' || g "
              f"from generate_series(1, {rows}) g")
    url = c.clone("bench_scale_leads")  # TRUNCATE leads CASCADE would empty automation_executions
    with connect(url) as conn:
        conn.execute(f"insert into auth.users (id) select {uid_sql('g')} from generate_series(1, {ACCOUNTS}) g")
        conn.execute(f"insert into public.agents (id, user_id, name) select {uid_sql('g', '30000000')}, {uid_sql('g')}, "
                     f"'agent' from generate_series(1, {ACCOUNTS}) g")
        conn.execute("vacuum analyze public.agents")
        conn.execute("create table public.bench_leads_document (like public.leads including defaults including indexes)")
        conn.execute("alter table public.bench_leads_document add foreign key (user_id) references auth.users (id) "
                     "on delete cascade, add foreign key (agent_id) references public.agents (id) on delete set null")
        conn.execute("alter table public.leads disable trigger user")
        samples: dict[str, list[float]] = {"leads": [], "bench_leads_document": []}
        for _ in range(runs):
            for table in samples:
                conn.execute(f"truncate public.{table} cascade")
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(insert.format(t=table))
                samples[table].append((time.perf_counter() - started) * 1e6 / rows)
    c.drop("bench_scale_leads")
    doc = statistics.median(samples["bench_leads_document"])
    for table, keys in (("bench_leads_document", "user, agent"), ("leads", "user, agent, agent in the same account")):
        med = statistics.median(samples[table])
        section.rows.append([table if table == "leads" else "document-shaped (0001)", keys, f"{rows:,}", med,
                             f"{med / doc:.2f}x"])
    return section


# ------------------------------------------------------------------ cleanup with a concurrent writer

class Writer(threading.Thread):
    """Inserts one execution and completes another (running -> completed, which fires the stats
    trigger), each its own committed transaction, until stopped; records every statement's time."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.waits: list[float] = []

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("set role service_role")
            i = 0
            while not self.stop.is_set():
                i += 1
                started = time.perf_counter()
                conn.execute("insert into public.automation_executions (automation_id, trigger_type, status) "
                             "values (%s, 'manual', 'running')", (uid(i % AUTOMATIONS + 1, "60000000"),))
                self.waits.append(time.perf_counter() - started)
                started = time.perf_counter()
                conn.execute("update public.automation_executions set status = 'completed', completed_at = now() "
                             "where id = (select id from public.automation_executions where status = 'running' "
                             "and started_at > now() - interval '1 hour' limit 1)")
                self.waits.append(time.perf_counter() - started)


def _cleanup_run(c: Cluster, name: str, statement: str) -> tuple[float, int, float, int]:
    """One run on a fresh copy: seconds, rows deleted, the writer's longest statement (ms) and
    how many statements it committed meanwhile."""
    url = c.clone(name, template="bench_scale")
    try:
        with connect(url) as conn:
            before = int(conn.execute("select count(*) from public.automation_executions").fetchone()[0])  # type: ignore[index]
        writer = Writer(url)
        writer.start()
        time.sleep(0.5)
        with connect(url) as conn:
            conn.execute("set role service_role")
            started = time.perf_counter()
            conn.execute(statement)
            seconds = time.perf_counter() - started
        writer.stop.set()
        writer.join()
        with connect(url) as conn:
            after = int(conn.execute("select count(*) from public.automation_executions").fetchone()[0])  # type: ignore[index]
        inserted = sum(1 for _ in writer.waits) // 2
        return seconds, before - after + inserted, max(writer.waits) * 1000, len(writer.waits)
    finally:
        c.drop(name)


def bench_cleanup(c: Cluster, url: str, runs: int = 3) -> Section:
    with connect(url) as conn:
        due = int(conn.execute("""select count(*) from public.automation_executions
            where (status in ('completed', 'cancelled') and completed_at < now() - interval '30 days')
               or (status = 'failed' and completed_at < now() - interval '7 days')""").fetchone()[0])  # type: ignore[index]
    section = Section(
        f"Cleanup of {EXECUTIONS:,} executions ({due:,} past retention) with a concurrent writer",
        ["way", "runs", "median s", "rows/s", "writer's longest statement ms (max of runs)", "writer statements"],
        note=("Each run on a fresh copy of the seeded database, the ways interleaved. The writer inserts an "
              "execution and completes a running one (stats trigger), each committed, as fast as it can while "
              "the cleanup runs; its longest statement is the longest any insert or update waited. rows/s "
              "counts the rows the cleanup deleted."),
    )
    ways = {
        "document's SQL: its two DELETEs, one transaction": (
            "do $$ begin delete from public.automation_executions where completed_at < now() - interval '30 days' "
            "and status in ('completed', 'cancelled'); delete from public.automation_executions "
            "where completed_at < now() - interval '7 days' and status = 'failed'; end $$"),
        "select public.cleanup_old_executions() (the document's call)": "select public.cleanup_old_executions()",
        "call public.cleanup_old_executions_in_batches() (the scheduled job, commits per batch)":
            "call public.cleanup_old_executions_in_batches()",
    }
    results: dict[str, list[tuple[float, int, float, int]]] = {k: [] for k in ways}
    for i in range(runs):
        for j, (name, statement) in enumerate(ways.items()):
            results[name].append(_cleanup_run(c, f"bench_cleanup_{i}_{j}", statement))
    for name, rs in results.items():
        med = statistics.median(r[0] for r in rs)
        deleted = statistics.median(r[1] for r in rs)
        section.rows.append([name, runs, med, f"{deleted / med:,.0f}", max(r[2] for r in rs),
                             int(statistics.median(r[3] for r in rs))])
    return section


BENCHES: dict[str, Callable[[Cluster, str], Section]] = {
    "reads": bench_reads, "notification": bench_notification, "leads": bench_leads, "cleanup": bench_cleanup,
}


def run(c: Cluster, only: list[str] | None = None) -> list[Section]:
    """The parts named in ``only`` (all by default), on one seeded database."""
    started = time.perf_counter()
    url = seed(c)
    print(f"  seed: {time.perf_counter() - started:.0f}s", flush=True)
    benches = [BENCHES[name] for name in (only or list(BENCHES))]
    try:
        return run_timed(c, benches, url)
    finally:
        c.drop("bench_scale")


def _parts(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in parts if p not in BENCHES]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"unknown part {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(BENCHES)}")
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Issue 19's slow paths at its scale (1M executions, 2M watchlist rows), each against its "
                    "baseline in the same run, on a throwaway cluster of its own (~10 min for every part).")
    parser.add_argument("--only", type=_parts, default=None, metavar="PARTS",
                        help=f"comma-separated parts to run: {','.join(BENCHES)} (default: all)")
    args = parser.parse_args(argv)
    with cluster() as c:
        for section in run(c, args.only):
            print(section.markdown())


if __name__ == "__main__":
    main()
