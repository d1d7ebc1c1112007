"""Module strategy_execution (seed 003): verify, helper functions, triggers, rollbacks.

RLS lives in test_module_strategy_execution_rls.py, the cron side in
test_module_strategy_execution_cron.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest

from helpers import run_dbkit

MODULE = "strategy_execution"
OWNER = "00000000-0000-0000-0000-00000000000a"
STRANGER = "00000000-0000-0000-0000-00000000000b"
STRATEGY = "10000000-0000-0000-0000-000000000001"
OTHER_STRATEGY = "10000000-0000-0000-0000-000000000002"  # STRANGER's
EXECUTION = "20000000-0000-0000-0000-000000000001"
MIGRATIONS = [
    "0001_strategy_base_tables",
    "0002_strategy_workflow_sessions_autonomous",
    "0003_strategy_workflow_sessions_indexes",
    "0004_strategy_watchlists",
    "0005_strategy_notification_settings",
    "0006_strategy_execution_logs",
    "0007_strategy_notifications_enhancements",
    "0008_strategy_notifications_workflow_index",
]
TABLES = ["workflow_sessions", "workflow_executions", "notifications",
          "strategy_watchlists", "notification_settings", "strategy_execution_logs"]
FUNCTIONS = [
    "public.claim_due_strategies(timestamptz, integer)",
    "public.record_strategy_execution(uuid, boolean, integer, timestamptz)",
    "public.should_send_notification(uuid, text, timestamptz)",
    "public.create_strategy_notification(uuid, uuid, text, text, text, text, timestamptz)",
    "public.get_execution_log_summary(uuid)",
    "public.get_node_performance_stats(uuid, text)",
    "public.calculate_strategy_execution_log_duration()",
]


def at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2025, 3, 1, hour, minute, tzinfo=timezone.utc)


def seed_owner(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"insert into auth.users (id) values ('{OWNER}'), ('{STRANGER}')")
    conn.execute(f"insert into public.workflow_sessions (id, user_id) values ('{STRATEGY}', '{OWNER}')")
    conn.execute(f"insert into public.workflow_executions (id, workflow_id) values ('{EXECUTION}', '{STRATEGY}')")


def quiet_hours(conn: psycopg.Connection[Any], notification_type: str, start: str, end: str) -> None:
    """Seed the owner and give them quiet hours [start, end) UTC for one notification type."""
    seed_owner(conn)
    conn.execute(
        "insert into public.notification_settings (user_id, notification_type, quiet_hours_enabled,"
        " quiet_hours_start, quiet_hours_end) values (%s, %s, true, %s, %s)", (OWNER, notification_type, start, end))


def one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else tuple(row)


# --------------------------------------------------------------------------- verify


def test_verify_passes_on_a_fresh_apply(migrated_url: str) -> None:
    result = run_dbkit("verify", "--module", MODULE, url=migrated_url)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("tamper", "names"), [
    pytest.param(
        'drop policy "Users can view own strategy watchlists" on public.strategy_watchlists;'
        ' create policy "Users can view own strategy watchlists" on public.strategy_watchlists for select to authenticated'
        " using (exists (select 1 from public.workflow_sessions ws where ws.id = strategy_watchlists.workflow_id"
        " and ws.user_id = auth.uid()))",
        "Users can view own strategy watchlists", id="policy-unwrapped-auth-uid"),
    pytest.param("drop index public.idx_workflow_sessions_auto_run", "idx_workflow_sessions_auto_run",
                 id="partial-index-dropped"),
    pytest.param("alter function public.should_send_notification(uuid, text, timestamptz) security definer",
                 "should_send_notification", id="function-made-security-definer"),
    pytest.param("grant execute on function public.claim_due_strategies(timestamptz, integer) to authenticated",
                 "claim_due_strategies", id="function-granted-to-users"),
    pytest.param("alter table public.notification_settings disable row level security", "notification_settings",
                 id="rls-disabled"),
])
def test_verify_fails_when_an_object_is_changed_by_hand(migrated_url: str, tamper: str, names: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        conn.execute(tamper)
    result = run_dbkit("verify", "--module", MODULE, url=migrated_url)
    assert result.exit_code == 1, result.output
    failing = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert failing and any(names in line for line in failing), result.output


# --------------------------------------------------------------------------- notifications


@pytest.mark.parametrize(("when", "send"), [
    ("21:59", True), ("22:00", False), ("23:30", False), ("00:00", False), ("06:59", False), ("07:00", True),
    ("12:00", True),
])
def test_quiet_hours_across_midnight_suppress_notifications(migrated_url: str, when: str, send: bool) -> None:
    with psycopg.connect(migrated_url) as conn:
        quiet_hours(conn, "execution_failed", "22:00", "07:00")
        got = one(conn, "select public.should_send_notification(%s, 'execution_failed', %s)", (OWNER, at(when)))
    assert got is send


@pytest.mark.parametrize(("when", "send"), [("08:59", True), ("09:00", False), ("16:59", False), ("17:00", True)])
def test_quiet_hours_within_one_day(migrated_url: str, when: str, send: bool) -> None:
    with psycopg.connect(migrated_url) as conn:
        quiet_hours(conn, "strategy_error", "09:00", "17:00")
        assert one(conn, "select public.should_send_notification(%s, 'strategy_error', %s)",
                   (OWNER, at(when))) is send


def test_quiet_hours_are_evaluated_in_utc_whatever_the_session_time_zone(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        quiet_hours(conn, "strategy_error", "22:00", "07:00")
        conn.execute("set time zone 'America/Los_Angeles'")  # 23:30 UTC is 15:30 there
        assert one(conn, "select public.should_send_notification(%s, 'strategy_error', %s)",
                   (OWNER, at("23:30"))) is False


@pytest.mark.parametrize(("settings", "send"), [
    pytest.param(None, True, id="no-settings-row-sends"),
    pytest.param("enabled = false", False, id="disabled-type-suppressed"),
    pytest.param("quiet_hours_enabled = false, quiet_hours_start = '00:00', quiet_hours_end = '23:59'", True,
                 id="quiet-hours-switched-off"),
    pytest.param("quiet_hours_enabled = true, quiet_hours_start = null, quiet_hours_end = '23:59'", True,
                 id="quiet-hours-without-start"),
])
def test_should_send_notification_follows_settings(migrated_url: str, settings: str | None, send: bool) -> None:
    with psycopg.connect(migrated_url) as conn:
        seed_owner(conn)
        if settings is not None:
            conn.execute("insert into public.notification_settings (user_id, notification_type)"
                         " values (%s, 'strategy_stopped')", (OWNER,))
            conn.execute(f"update public.notification_settings set {settings}")
        assert one(conn, "select public.should_send_notification(%s, 'strategy_stopped', %s)",
                   (OWNER, at("12:00"))) is send


def test_create_strategy_notification_is_suppressed_in_quiet_hours(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        quiet_hours(conn, "execution_completed", "22:00", "07:00")
        conn.execute("set local role service_role")
        call = ("select public.create_strategy_notification(%s, %s, 'execution_completed', 'Done', 'Run finished',"
                " 'low', %s)")
        assert one(conn, call, (OWNER, STRATEGY, at("23:00"))) is None
        created = one(conn, call, (OWNER, STRATEGY, at("08:00")))
        assert created is not None
        assert one(conn, "select (type, priority, workflow_id::text) from public.notifications where id = %s",
                   (created,)) == ("execution_completed", "low", STRATEGY)
        assert one(conn, "select count(*) from public.notifications") == 1


# --------------------------------------------------------------------------- execution logs


def add_log(conn: psycopg.Connection[Any], node: str, status: str, completed_at: str | None = None,
            duration_ms: int | None = None) -> None:
    """A log row of EXECUTION's node started at 2025-01-01 00:00 UTC."""
    conn.execute(
        "insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status,"
        " started_at, completed_at, duration_ms) values (%s, %s, %s, 'filter', %s, '2025-01-01 00:00:00+00', %s, %s)",
        (EXECUTION, STRATEGY, node, status, completed_at, duration_ms))


