"""Fuzz every function the API role ``authenticated`` may EXECUTE, in every module (issue 13).

The list is read from the catalog of the migrated database (every schema but PostgreSQL's own
and dbkit's bookkeeping; trigger functions and extension members excluded), so a function a
module adds later is fuzzed without editing this file. Hypothesis feeds each one random ids
(other users' real ids among them), strings, sizes, times and JSON. The oracle is
differential: user A's answer must be the same whether or not user B's data exists (B's rows
are deleted inside a rolled-back transaction), so nothing of B reaches A, not even as a
different error. The only errors allowed are validation errors (SQLSTATE classes 22 and 23).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbkit.identity import Identity, act_as


A = "00000000-0000-4000-8000-0000000000f1"
B = "00000000-0000-4000-8000-0000000000f2"
IDS = {
    "a_strategy": "10000000-0000-4000-8000-0000000000f1", "b_strategy": "10000000-0000-4000-8000-0000000000f2",
    "a_run": "20000000-0000-4000-8000-0000000000f1", "b_run": "20000000-0000-4000-8000-0000000000f2",
    "a_agent": "a0000000-0000-4000-8000-0000000000f1", "b_agent": "a0000000-0000-4000-8000-0000000000f2",
}
B_SECRET = "b-secret-node"

SEED = f"""
insert into auth.users (id) values ('{A}'), ('{B}');
insert into public.workflow_sessions (id, user_id) values ('{IDS["a_strategy"]}', '{A}'), ('{IDS["b_strategy"]}', '{B}');
insert into public.workflow_executions (id, workflow_id)
    values ('{IDS["a_run"]}', '{IDS["a_strategy"]}'), ('{IDS["b_run"]}', '{IDS["b_strategy"]}');
insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status, started_at, completed_at)
    values ('{IDS["a_run"]}', '{IDS["a_strategy"]}', 'a-node', 'filter', 'success', now() - interval '2 s', now()),
           ('{IDS["b_run"]}', '{IDS["b_strategy"]}', '{B_SECRET}', 'filter', 'error', now() - interval '9 s', now()),
           ('{IDS["b_run"]}', '{IDS["b_strategy"]}', 'a-node', 'filter', 'success', now() - interval '5 s', now());
insert into public.notification_settings (user_id, notification_type, enabled)
    select '{B}', t, false from unnest(array['strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error',
        'watchlist_updated', 'execution_completed', 'execution_failed']) as t;
insert into public.agents (id, user_id, name) values ('{IDS["a_agent"]}', '{A}', 'a agent'), ('{IDS["b_agent"]}', '{B}', 'b agent');
"""

EXCLUDED_SCHEMAS = ("pg_catalog", "information_schema", "dbkit", "cron", "pg_toast")
ALLOWED_ERROR_CLASSES = ("22", "23")
UUIDS = [A, B, *IDS.values(), "00000000-0000-0000-0000-000000000000"]
WORDS = ["strategy_error", "execution_failed", "UTC", "Europe/Paris", "monthly", "weekly", "daily", "a-node",
         B_SECRET, "", "'; drop table public.agents; --"]


@dataclass(frozen=True)
class Function:
    signature: str  # regprocedure text, schema-qualified
    name: str  # schema-qualified name, quoted as needed
    argtypes: tuple[str, ...]


def executable_functions(url: str) -> list[Function]:
    """Every non-trigger function authenticated may execute, read from the catalog."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set search_path = ''")
        rows = conn.execute(
            """
            select p.oid::regprocedure::text,
                   pg_catalog.format('%%I.%%I', n.nspname, p.proname),
                   array(select pg_catalog.format_type(t, null) from unnest(p.proargtypes) as t)
            from pg_catalog.pg_proc as p
            join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
            where n.nspname <> all (%s) and n.nspname not like 'pg\\_%%'
              and p.prokind = 'f' and p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
              and pg_catalog.has_function_privilege('authenticated', p.oid, 'EXECUTE')
              and not exists (select 1 from pg_catalog.pg_depend as d where d.classid = 'pg_catalog.pg_proc'::regclass
                              and d.objid = p.oid and d.deptype = 'e')
            order by 1
            """, (list(EXCLUDED_SCHEMAS),)).fetchall()
    return [Function(str(r[0]), str(r[1]), tuple(r[2])) for r in rows]


def _chars(max_size: int) -> st.SearchStrategy[str]:
    """Any text PostgreSQL can hold (no NUL, no lone surrogate)."""
    return st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=max_size)


def _text() -> st.SearchStrategy[str]:
    plain = _chars(40)
    big = st.integers(0, 20000).map(lambda n: "x" * n)
    return st.one_of(st.sampled_from(WORDS), plain, big)


STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "uuid": lambda: st.one_of(st.sampled_from(UUIDS), st.uuids().map(str), _chars(10)),
    "text": _text,
    "integer": lambda: st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from([0, 1, -1, 2**31 - 1, -2**31])),
    "bigint": lambda: st.integers(-2**63, 2**63 - 1),
    "boolean": st.booleans,
    "date": lambda: st.one_of(st.dates().map(str), st.sampled_from(["infinity", "-infinity", "2024-02-29"])),
    "time without time zone": lambda: st.one_of(st.times().map(str), st.sampled_from(["24:00", "00:00"])),
    "timestamp with time zone": lambda: st.one_of(
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31),
                     timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat()),
        st.sampled_from(["infinity", "-infinity", "now"])),
    "jsonb": lambda: st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                  _text()),
        lambda children: st.one_of(st.lists(children, max_size=5),
                                   st.dictionaries(st.text(max_size=10), children, max_size=5)),
        max_leaves=10).map(json.dumps),
    "numeric": lambda: st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    "text[]": lambda: st.lists(_text(), max_size=4).map(lambda xs: "{" + ",".join(json.dumps(x) for x in xs) + "}"),
}


def arguments(fn: Function) -> st.SearchStrategy[tuple[Any, ...]]:
    """One strategy per argument: the type's values or NULL; unknown types get NULL."""
    parts = [st.one_of(st.none(), STRATEGIES[t]()) if t in STRATEGIES else st.none() for t in fn.argtypes]
    return st.tuples(*parts)


def call(conn: psycopg.Connection[Any], fn: Function, args: tuple[Any, ...], *, without_b: bool) -> tuple[str, Any]:
    """User A's answer, in a transaction that is always rolled back."""
    placeholders = ", ".join(f"%s::{t}" for t in fn.argtypes)
    params = [a if not isinstance(a, bool) else ("true" if a else "false") for a in args]
    try:
        with conn.transaction(force_rollback=True):
            cur = conn.cursor()
            if without_b:
                cur.execute("delete from auth.users where id = %s", (B,))
            act_as(cur, Identity("authenticated", A))
            cur.execute(f"select * from {fn.name}({placeholders})", params)
            return "rows", sorted(repr(row) for row in cur.fetchall())
    except psycopg.Error as exc:
        return "error", exc.sqlstate


@pytest.fixture
def fuzz_url(migrated_url: str) -> str:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(SEED)
    return migrated_url


def test_function_list_comes_from_the_catalog_and_covers_every_module(fuzz_url: str) -> None:
    names = {f.signature for f in executable_functions(fuzz_url)}
    # Known members of the list (the list itself is derived, never written here): strategy,
    # automations and the platform's quiet-hours helper, which wealth_automation calls.
    for expected in ("public.get_execution_log_summary(uuid)", "public.has_account_access(uuid)",
                     "public.is_within_quiet_hours(timestamp with time zone,time without time zone,"
                     "time without time zone,text)"):
        assert expected in names
    # Service-only and trigger functions never appear: the scheduler's helpers are service_role's.
    assert not {n for n in names if "claim_due" in n or "cleanup_old_executions" in n or "fire_" in n
                or "next_auto_invest_date" in n}


def test_no_function_authenticated_may_execute_answers_with_another_users_data(fuzz_url: str) -> None:
    functions = executable_functions(fuzz_url)
    assert functions
    with psycopg.connect(fuzz_url) as conn:
        for fn in functions:
            _fuzz(conn, fn)


def _fuzz(conn: psycopg.Connection[Any], fn: Function) -> None:
    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(arguments(fn))
    def answers_alike(args: tuple[Any, ...]) -> None:
        with_b = call(conn, fn, args, without_b=False)
        without_b = call(conn, fn, args, without_b=True)
        assert with_b == without_b, f"{fn.signature}{args}: B's data changes A's answer"
        if with_b[0] == "error":
            assert str(with_b[1])[:2] in ALLOWED_ERROR_CLASSES, f"{fn.signature}{args} raised {with_b[1]}"
        else:
            assert B_SECRET not in repr(with_b[1])

    answers_alike()


def test_fuzz_oracle_catches_a_function_that_leaks_another_users_rows(fuzz_url: str) -> None:
    """Negative control: a SECURITY DEFINER function that ignores RLS is caught by the same oracle."""
    with psycopg.connect(fuzz_url, autocommit=True) as conn:
        conn.execute("create function public.leaky_node_count(p_node text) returns bigint language sql"
                     " security definer set search_path = '' as"
                     " $$ select count(*) from public.strategy_execution_logs where node_id = p_node $$")
        conn.execute("grant execute on function public.leaky_node_count(text) to authenticated")
    leaky = [f for f in executable_functions(fuzz_url) if f.name == "public.leaky_node_count"]
    assert leaky
    with psycopg.connect(fuzz_url) as conn:
        assert call(conn, leaky[0], ("a-node",), without_b=False) != call(conn, leaky[0], ("a-node",), without_b=True)


assert uuid.UUID(A) and uuid.UUID(B)
