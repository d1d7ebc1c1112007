"""RLS of module strategy_execution (seed 003): every table x command x identity, and the
policies' plans (auth.uid() once per statement as an InitPlan, ownership via an index).

Identity is switched the way PostgREST does it: ``dbkit.identity.act_as`` (``SET LOCAL ROLE`` plus
the request.jwt claims). An allowed write is asserted through RETURNING, a
filtered write by 0 rows, a denial by SQLSTATE 42501.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dbkit.ephemeral import Server
from dbkit.identity import Identity, act_as
from dbkit.plans import nodes as plan_nodes

OWNER = "00000000-0000-0000-0000-00000000000a"
STRANGER = "00000000-0000-0000-0000-00000000000b"
STRATEGY = "10000000-0000-0000-0000-000000000001"  # OWNER's
EXECUTION = "20000000-0000-0000-0000-000000000001"  # a run of STRATEGY

SEED = f"""
insert into auth.users (id) values ('{OWNER}'), ('{STRANGER}');
insert into public.workflow_sessions (id, user_id, name) values ('{STRATEGY}', '{OWNER}', 'owner strategy');
insert into public.workflow_sessions (user_id, name) values ('{STRANGER}', 'stranger strategy');
insert into public.workflow_executions (id, workflow_id) values ('{EXECUTION}', '{STRATEGY}');
insert into public.strategy_watchlists (workflow_id, market_id) values ('{STRATEGY}', 'm1');
insert into public.notification_settings (user_id, notification_type) values ('{OWNER}', 'strategy_error');
insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status)
    values ('{EXECUTION}', '{STRATEGY}', 'n1', 'filter', 'running');
insert into public.notifications (user_id, workflow_id, type, title, message)
    values ('{OWNER}', '{STRATEGY}', 'strategy_started', 'Started', 'Your strategy runs');
