"""Tenant isolation around RLS in module strategy_execution (issue 13): each attack an API user
(A against B, or anon) tried on the applied schema, refused on plain PostgreSQL and on a
database prepared with Supabase's default privileges; the executor's claim is fair and its
bookkeeping cannot overflow.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dbkit.identity import Identity, act_as
from supabase_privileges import NO_ROWS, ROWS, attack_url, attempt, prepared_templates, privileges_beyond_rls
from supabase_privileges import updatable_columns

__all__ = ["attack_url", "prepared_templates"]  # fixtures used below

A = "00000000-0000-4000-8000-0000000000a1"
B = "00000000-0000-4000-8000-0000000000b2"
A_STRATEGY = "10000000-0000-4000-8000-0000000000a1"
B_STRATEGY = "10000000-0000-4000-8000-0000000000b2"
A_RUN = "20000000-0000-4000-8000-0000000000a1"
B_RUN = "20000000-0000-4000-8000-0000000000b2"
TABLES = ["public.workflow_sessions", "public.workflow_executions", "public.notifications",
          "public.strategy_watchlists", "public.notification_settings", "public.strategy_execution_logs"]

SEED = f"""
insert into auth.users (id) values ('{A}'), ('{B}');
insert into public.workflow_sessions (id, user_id) values ('{A_STRATEGY}', '{A}'), ('{B_STRATEGY}', '{B}');
insert into public.workflow_executions (id, workflow_id) values ('{A_RUN}', '{A_STRATEGY}'), ('{B_RUN}', '{B_STRATEGY}');
insert into public.notification_settings (user_id, notification_type) values ('{A}', 'strategy_error'), ('{B}', 'strategy_error');
insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status)
    values ('{A_RUN}', '{A_STRATEGY}', 'n1', 'filter', 'running'), ('{B_RUN}', '{B_STRATEGY}', 'n1', 'filter', 'running');
insert into public.notifications (user_id, workflow_id, type, title, message)
    values ('{A}', '{A_STRATEGY}', 'info', 't', 'm'), ('{B}', '{B_STRATEGY}', 'info', 't', 'm');