def log_duration(conn: psycopg.Connection[Any], node: str) -> Any:
    return one(conn, "select duration_ms from public.strategy_execution_logs where node_id = %s", (node,))


def test_duration_trigger_fills_duration_when_a_node_completes(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        seed_owner(conn)
        add_log(conn, "n1", "running")
        assert log_duration(conn, "n1") is None
        conn.execute("update public.strategy_execution_logs set status = 'success',"
                     " completed_at = '2025-01-01 00:00:02.345+00' where node_id = 'n1'")
        assert log_duration(conn, "n1") == 2345


def test_duration_trigger_overrides_a_client_supplied_duration(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        seed_owner(conn)
        add_log(conn, "n1", "success", completed_at="2025-01-01 00:00:00.5+00", duration_ms=7)
        assert log_duration(conn, "n1") == 500
        conn.execute("update public.strategy_execution_logs set duration_ms = 1 where node_id = 'n1'")
        assert log_duration(conn, "n1") == 500
        conn.execute("update public.strategy_execution_logs set completed_at = null where node_id = 'n1'")
        assert log_duration(conn, "n1") is None


def test_log_statistics_respect_rls(migrated_url: str) -> None:
    """The owner gets the statistics of their run; a stranger asking about it gets an empty summary."""
    with psycopg.connect(migrated_url) as conn:
        seed_owner(conn)
        add_log(conn, "n1", "success", completed_at="2025-01-01 00:00:00.1+00")
        add_log(conn, "n2", "error", completed_at="2025-01-01 00:00:00.3+00")
        summary = ("select total_nodes, success_count, error_count, total_duration_ms"
                   " from public.get_execution_log_summary(%s)")
        stats = ("select total_executions, success_rate, max_duration_ms"
                 " from public.get_node_performance_stats(%s, 'n1')")
        for sub, want_summary, want_stats in ((OWNER, (2, 1, 1, 400), (1, 100, 100)),
                                              (STRANGER, (0, 0, 0, None), (0, None, None))):
            with conn.transaction():
                conn.execute("set local role authenticated")
                conn.execute("select set_config('request.jwt.claims', json_build_object('sub', %s::text,"
                             " 'role', 'authenticated')::text, true)", (sub,))
                assert one(conn, summary, (EXECUTION,)) == want_summary
                assert one(conn, stats, (STRATEGY,)) == want_stats


# --------------------------------------------------------------------------- rollback


SNAPSHOT = """
select 'class ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity::text
       || ' acl=' || coalesce(c.relacl::text, '-')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'auth')
union all
select 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
  from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where n.nspname in ('public', 'auth') and a.attnum > 0 and not a.attisdropped
union all
select 'constraint ' || conrelid::regclass || '.' || conname || ' ' || pg_get_constraintdef(oid)
  from pg_constraint where connamespace in ('public'::regnamespace, 'auth'::regnamespace)
union all
select 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) || ' acl='
       || coalesce(p.proacl::text, '-')
  from pg_proc p where p.pronamespace in ('public'::regnamespace, 'auth'::regnamespace)
union all
select 'policy ' || schemaname || '.' || tablename || '.' || policyname from pg_policies
union all
select 'trigger ' || tgrelid::regclass || '.' || tgname from pg_trigger where not tgisinternal
union all
select 'comment ' || classoid::regclass || ' ' || objoid || ' ' || description from pg_description
 where objoid >= 16384
order by 1
"""


def snapshot(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(SNAPSHOT).fetchall()]


def dbkit_ok(*args: str, url: str) -> None:
    result = run_dbkit(*args, url=url)
    assert result.exit_code == 0, result.output


def test_rollback_of_the_module_leaves_nothing_of_it(empty_url: str) -> None:
    dbkit_ok("apply", "--module", "platform", url=empty_url)
    before = snapshot(empty_url)
    dbkit_ok("apply", "--module", MODULE, url=empty_url)
    assert snapshot(empty_url) != before
    dbkit_ok("rollback", "--module", MODULE, "--all", url=empty_url)
    assert snapshot(empty_url) == before
    with psycopg.connect(empty_url) as conn:
        for table in TABLES:
            assert one(conn, "select to_regclass(%s)", (f"public.{table}",)) is None, table
        for function in FUNCTIONS:
            assert one(conn, "select to_regprocedure(%s)", (function,)) is None, function


@pytest.mark.parametrize("index", range(len(MIGRATIONS)), ids=MIGRATIONS)
def test_each_migration_rolls_back_to_the_catalog_before_it(empty_url: str, index: int) -> None:
    if index:
        dbkit_ok("apply", "--module", MODULE, "--to", MIGRATIONS[index - 1], url=empty_url)
    else:
        dbkit_ok("apply", "--module", "platform", url=empty_url)
    before = snapshot(empty_url)
    dbkit_ok("apply", "--module", MODULE, "--to", MIGRATIONS[index], url=empty_url)
    dbkit_ok("rollback", "--module", MODULE, "--steps", "1", url=empty_url)
    assert snapshot(empty_url) == before


def test_rollback_refuses_while_a_strategy_is_running(empty_url: str) -> None:
    """The previous status constraint cannot hold 'running': the rollback says so and changes nothing."""
    dbkit_ok("apply", "--module", MODULE, "--to", MIGRATIONS[1], url=empty_url)
    with psycopg.connect(empty_url) as conn:
        seed_owner(conn)
        conn.execute("update public.workflow_sessions set status = 'running'")
    before = snapshot(empty_url)
    result = run_dbkit("rollback", "--module", MODULE, "--steps", "1", "--force", url=empty_url)
    assert result.exit_code == 1, result.output
    assert "running, stopped or error" in result.output
    assert snapshot(empty_url) == before


# ------------------------------------------------------------- seed 003's contracts


DOCUMENT_POLICIES = [
    ("notification_settings", "Users can delete own notification settings", "DELETE"),
    ("notification_settings", "Users can insert own notification settings", "INSERT"),
    ("notification_settings", "Users can update own notification settings", "UPDATE"),
    ("notification_settings", "Users can view own notification settings", "SELECT"),
    ("strategy_execution_logs", "Service role can insert execution logs", "INSERT"),
    ("strategy_execution_logs", "Service role can update execution logs", "UPDATE"),
    ("strategy_execution_logs", "Users can view own strategy execution logs", "SELECT"),
    ("strategy_watchlists", "Users can delete from own strategy watchlists", "DELETE"),
    ("strategy_watchlists", "Users can insert into own strategy watchlists", "INSERT"),
    ("strategy_watchlists", "Users can view own strategy watchlists", "SELECT"),
]


def as_user(conn: psycopg.Connection[Any], user: str) -> None:
    """The rest of the transaction runs as ``user`` through the API role, as PostgREST does."""
    conn.execute("set local role authenticated")
    conn.execute("select set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{user}", "role": "authenticated"}}',))


def test_policies_carry_the_documents_names(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        rows = conn.execute(
            "select tablename::text, policyname::text, cmd from pg_policies where schemaname = 'public'"
            " and tablename in ('strategy_watchlists', 'notification_settings', 'strategy_execution_logs')"
            " order by 1, 2").fetchall()
        # A script that drops a documented policy by name meets the object it expects.
        conn.execute('drop policy "Users can view own strategy watchlists" on public.strategy_watchlists')
    assert rows == DOCUMENT_POLICIES


def test_owner_logs_a_manual_run_of_their_own_strategy_and_is_refused_for_anothers(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        seed_owner(conn)
        conn.execute(f"insert into public.workflow_sessions (id, user_id) values ('{OTHER_STRATEGY}', '{STRANGER}')")
        conn.commit()
        as_user(conn, OWNER)
        run = one(conn, f"insert into public.workflow_executions (workflow_id) values ('{STRATEGY}') returning id")
        log = one(conn, "insert into public.strategy_execution_logs (execution_id, workflow_id, node_id, node_type, status,"
                        f" started_at) values (%s, '{STRATEGY}', 'n1', 'filter', 'running', '2025-01-01 00:00+00')"
                        " returning id", (run,))
        assert one(conn, "update public.strategy_execution_logs set status = 'success',"
                         " completed_at = '2025-01-01 00:00:02+00' where id = %s returning duration_ms", (log,)) == 2000
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"insert into public.workflow_executions (workflow_id) values ('{OTHER_STRATEGY}')")


def test_watchlist_entry_may_come_without_a_market_snapshot(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        seed_owner(conn)
        conn.commit()
        as_user(conn, OWNER)
        assert one(conn, "insert into public.strategy_watchlists (workflow_id, market_id, metadata)"
                         f" values ('{STRATEGY}', 'm1', null) returning metadata") is None
        assert one(conn, "insert into public.strategy_watchlists (workflow_id, market_id)"
                         f" values ('{STRATEGY}', 'm2') returning metadata") == {}


# ------------------------------------------------------------- watchlist owner (issue 19)


def _watchlist_reads(conn: psycopg.Connection[Any], who: str) -> list[tuple[Any, ...]]:
    """The market ids ``who`` sees through the SELECT policy, as the API would read them."""
    with conn.transaction():
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{who}"}}',))
        return conn.execute("select market_id from public.strategy_watchlists order by market_id").fetchall()


def test_owner_column_is_backfilled_on_rows_that_existed_before_it(empty_url: str) -> None:
    """0016 on a table that already holds rows: every row gets its strategy's owner (the batch
    backfill), the owner keeps seeing exactly their rows through the new policy form, the
    column is NOT NULL by a validated CHECK, and the rollback puts the previous policy form
    back, which shows the owner the same rows."""
    dbkit_ok("apply", "--module", MODULE, "--to", "0015_strategy_notifications_enhancements_online", url=empty_url)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        seed_owner(conn)
        conn.execute(f"insert into public.workflow_sessions (id, user_id) values ('{OTHER_STRATEGY}', '{STRANGER}')")
        conn.execute("insert into public.strategy_watchlists (workflow_id, market_id) "
                     f"select case when g % 3 = 0 then '{OTHER_STRATEGY}'::uuid else '{STRATEGY}'::uuid end, "
                     "'m' || lpad(g::text, 5, '0') from generate_series(1, 12000) g")
        before = conn.execute("select market_id from public.strategy_watchlists "
                              f"where workflow_id = '{STRATEGY}' order by market_id").fetchall()
        assert len(before) == 8000
    dbkit_ok("apply", "--module", MODULE, url=empty_url)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        owners = conn.execute("select workflow_id::text, user_id::text, count(*) from public.strategy_watchlists "
                              "group by 1, 2 order by 1").fetchall()
        assert owners == [(STRATEGY, OWNER, 8000), (OTHER_STRATEGY, STRANGER, 4000)]
        assert one(conn, "select convalidated from pg_constraint where conname = 'strategy_watchlists_user_id_not_null'")
        assert one(conn, "select convalidated from pg_constraint "
                         "where conname = 'strategy_watchlists_workflow_owner_fkey'")
        assert _watchlist_reads(conn, OWNER) == before
        assert len(_watchlist_reads(conn, STRANGER)) == 4000
    dbkit_ok("rollback", "--module", MODULE, "--steps", "1", url=empty_url)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        assert one(conn, "select count(*) from information_schema.columns where table_name = 'strategy_watchlists' "
                         "and column_name = 'user_id'") == 0
        assert _watchlist_reads(conn, OWNER) == before