"""

# Every statement targets OWNER's data and returns the affected ids.
STATEMENTS: dict[str, dict[str, str]] = {
    "workflow_sessions": {
        "select": f"select id from public.workflow_sessions where id = '{STRATEGY}'",
        "insert": f"insert into public.workflow_sessions (user_id, name) values ('{OWNER}', 'new') returning id",
        "update": f"update public.workflow_sessions set auto_run = true where id = '{STRATEGY}' returning id",
        "delete": f"delete from public.workflow_sessions where id = '{STRATEGY}' returning id",
    },
    "workflow_executions": {
        "select": f"select id from public.workflow_executions where workflow_id = '{STRATEGY}'",
        "insert": f"insert into public.workflow_executions (workflow_id) values ('{STRATEGY}') returning id",
        "update": f"update public.workflow_executions set status = 'completed' where workflow_id = '{STRATEGY}' returning id",
        "delete": f"delete from public.workflow_executions where workflow_id = '{STRATEGY}' returning id",
    },
    "notifications": {
        "select": f"select id from public.notifications where user_id = '{OWNER}'",
        "insert": f"insert into public.notifications (user_id, type, title, message) values ('{OWNER}', 'info', 't', 'm') returning id",
        "update": f"update public.notifications set read = true where user_id = '{OWNER}' returning id",
        "delete": f"delete from public.notifications where user_id = '{OWNER}' returning id",
    },
    "strategy_watchlists": {
        "select": f"select id from public.strategy_watchlists where workflow_id = '{STRATEGY}'",
        "insert": f"insert into public.strategy_watchlists (workflow_id, market_id) values ('{STRATEGY}', 'm2') returning id",
        "update": f"update public.strategy_watchlists set reason = 'edited' where workflow_id = '{STRATEGY}' returning id",
        "delete": f"delete from public.strategy_watchlists where workflow_id = '{STRATEGY}' returning id",
    },
    "notification_settings": {
        "select": f"select id from public.notification_settings where user_id = '{OWNER}'",
        "insert": (f"insert into public.notification_settings (user_id, notification_type) "
                   f"values ('{OWNER}', 'strategy_started') returning id"),
        "update": f"update public.notification_settings set enabled = false where user_id = '{OWNER}' returning id",
        "delete": f"delete from public.notification_settings where user_id = '{OWNER}' returning id",
    },
    "strategy_execution_logs": {
        "select": f"select id from public.strategy_execution_logs where workflow_id = '{STRATEGY}'",
        "insert": (f"insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status) "
                   f"values ('{EXECUTION}', '{STRATEGY}', 'n2', 'filter', 'running') returning id"),
        "update": (f"update public.strategy_execution_logs set status = 'success', completed_at = now() "
                   f"where workflow_id = '{STRATEGY}' returning id"),
        "delete": f"delete from public.strategy_execution_logs where workflow_id = '{STRATEGY}' returning id",
    },
}

ROWS, NONE, DENIED = "rows", "0 rows", "42501"
ALL_ROWS = {"select": ROWS, "insert": ROWS, "update": ROWS, "delete": ROWS}
ALL_DENIED = {"select": DENIED, "insert": DENIED, "update": DENIED, "delete": DENIED}
CRUD_STRANGER = {"select": NONE, "insert": DENIED, "update": NONE, "delete": NONE}
OWNER_WRITES = {"select": ROWS, "insert": ROWS, "update": ROWS, "delete": DENIED}
STRANGER_WRITES = {"select": NONE, "insert": DENIED, "update": NONE, "delete": DENIED}

EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "workflow_sessions": {"owner": ALL_ROWS, "stranger": CRUD_STRANGER, "anon": ALL_DENIED},
    # Seed 003 §1.4 "Service role/owner can INSERT/UPDATE execution logs": owners write the
    # runs and logs of their own strategies (a manual run), never delete them.
    "workflow_executions": {"owner": OWNER_WRITES, "stranger": STRANGER_WRITES, "anon": ALL_DENIED},
    "notifications": {
        "owner": {"select": ROWS, "insert": DENIED, "update": ROWS, "delete": ROWS},
        "stranger": CRUD_STRANGER,
        "anon": ALL_DENIED,
    },
    "strategy_watchlists": {
        "owner": {"select": ROWS, "insert": ROWS, "update": DENIED, "delete": ROWS},
        "stranger": {"select": NONE, "insert": DENIED, "update": DENIED, "delete": NONE},
        "anon": ALL_DENIED,
    },
    "notification_settings": {"owner": ALL_ROWS, "stranger": CRUD_STRANGER, "anon": ALL_DENIED},
    "strategy_execution_logs": {"owner": OWNER_WRITES, "stranger": STRANGER_WRITES, "anon": ALL_DENIED},
}
for _table in EXPECTED:
    EXPECTED[_table]["service_role"] = ALL_ROWS

CASES = [
    pytest.param(table, command, identity, id=f"{table}-{command}-{identity}")
    for table in STATEMENTS
    for command in ("select", "insert", "update", "delete")
    for identity in ("owner", "stranger", "anon", "service_role")
]


def become(cur: psycopg.Cursor[Any], identity: str) -> None:
    """Switch the transaction to an API identity, as PostgREST does (``dbkit.identity.act_as``)."""
    role = {"owner": "authenticated", "stranger": "authenticated"}.get(identity, identity)
    act_as(cur, Identity(role, {"owner": OWNER, "stranger": STRANGER}.get(identity)))


def outcome(cur: psycopg.Cursor[Any], statement: str) -> str:
    try:
        cur.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return DENIED
    return ROWS if cur.fetchall() else NONE


def module_database(server: Server, template: str, seed: str) -> Iterator[str]:
    """A clone of the migrated template for one test module, seeded once; tests roll back."""
    with server.database(template=template, prefix="strategy_") as url:
        with psycopg.connect(url) as conn:
            conn.execute(seed)
        yield url


@pytest.fixture(scope="module")
def seeded_url(server: Server, migrated_template: str) -> Iterator[str]:
    yield from module_database(server, migrated_template, SEED)


@pytest.mark.parametrize(("table", "command", "identity"), CASES)
def test_rls_matrix(seeded_url: str, table: str, command: str, identity: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        cur = conn.cursor()
        become(cur, identity)
        got = outcome(cur, STATEMENTS[table][command])
        conn.rollback()
    assert got == EXPECTED[table][identity][command], f"{identity} {command} on public.{table}"


def test_owner_sees_only_own_rows_across_tables(seeded_url: str) -> None:
    """The stranger owns a strategy too; the owner's unfiltered reads still return only theirs."""
    with psycopg.connect(seeded_url) as conn:
        cur = conn.cursor()
        become(cur, "owner")
        cur.execute("select distinct user_id::text from public.workflow_sessions")
        assert cur.fetchall() == [(OWNER,)]
        for table in ("strategy_watchlists", "strategy_execution_logs", "workflow_executions"):
            cur.execute(sql.SQL("select distinct workflow_id::text from public.{}").format(sql.Identifier(table)))
            assert cur.fetchall() == [(STRATEGY,)], table
        conn.rollback()