"""


def _seed(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SEED)
    return url


# ------------------------------------------------------------------ privileges around RLS


def test_api_roles_hold_no_truncate_trigger_or_references_on_strategy_tables(attack_url: str) -> None:
    assert privileges_beyond_rls(attack_url, TABLES) == []


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize("table", TABLES)
def test_api_role_cannot_truncate_every_tenants_rows(attack_url: str, table: str, role: str) -> None:
    _seed(attack_url)
    assert attempt(attack_url, f"truncate {table} cascade", role=role, sub=A) == "42501"


@pytest.mark.parametrize("table", TABLES)
def test_user_cannot_attach_a_trigger_to_a_shared_table(attack_url: str, table: str) -> None:
    statement = (f"create trigger hijack before insert on {table} for each row"
                 " execute function public.update_updated_at_column()")
    assert attempt(attack_url, statement, role="authenticated", sub=A) == "42501"


@pytest.mark.parametrize(("table", "allowed"), [
    ("public.workflow_sessions", {"name", "description", "nodes", "edges", "status", "auto_run"}),
    ("public.workflow_executions", {"status", "completed_at", "error_message"}),
    ("public.notifications", {"read"}),
    ("public.strategy_watchlists", set()),
    ("public.notification_settings", {"notification_type", "enabled", "delivery_method", "quiet_hours_enabled",
                                      "quiet_hours_start", "quiet_hours_end"}),
    ("public.strategy_execution_logs", {"status", "output", "error_message", "completed_at"}),
])
def test_users_update_only_the_intended_columns(attack_url: str, table: str, allowed: set[str]) -> None:
    """Table-wide UPDATE (Supabase's default) would override these column grants."""
    assert updatable_columns(attack_url, table, "authenticated") == allowed
    assert updatable_columns(attack_url, table, "anon") == set()


# ------------------------------------------------------------------ move to another owner


@pytest.mark.parametrize("statement", [
    f"update public.workflow_sessions set user_id = '{B}' where id = '{A_STRATEGY}'",
    f"update public.workflow_executions set workflow_id = '{B_STRATEGY}' where id = '{A_RUN}'",
    f"update public.notification_settings set user_id = '{B}' where user_id = '{A}'",
    f"update public.notifications set user_id = '{B}' where user_id = '{A}'",
    f"update public.strategy_watchlists set workflow_id = '{B_STRATEGY}'",
    f"update public.strategy_execution_logs set workflow_id = '{B_STRATEGY}', execution_id = '{B_RUN}'",
], ids=["strategy", "run", "setting", "notification", "watchlist", "log"])
def test_owner_cannot_move_a_row_to_another_owner(attack_url: str, statement: str) -> None:
    _seed(attack_url)
    assert attempt(attack_url, statement, role="authenticated", sub=A) == "42501"


# ------------------------------------------------------- reference another tenant's row


CITING_A_RUN = {  # rows of A's strategy that name a run ({run})
    "watchlist": "insert into public.strategy_watchlists (workflow_id, market_id, added_by_execution_id)"
                 f" values ('{A_STRATEGY}', 'm1', '{{run}}')",
    "log": "insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status)"
           f" values ('{{run}}', '{A_STRATEGY}', 'n9', 'filter', 'running')",
}


@pytest.mark.parametrize("reference", [B_RUN, "2fffffff-0000-4000-8000-000000000009"], ids=["b-run", "unknown-id"])
@pytest.mark.parametrize("row", sorted(CITING_A_RUN))
def test_row_cannot_cite_another_tenants_run(attack_url: str, row: str, reference: str) -> None:
    """Another tenant's run and an id that exists nowhere are refused alike: no existence oracle."""
    _seed(attack_url)
    statement = CITING_A_RUN[row].format(run=reference)
    assert attempt(attack_url, statement, role="authenticated", sub=A) == "42501"


def test_executor_cannot_attach_another_users_strategy_to_a_notification(attack_url: str) -> None:
    _seed(attack_url)
    statement = ("insert into public.notifications (user_id, workflow_id, type, title, message)"
                 f" values ('{A}', '{B_STRATEGY}', 'info', 't', 'm')")
    assert attempt(attack_url, statement, role="service_role") == "23503"


def test_deleting_a_run_still_clears_the_watchlist_reference(attack_url: str) -> None:
    """The deferred same-strategy key does not break the document's ON DELETE SET NULL."""
    _seed(attack_url)
    with psycopg.connect(attack_url, autocommit=True) as conn:
        conn.execute("insert into public.strategy_watchlists (workflow_id, market_id, added_by_execution_id)"
                     f" values ('{A_STRATEGY}', 'm1', '{A_RUN}')")
        conn.execute(f"delete from public.workflow_executions where id = '{A_RUN}'")
        assert conn.execute("select added_by_execution_id from public.strategy_watchlists").fetchall() == [(None,)]


# ------------------------------------------------------------ the executor's columns


@pytest.mark.parametrize("assignment", [
    "next_execution_at = '-infinity'", "execution_interval_minutes = 1", "success_count = 2147483647",
    "error_count = 2147483647", "average_execution_time_ms = 0", "last_executed_at = now()",
])
def test_owner_cannot_write_the_schedulers_columns(attack_url: str, assignment: str) -> None:
    _seed(attack_url)
    statement = f"update public.workflow_sessions set {assignment} where id = '{A_STRATEGY}'"
    assert attempt(attack_url, statement, role="authenticated", sub=A) == "42501"


def test_owner_still_starts_and_stops_their_strategy(attack_url: str) -> None:
    _seed(attack_url)
    statement = f"update public.workflow_sessions set auto_run = true, status = 'running' where id = '{A_STRATEGY}'"
    assert attempt(attack_url, statement, role="authenticated", sub=A) == ROWS
    assert attempt(attack_url, f"update public.workflow_sessions set name = 'x' where id = '{B_STRATEGY}'",
                   role="authenticated", sub=A) == NO_ROWS


def _claim(conn: psycopg.Connection[Any], batch: int) -> list[str]:
    rows = conn.execute("select user_id::text from public.claim_due_strategies('2030-01-01 00:00+00', %s)",
                        (batch,)).fetchall()
    return sorted(str(r[0]) for r in rows)


def test_claim_takes_turns_between_users_so_one_user_cannot_starve_others(migrated_url: str) -> None:
    """A has 50 strategies overdue longer than B's one; a batch of 4 still serves B."""
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(f"insert into auth.users (id) values ('{A}'), ('{B}')")
        conn.execute("insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at)"
                     f" select '{A}', true, 'running', '2029-01-01'::timestamptz + make_interval(secs => g)"
                     " from generate_series(1, 50) as g")
        conn.execute("insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at)"
                     f" values ('{B}', true, 'running', '2029-12-31')")

        assert _claim(conn, 4) == sorted([A, A, A, B])


def test_claim_never_starves_a_strategy_behind_a_large_backlog(migrated_url: str) -> None:
    """B's strategy is behind 45 of A's, past the candidate window (20 x 2): it waits only until
    fewer than 40 older ones remain, three claims of 2, and is served in the fourth."""
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(f"insert into auth.users (id) values ('{A}'), ('{B}')")
        conn.execute("insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at,"
                     f" execution_interval_minutes) select '{A}', true, 'running',"
                     " '2029-01-01'::timestamptz + make_interval(secs => g), 60 * 24 * 365"
                     " from generate_series(1, 45) as g")
        conn.execute("insert into public.workflow_sessions (user_id, auto_run, status, next_execution_at)"
                     f" values ('{B}', true, 'running', '2029-12-31')")

        claimed = [_claim(conn, 2) for _ in range(4)]

        assert claimed[:3] == [[A, A]] * 3
        assert claimed[3] == sorted([A, B])


def test_claim_serves_a_single_user_longest_overdue_first(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(f"insert into auth.users (id) values ('{A}')")
        conn.execute("insert into public.workflow_sessions (name, user_id, auto_run, status, next_execution_at)"
                     f" select 'due ' || g, '{A}', true, 'running', '2029-01-01'::timestamptz - make_interval(days => g)"
                     " from generate_series(1, 5) as g")
        names = conn.execute("select name from public.claim_due_strategies('2030-01-01 00:00+00', 2)"
                             " order by next_execution_at").fetchall()
        assert sorted(n for (n,) in names) == ["due 4", "due 5"]


def test_recording_a_run_at_the_counters_maximum_does_not_abort_the_batch(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(f"insert into auth.users (id) values ('{A}')")
        conn.execute("insert into public.workflow_sessions (id, user_id, success_count, error_count,"
                     f" average_execution_time_ms) values ('{A_STRATEGY}', '{A}', 2147483647, 2147483647, 5)")
        with conn.transaction():
            act_as(conn.cursor(), Identity("service_role"))
            row = conn.execute("select success_count, error_count, average_execution_time_ms from"
                               f" public.record_strategy_execution('{A_STRATEGY}', true, 7)").fetchone()
        assert row == (2147483647, 2147483647, 5)