def test_stranger_cannot_move_a_setting_to_the_owner(seeded_url: str) -> None:
    """UPDATE's WITH CHECK stops a user from handing a row to someone else."""
    with psycopg.connect(seeded_url) as conn:
        cur = conn.cursor()
        cur.execute(f"insert into public.notification_settings (user_id, notification_type) "
                    f"values ('{STRANGER}', 'strategy_started')")
        become(cur, "stranger")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute(f"update public.notification_settings set user_id = '{OWNER}' "
                        f"where user_id = '{STRANGER}' returning id")
        conn.rollback()


# --------------------------------------------------------------------------- plans

PLAN_SEED = """
insert into auth.users (id) select md5('user' || g)::uuid from generate_series(1, 1000) g;
insert into public.workflow_sessions (id, user_id)
    select md5('ws' || g)::uuid, md5('user' || (1 + g % 1000))::uuid from generate_series(1, 20000) g;
insert into public.strategy_watchlists (workflow_id, market_id)
    select md5('ws' || g)::uuid, 'm' || m from generate_series(1, 20000) g, generate_series(1, 5) m;
insert into public.workflow_executions (id, workflow_id)
    select md5('ex' || g)::uuid, md5('ws' || g)::uuid from generate_series(1, 20000) g;
insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status)
    select md5('ex' || g)::uuid, md5('ws' || g)::uuid, 'n' || n, 'filter', 'running'
    from generate_series(1, 20000) g, generate_series(1, 5) n;
analyze;
"""
PLAN_USER = "md5('user7')::uuid"  # owns ws6, ws1006, ... (20 strategies)

PLAN_QUERIES = {
    "watchlists, all visible": "select * from public.strategy_watchlists",
    "watchlist lookup": ("select * from public.strategy_watchlists where workflow_id = md5('ws1006')::uuid "
                         "order by added_at desc limit 100"),
    "logs, all visible": "select * from public.strategy_execution_logs",
    "execution log lookup": ("select * from public.strategy_execution_logs where execution_id = md5('ex1006')::uuid "
                             "order by started_at"),
    "runs, all visible": "select * from public.workflow_executions",
}


def calls_auth_uid(text: str) -> bool:
    """auth.uid() as written, or inlined by the planner (the shim's body reads request.jwt.claim*)."""
    return "auth.uid()" in text or "request.jwt.claim" in text


# The watchlist policies filter on the row's owner column (0016_strategy_watchlists_owner);
# the others on the array of the caller's strategy ids, read from workflow_sessions.
OWNER_COLUMN_QUERIES = {"watchlists, all visible", "watchlist lookup"}


def policy_plan_problems(plan: dict[str, Any], owner_column: bool = False) -> list[str]:
    """What is wrong with a plan under RLS: auth.uid() per row; workflow_sessions read without
    an index, or (owner_column) the owner column not an index condition."""
    problems = []
    nodes = list(plan_nodes(plan))
    init_uid = [n for n in nodes if n.get("Parent Relationship") == "InitPlan"
                and any(calls_auth_uid(o) for o in n.get("Output", []))]
    if not init_uid:
        problems.append("auth.uid() is not evaluated in an InitPlan")
    for n in nodes:
        for key in ("Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Join Filter", "One-Time Filter"):
            if calls_auth_uid(str(n.get(key, ""))):
                problems.append(f"auth.uid() evaluated per row in {n['Node Type']} {key}: {n[key]}")
    if owner_column:
        owner_probes = [n for n in nodes if n.get("Index Name") == "idx_strategy_watchlists_user_workflow"
                        and "strategy_watchlists.user_id = $" in n.get("Index Cond", "")]
        if not owner_probes:
            problems.append("the owner column is not an index condition on idx_strategy_watchlists_user_workflow")
        return problems
    ws_scans = [n for n in nodes if n.get("Relation Name") == "workflow_sessions"]
    if not ws_scans:
        problems.append("the ownership check does not read workflow_sessions")
    for n in ws_scans:
        if n["Node Type"] not in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"):
            problems.append(f"workflow_sessions read by {n['Node Type']}")
    ws_indexes = [n.get("Index Name") for n in nodes if "Index Name" in n and "workflow_sessions" in n["Index Name"]]
    if not ws_indexes:
        problems.append("no index on workflow_sessions is used")
    return problems


def explain_as_user(cur: psycopg.Cursor[Any], query: str) -> dict[str, Any]:
    cur.execute("set local role authenticated")
    cur.execute(f"select set_config('request.jwt.claims', json_build_object('sub', {PLAN_USER}, "
                "'role', 'authenticated')::text, true)")
    cur.execute("explain (verbose, format json) " + query)
    row = cur.fetchone()
    assert row is not None
    cur.execute("reset role")
    plan: dict[str, Any] = row[0][0]["Plan"]
    return plan


@pytest.fixture(scope="module")
def plan_url(server: Server, migrated_template: str) -> Iterator[str]:
    yield from module_database(server, migrated_template, PLAN_SEED)


@pytest.mark.parametrize("name", list(PLAN_QUERIES))
def test_policy_evaluates_auth_uid_once_and_checks_ownership_by_index(plan_url: str, name: str) -> None:
    with psycopg.connect(plan_url) as conn:
        plan = explain_as_user(conn.cursor(), PLAN_QUERIES[name])
        conn.rollback()
    assert policy_plan_problems(plan, owner_column=name in OWNER_COLUMN_QUERIES) == [], json.dumps(plan, indent=1)


def test_watchlist_lookup_reads_one_index_range_in_order_without_the_strategy_list(plan_url: str) -> None:
    """A workflow's watchlist under RLS (issue 19): owner and workflow are both equalities on
    idx_strategy_watchlists_user_workflow, read newest first (no sort), and workflow_sessions
    is not read at all (the array of the caller's strategy ids cost one btree search per id)."""
    with psycopg.connect(plan_url) as conn:
        plan = explain_as_user(conn.cursor(), PLAN_QUERIES["watchlist lookup"])
        conn.rollback()
    nodes = list(plan_nodes(plan))
    assert [n for n in nodes if n.get("Relation Name") == "workflow_sessions"] == [], json.dumps(plan, indent=1)
    assert [n["Node Type"] for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")] == []
    scans = [n for n in nodes if n.get("Relation Name") == "strategy_watchlists"]
    assert len(scans) == 1 and scans[0].get("Index Name") == "idx_strategy_watchlists_user_workflow", \
        json.dumps(plan, indent=1)
    cond = scans[0]["Index Cond"]
    assert "user_id = $" in cond and "workflow_id = " in cond, cond


def test_plan_check_catches_an_unwrapped_auth_uid(plan_url: str) -> None:
    """Negative control: the same check fails for the policy the seed's example shows."""
    with psycopg.connect(plan_url) as conn:
        cur = conn.cursor()
        cur.execute('drop policy "Users can view own strategy watchlists" on public.strategy_watchlists')
        cur.execute("""
            create policy "Users can view own strategy watchlists" on public.strategy_watchlists for select
            using (exists (select 1 from public.workflow_sessions
                           where workflow_sessions.id = strategy_watchlists.workflow_id
                             and workflow_sessions.user_id = auth.uid()))
        """)
        plan = explain_as_user(cur, PLAN_QUERIES["watchlists, all visible"])
        conn.rollback()
    assert any("per row" in p or "InitPlan" in p for p in policy_plan_problems(plan))


UNFILTERED = {
    "strategy_watchlists": "watchlists, all visible",
    "strategy_execution_logs": "logs, all visible",
    "workflow_executions": "runs, all visible",
}


# The index condition each unfiltered read's policy gives: the owner column for watchlists
# (0016_strategy_watchlists_owner), the array of the caller's strategy ids for the others.
UNFILTERED_PROBE = {
    "strategy_watchlists": "strategy_watchlists.user_id = $",
    "strategy_execution_logs": "strategy_execution_logs.workflow_id = ANY",
    "workflow_executions": "workflow_executions.workflow_id = ANY",
}


@pytest.mark.parametrize("table", list(UNFILTERED))
def test_unfiltered_read_fetches_only_the_users_strategies_rows_by_index(plan_url: str, table: str) -> None:
    """No WHERE clause: the policy's owner (the row's user_id, or the list of the user's
    strategy ids, computed once in an InitPlan) is an index condition, so the table is never
    scanned in full."""
    with psycopg.connect(plan_url) as conn:
        plan = explain_as_user(conn.cursor(), PLAN_QUERIES[UNFILTERED[table]])
        conn.rollback()
    nodes = list(plan_nodes(plan))
    seq = [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table]
    assert seq == [], json.dumps(plan, indent=1)
    probes = [n for n in nodes if UNFILTERED_PROBE[table] in n.get("Index Cond", "")]
    assert probes, json.dumps(plan, indent=1)


@pytest.mark.parametrize("table", list(UNFILTERED))
def test_unfiltered_read_is_estimated_below_the_jit_threshold(plan_url: str, table: str) -> None:
    """A per-row ownership subplan over 100,000 rows is estimated above jit_above_cost and so
    pays for JIT compilation on every call; the policy's plan must stay below it."""
    with psycopg.connect(plan_url) as conn:
        cur = conn.cursor()
        plan = explain_as_user(cur, PLAN_QUERIES[UNFILTERED[table]])
        cur.execute("select current_setting('jit_above_cost')::float8")
        row = cur.fetchone()
        conn.rollback()
    assert row is not None
    assert plan["Total Cost"] < row[0], json.dumps(plan, indent=1)


@pytest.mark.parametrize("name", [q for q in PLAN_QUERIES if q not in OWNER_COLUMN_QUERIES])
def test_callers_strategy_ids_come_from_an_index_only_scan(plan_url: str, name: str) -> None:
    """The policies' InitPlan reads the caller's strategy ids from idx_workflow_sessions_user
    (user_id, id) without visiting workflow_sessions' heap (one page per strategy before 0013),
    once autovacuum has marked the pages all-visible (done here by hand).

    Whether the planner then picks the index-only scan or a bitmap scan of the same index
    depends on the visibility map, which a snapshot held elsewhere can keep from being set
    (seen in CI under load); so the test requires that index, and that it holds every column
    the InitPlan reads (what makes an index-only scan possible), not the scan kind."""
    with psycopg.connect(plan_url, autocommit=True) as conn:
        conn.execute("vacuum analyze public.workflow_sessions")
    with psycopg.connect(plan_url) as conn:
        plan = explain_as_user(conn.cursor(), PLAN_QUERIES[name])
        conn.rollback()
        indexdef = conn.execute("select pg_get_indexdef('public.idx_workflow_sessions_user'::regclass)").fetchone()
    used = {n.get("Index Name") for n in plan_nodes(plan)}
    assert "idx_workflow_sessions_user" in used, json.dumps(plan, indent=1)
    assert indexdef is not None and indexdef[0].endswith("(user_id, id)"), indexdef
