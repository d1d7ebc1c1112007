"""Module automations (seed 004): event NOTIFY triggers and their payload contract, the
stats trigger, batched cleanup, account-scoped RLS, verify and rollback.

Notifications are observed the way a consumer sees them: one connection LISTENs (through
``dbkit.listen.notifications``), another one writes and commits. "Exactly" is proven with
a sentinel: after the writes, a last NOTIFY is sent in its own transaction; PostgreSQL
delivers notifications in commit order, so everything before the sentinel is everything
the writes sent. The pg_cron path is in test_module_automations_cron.py.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from dbkit.config import DatabaseTarget
from dbkit.identity import Identity, act_as
from dbkit.listen import notifications
from helpers import captured_plans, dbkit_running, run_dbkit

MODULE = "automations"
OWNER = "00000000-0000-4000-8000-0000000000a1"
MEMBER = "00000000-0000-4000-8000-0000000000a2"
STRANGER = "00000000-0000-4000-8000-0000000000a3"
OWNER_AGENT = "a0000000-0000-4000-8000-000000000001"
STRANGER_AGENT = "a0000000-0000-4000-8000-000000000002"
SENTINEL = "sentinel"
CHANNEL = "automation_trigger"
# Safety net only (a hung test fails instead of blocking the suite); nothing asserts on time.
LISTEN_TIMEOUT = 60.0

ACCOUNTS = f"""
insert into auth.users (id) values ('{OWNER}'), ('{MEMBER}'), ('{STRANGER}');
insert into public.account_members (account_id, user_id) values ('{OWNER}', '{MEMBER}');
insert into public.agents (id, user_id, name) values
  ('{OWNER_AGENT}', '{OWNER}', 'owner agent'), ('{STRANGER_AGENT}', '{STRANGER}', 'stranger agent');
"""


def _sql(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def _automation(url: str, name: str, *, owner: str = OWNER, agent: str = OWNER_AGENT, status: str = "active",
                enabled: bool = True, trigger_type: str = "event", source: str = "lead", event: str = "any") -> str:
    rows = _sql(
        url,
        "insert into public.automations (agent_id, user_id, name, status, enabled, trigger_type, trigger_config)"
        " values (%s, %s, %s, %s, %s, %s, jsonb_build_object('event_source', %s::text, 'event_type', %s::text))"
        " returning id::text",
        (agent, owner, name, status, enabled, trigger_type, source, event),
    )
    return str(rows[0][0])


def _observe(url: str, write: Callable[[], object]) -> list[dict[str, Any]]:
    """Every automation_trigger notification caused by ``write`` (run once LISTEN is active)."""

    def write_then_sentinel() -> None:
        write()
        _sql(url, "select pg_notify(%s, %s)", (CHANNEL, SENTINEL))

    seen: list[dict[str, Any]] = []
    for notification in notifications(DatabaseTarget.parse(url), CHANNEL, timeout=LISTEN_TIMEOUT,
                                      on_listening=write_then_sentinel):
        if notification["payload"] == SENTINEL:
            return seen
        seen.append(notification)
    pytest.fail(f"the sentinel notification never arrived; saw {seen}")


def _ids(seen: list[dict[str, Any]]) -> list[str]:
    return sorted(n["payload"]["automation_id"] for n in seen)


# ------------------------------------------------------------------------ event triggers


def test_lead_insert_notifies_exactly_the_matching_automations(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    on_insert = _automation(migrated_url, "on insert", event="INSERT")
    on_any = _automation(migrated_url, "on any", event="any")
    for name, kwargs in {
        "on update": {"event": "UPDATE"},
        "disabled": {"enabled": False},
        "paused": {"status": "paused"},
        "draft": {"status": "draft"},
        "conversation source": {"source": "conversation"},
        "manual trigger": {"trigger_type": "manual"},
        "stranger's": {"owner": STRANGER, "agent": STRANGER_AGENT},
    }.items():
        _automation(migrated_url, name, **kwargs)  # type: ignore[arg-type]

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url, "insert into public.leads (id, user_id, name) values ('b0000000-0000-4000-8000-000000000001', %s, 'Ada')",
        (OWNER,)))

    assert _ids(seen) == sorted([on_insert, on_any])
    for notification in seen:
        assert notification["channel"] == CHANNEL
        data = notification["payload"]["trigger_data"]
        assert data["event"] == "INSERT" and data["table"] == "leads" and data["truncated"] is False
        assert data["old"] is None
        assert data["new"]["id"] == "b0000000-0000-4000-8000-000000000001"
        assert data["new"]["name"] == "Ada" and data["new"]["user_id"] == OWNER
        assert data["timestamp"]


def test_lead_update_and_delete_notify_their_event_types(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _sql(migrated_url, "insert into public.leads (id, user_id, name) values ('b0000000-0000-4000-8000-000000000001', %s, 'Ada')",
         (OWNER,))
    on_update = _automation(migrated_url, "on update", event="UPDATE")
    on_delete = _automation(migrated_url, "on delete", event="DELETE")
    on_any = _automation(migrated_url, "on any", event="any")

    updated = _observe(migrated_url, lambda: _sql(
        migrated_url, "update public.leads set status = 'contacted' where id = 'b0000000-0000-4000-8000-000000000001'"))
    deleted = _observe(migrated_url, lambda: _sql(
        migrated_url, "delete from public.leads where id = 'b0000000-0000-4000-8000-000000000001'"))

    assert _ids(updated) == sorted([on_update, on_any])
    assert {n["payload"]["trigger_data"]["new"]["status"] for n in updated} == {"contacted"}
    assert _ids(deleted) == sorted([on_delete, on_any])
    for notification in deleted:
        data = notification["payload"]["trigger_data"]
        assert data["event"] == "DELETE" and data["new"] is None
        assert data["old"]["id"] == "b0000000-0000-4000-8000-000000000001" and data["old"]["user_id"] == OWNER


def test_lead_written_by_an_account_member_through_rls_notifies(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    on_any = _automation(migrated_url, "on any")

    def member_inserts_lead() -> None:
        with psycopg.connect(migrated_url) as conn:
            act_as(conn.cursor(), Identity("authenticated", MEMBER))
            conn.execute("insert into public.leads (user_id, name) values (%s, 'by member')", (OWNER,))

    seen = _observe(migrated_url, member_inserts_lead)

    assert _ids(seen) == [on_any]
    assert seen[0]["payload"]["trigger_data"]["new"]["name"] == "by member"


def test_conversation_insert_notifies_the_agent_owners_automations(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    wanted = _automation(migrated_url, "conversation", source="conversation", event="INSERT")
    _automation(migrated_url, "lead only", source="lead", event="any")
    _automation(migrated_url, "stranger conversation", owner=STRANGER, agent=STRANGER_AGENT, source="conversation")

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url, "insert into public.conversations (agent_id) values (%s)", (OWNER_AGENT,)))

    assert _ids(seen) == [wanted]
    data = seen[0]["payload"]["trigger_data"]
    assert data["table"] == "conversations" and data["new"]["agent_id"] == OWNER_AGENT


def test_lead_over_8000_bytes_is_inserted_and_notified_by_reference(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    on_any = _automation(migrated_url, "on any")
    blob = "x" * 20000

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url,
        "insert into public.leads (id, user_id, agent_id, name, metadata) values"
        " ('b0000000-0000-4000-8000-000000000002', %s, %s, 'Big', jsonb_build_object('blob', %s::text))",
        (OWNER, OWNER_AGENT, blob)))

    assert _ids(seen) == [on_any]
    data = seen[0]["payload"]["trigger_data"]
    assert data["truncated"] is True
    assert data["payload_bytes"] > 20000
    assert data["new"] == {"id": "b0000000-0000-4000-8000-000000000002", "user_id": OWNER, "agent_id": OWNER_AGENT}
    assert data["event"] == "INSERT" and data["table"] == "leads" and data["old"] is None
    assert len(json.dumps(seen[0]["payload"]).encode()) < 8000
    # The contract: the consumer re-reads the full row by id.
    assert _sql(migrated_url, "select length(metadata ->> 'blob') from public.leads where id = %s",
                (data["new"]["id"],)) == [(20000,)]


def test_lead_just_under_the_limit_is_sent_whole(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _automation(migrated_url, "on any")

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url, "insert into public.leads (user_id, metadata) values (%s, jsonb_build_object('blob', repeat('y', 7000)))",
        (OWNER,)))

    data = seen[0]["payload"]["trigger_data"]
    assert data["truncated"] is False
    assert len(data["new"]["metadata"]["blob"]) == 7000


def test_dbkit_listen_prints_the_lead_insert_as_one_json_line(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    on_any = _automation(migrated_url, "on any")
    with dbkit_running("listen", "--count", "1", "--timeout", str(LISTEN_TIMEOUT), url=migrated_url) as proc:
        _wait_until_listening(migrated_url, proc)
        _sql(migrated_url, "insert into public.leads (user_id, name) values (%s, 'Ada')", (OWNER,))
        stdout, stderr = proc.communicate(timeout=LISTEN_TIMEOUT + 30)

    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert set(line) == {"channel", "pid", "payload"}
    assert line["channel"] == CHANNEL and isinstance(line["pid"], int)
    assert line["payload"]["automation_id"] == on_any
    assert line["payload"]["trigger_data"]["new"]["name"] == "Ada"


def _wait_until_listening(url: str, proc: subprocess.Popen[str]) -> None:
    """Poll pg_stat_activity until the dbkit process has run LISTEN (or has exited)."""
    deadline = time.monotonic() + LISTEN_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dbkit listen exited early: {proc.communicate()}")
        if _sql(url, "select 1 from pg_stat_activity where datname = current_database()"
                     " and query ilike 'LISTEN %%' and state = 'idle' and pid <> pg_backend_pid()"):
            return
        time.sleep(0.05)
    pytest.fail("dbkit listen never started listening")


def test_dbkit_listen_stops_cleanly_on_ctrl_c(migrated_url: str) -> None:
    with dbkit_running("listen", url=migrated_url) as proc:
        _wait_until_listening(migrated_url, proc)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=LISTEN_TIMEOUT)

    assert (proc.returncode, stdout) == (0, "")
    assert stderr.startswith("listening on channel 'automation_trigger' at ") and len(stderr.splitlines()) == 1


def test_dbkit_listen_with_count_exits_1_when_too_few_arrive(migrated_url: str) -> None:
    result = run_dbkit("listen", "--count", "1", "--timeout", "0.2", url=migrated_url)

    assert result.exit_code == 1
    assert "0 of 1 notifications" in result.stderr


def test_dbkit_listen_rejects_an_overlong_channel_name(migrated_url: str) -> None:
    result = run_dbkit("listen", "c" * 64, url=migrated_url)

    assert result.exit_code == 2
    assert "channel name" in result.stderr


def test_event_matching_query_uses_its_partial_index(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _sql(migrated_url, f"""
        insert into public.automations (agent_id, user_id, name, status, enabled, trigger_type, trigger_config)
        select '{OWNER_AGENT}', '{OWNER}', 'flow ' || g, case when g % 50 = 0 then 'active' else 'draft' end,
               g % 50 = 0, case when g % 10 = 0 then 'event' else 'manual' end,
               jsonb_build_object('event_source', 'lead', 'event_type', 'any')
        from generate_series(1, 20000) as g;
        analyze public.automations;
    """)

    plan = _sql(migrated_url, f"""explain select a.id from public.automations as a
        where a.user_id = '{OWNER}' and a.trigger_type = 'event' and a.enabled = true and a.status = 'active'
          and a.trigger_config ->> 'event_source' = 'lead'
          and (a.trigger_config ->> 'event_type' = 'INSERT' or a.trigger_config ->> 'event_type' = 'any')""")

    assert "idx_automations_event_match" in "\n".join(row[0] for row in plan)


# --------------------------------------------------------------------------- stats


def _execution(url: str, automation_id: str, status: str, **columns: Any) -> str:
    names = ["automation_id", "trigger_type", "status", *columns]
    values = [automation_id, "manual", status, *columns.values()]
    rows = _sql(url, f"insert into public.automation_executions ({', '.join(names)}) values"
                     f" ({', '.join(['%s'] * len(values))}) returning id::text", values)
    return str(rows[0][0])


def _stats(url: str, automation_id: str) -> tuple[Any, ...]:
    return _sql(url, "select execution_count, last_execution_status, last_executed_at from public.automations"
                     " where id = %s", (automation_id,))[0]


@pytest.mark.parametrize("final", ["completed", "failed"])
def test_finishing_a_running_execution_updates_the_stats(migrated_url: str, final: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    automation = _automation(migrated_url, "flow", trigger_type="manual")
    run = _execution(migrated_url, automation, "running")

    _sql(migrated_url, "update public.automation_executions set status = %s, completed_at = '2025-01-02 03:04:05+00'"
                       " where id = %s", (final, run))

    count, status, at = _stats(migrated_url, automation)
    assert (count, status) == (1, final)
    assert at.isoformat() == "2025-01-02T03:04:05+00:00"


def test_unfinished_or_never_started_executions_leave_the_stats_alone(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    automation = _automation(migrated_url, "flow", trigger_type="manual")
    pending = _execution(migrated_url, automation, "pending")
    running = _execution(migrated_url, automation, "running")

    _sql(migrated_url, "update public.automation_executions set status = 'cancelled' where id = %s", (pending,))
    _sql(migrated_url, "update public.automation_executions set variables = '{\"step\": 2}' where id = %s", (running,))

    assert _stats(migrated_url, automation) == (0, None, None)


def test_cancelling_a_running_execution_leaves_the_stats_untouched(migrated_url: str) -> None:
    """Seed 004 counts running -> completed/failed only; a cancelled run is not an execution."""
    _sql(migrated_url, ACCOUNTS)
    automation = _automation(migrated_url, "flow", trigger_type="manual")
    done = _execution(migrated_url, automation, "running")
    _sql(migrated_url, "update public.automation_executions set status = 'completed',"
                       " completed_at = '2025-01-02 03:04:05+00' where id = %s", (done,))
    cancelled = _execution(migrated_url, automation, "running")

    _sql(migrated_url, "update public.automation_executions set status = 'cancelled',"
                       " completed_at = '2025-02-02 00:00:00+00' where id = %s", (cancelled,))

    count, status, at = _stats(migrated_url, automation)
    assert (count, status) == (1, "completed")
    assert at.isoformat() == "2025-01-02T03:04:05+00:00"


def test_completion_records_the_runs_completed_at_as_written(migrated_url: str) -> None:
    """Seed 004: last_executed_at = NEW.completed_at, also when the writer left it NULL."""
    _sql(migrated_url, ACCOUNTS)
    automation = _automation(migrated_url, "flow", trigger_type="manual")
    run = _execution(migrated_url, automation, "running")

    _sql(migrated_url, "update public.automation_executions set status = 'failed' where id = %s", (run,))

    assert _stats(migrated_url, automation) == (1, "failed", None)


# ------------------------------------------------------------------------- cleanup

RETENTION_ROWS = [
    # (label, status, completed days ago or None, started days ago, deleted?)
    ("old completed", "completed", 40, 41, True),
    ("old cancelled", "cancelled", 31, 32, True),
    ("old failed", "failed", 8, 9, True),
    ("recent completed", "completed", 29, 30, False),
    ("recent cancelled", "cancelled", 1, 1, False),
    ("recent failed", "failed", 6, 7, False),
    ("old running", "running", None, 90, False),
    ("old pending", "pending", None, 90, False),
]


def _seed_retention(url: str) -> str:
    _sql(url, ACCOUNTS)
    automation = _automation(url, "flow", trigger_type="manual")
    for label, status, completed, started, _ in RETENTION_ROWS:
        _sql(url, "insert into public.automation_executions (automation_id, trigger_type, status, error, started_at,"
                  " completed_at) values (%s, 'manual', %s, %s, now() - make_interval(days => %s),"
                  " now() - make_interval(days => %s))", (automation, status, label, started, completed))
    return automation


def _remaining(url: str) -> list[str]:
    return [str(r[0]) for r in _sql(url, "select error from public.automation_executions order by error")]


def test_cleanup_deletes_old_finished_runs_and_keeps_recent_and_running(migrated_url: str) -> None:
    _seed_retention(migrated_url)

    deleted = _sql(migrated_url, "select public.cleanup_old_executions()")

    assert deleted == [(3,)]
    assert _remaining(migrated_url) == sorted(label for label, *_, gone in RETENTION_ROWS if not gone)


def test_cleanup_works_in_bounded_batches_and_resumes(migrated_url: str) -> None:
    _seed_retention(migrated_url)

    first = _sql(migrated_url, "select public.cleanup_old_executions(1, 2)")
    second = _sql(migrated_url, "select public.cleanup_old_executions(1, 2)")
    third = _sql(migrated_url, "select public.cleanup_old_executions(1, 2)")

    assert (first, second, third) == ([(2,)], [(1,)], [(0,)])
    assert _remaining(migrated_url) == sorted(label for label, *_, gone in RETENTION_ROWS if not gone)


def test_cleanup_rejects_a_nonpositive_batch_size(migrated_url: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        _sql(migrated_url, "select public.cleanup_old_executions(0, 1)")


def test_cleanup_is_not_callable_by_authenticated(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        act_as(conn.cursor(), Identity("authenticated"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select public.cleanup_old_executions()")


def _nested_plans(url: str, statement: str) -> list[str]:
    """Plans of every statement ``statement`` runs, nested ones (plpgsql) included, via
    auto_explain at NOTICE level; the transaction is rolled back."""
    with psycopg.connect(url) as conn:
        with captured_plans(conn, json_format=False) as plans:
            conn.execute(statement)
        conn.rollback()
    return plans


def _seed_many_executions(url: str) -> None:
    _sql(url, ACCOUNTS)
    automation = _automation(url, "flow", trigger_type="manual")
    _sql(url, f"""
        insert into public.automation_executions (automation_id, trigger_type, status, started_at, completed_at)
        select '{automation}', 'manual', case when g % 5 = 0 then 'running' else 'completed' end,
               now() - (g % 90) * interval '1 day',
               case when g % 5 = 0 then null else now() - (g % 90) * interval '1 day' end
        from generate_series(1, 30000) as g;
        analyze public.automation_executions;
    """)


def test_cleanup_batches_walk_the_cleanup_index_forward_and_delete_by_tid(migrated_url: str) -> None:
    _seed_many_executions(migrated_url)

    plans = _nested_plans(migrated_url, "select public.cleanup_old_executions(5000, 2)")

    deletes = [p for p in plans if "delete from public.automation_executions" in p.lower()]
    assert len(deletes) == 2, plans
    for delete in deletes:
        # Each batch reads its rows from idx_executions_cleanup starting where the previous
        # batch stopped (completed_at >= the last one deleted) and deletes them by ctid; the
        # earlier forms re-read the whole table (semi join) or the rows already deleted.
        assert "Index Scan using idx_executions_cleanup" in delete, delete
        assert "completed_at >=" in delete, delete
        assert "Tid Scan" in delete, delete
        assert "Seq Scan" not in delete and "Semi Join" not in delete, delete


def test_document_cleanup_call_is_one_set_based_delete_per_status(migrated_url: str) -> None:
    _seed_many_executions(migrated_url)

    plans = _nested_plans(migrated_url, "select public.cleanup_old_executions()")

    deletes = [p for p in plans if "delete from public.automation_executions" in p.lower()]
    # completed, cancelled, failed: one DELETE each, none limited or locking rows first.
    assert len(deletes) == 3, plans
    assert not [d for d in deletes if "LockRows" in d or "Limit" in d], deletes


def test_scheduled_cleanup_procedure_commits_after_each_batch(migrated_url: str) -> None:
    _seed_retention(migrated_url)
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        before = int(conn.execute("select txid_current()").fetchone()[0])  # type: ignore[index]
        conn.execute("call public.cleanup_old_executions_in_batches(1)")
        after = int(conn.execute("select txid_current()").fetchone()[0])  # type: ignore[index]

    assert _remaining(migrated_url) == sorted(label for label, *_, gone in RETENTION_ROWS if not gone)
    # Three due rows in batches of one: three committed deleting transactions between the
    # two txid_current() calls (the function's single transaction would have used one).
    assert after - before >= 4


def test_scheduled_cleanup_procedure_refuses_to_run_inside_a_transaction(migrated_url: str) -> None:
    _seed_retention(migrated_url)
    with psycopg.connect(migrated_url) as conn:
        with pytest.raises(psycopg.errors.InvalidTransactionTermination):
            conn.execute("call public.cleanup_old_executions_in_batches(1)")
        conn.rollback()

    assert len(_remaining(migrated_url)) == len(RETENTION_ROWS)


# ---------------------------------------------------------------------------- RLS


def _as(url: str, role: str, sub: str | None, statement: str, params: Any = None,
        grant: str | None = None) -> list[tuple[Any, ...]]:
    """Run ``statement`` as ``role`` (with JWT sub) in a transaction that is rolled back."""
    with psycopg.connect(url) as conn:
        if grant:
            conn.execute(grant)
        act_as(conn.cursor(), Identity(role, sub or None))
        cur = conn.execute(statement, params)
        rows = cur.fetchall() if cur.description else [(cur.rowcount,)]
        conn.rollback()
        return rows


def test_account_member_sees_automations_and_stranger_does_not(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _automation(migrated_url, "owner's flow")
    _automation(migrated_url, "stranger's flow", owner=STRANGER, agent=STRANGER_AGENT)
    query = "select name from public.automations order by name"

    assert _as(migrated_url, "authenticated", OWNER, query) == [("owner's flow",)]
    assert _as(migrated_url, "authenticated", MEMBER, query) == [("owner's flow",)]
    assert _as(migrated_url, "authenticated", STRANGER, query) == [("stranger's flow",)]
    assert _as(migrated_url, "service_role", None, query) == [("owner's flow",), ("stranger's flow",)]


def test_anon_sees_no_automations_even_with_a_select_grant(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _automation(migrated_url, "owner's flow")

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(migrated_url, "anon", None, "select * from public.automations")
    assert _as(migrated_url, "anon", None, "select * from public.automations",
               grant="grant select on public.automations to anon") == []


def test_member_sees_executions_of_account_automations_and_stranger_does_not(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    automation = _automation(migrated_url, "owner's flow", trigger_type="manual")
    _execution(migrated_url, automation, "completed")
    query = "select count(*) from public.automation_executions"

    assert _as(migrated_url, "authenticated", MEMBER, query) == [(1,)]
    assert _as(migrated_url, "authenticated", STRANGER, query) == [(0,)]
    assert _as(migrated_url, "authenticated", STRANGER, "delete from public.automation_executions") == [(0,)]
    assert _as(migrated_url, "authenticated", MEMBER, "delete from public.automation_executions") == [(1,)]


def test_authenticated_cannot_insert_executions_but_service_role_can(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    automation = _automation(migrated_url, "owner's flow", trigger_type="manual")
    insert = "insert into public.automation_executions (automation_id, trigger_type) values (%s, 'manual')"

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(migrated_url, "authenticated", OWNER, insert, (automation,))
    # A platform that grants INSERT by default (Supabase) is still refused: no insert policy.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _as(migrated_url, "authenticated", OWNER, insert, (automation,),
            grant="grant insert on public.automation_executions to authenticated")
    assert _as(migrated_url, "service_role", None, insert, (automation,)) == [(1,)]


def test_automation_cannot_use_another_accounts_agent(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    insert = ("insert into public.automations (agent_id, user_id, name, trigger_type)"
              " values (%s, %s, 'flow', 'manual')")

    assert _as(migrated_url, "authenticated", MEMBER, insert, (OWNER_AGENT, OWNER)) == [(1,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(migrated_url, "authenticated", OWNER, insert, (STRANGER_AGENT, OWNER))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as(migrated_url, "authenticated", STRANGER, insert, (OWNER_AGENT, OWNER))


def test_accessible_account_ids_agrees_with_has_account_access_for_every_caller(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    # OWNER is also a member of STRANGER's account here: two accounts for OWNER.
    _sql(migrated_url, f"insert into public.account_members (account_id, user_id) values ('{STRANGER}', '{OWNER}')")
    users = (OWNER, MEMBER, STRANGER)
    sets = "select array(select a::text from public.accessible_account_ids() as a order by 1)"
    checks = ("select array(select u::text from unnest(%s::uuid[]) as u"
              " where public.has_account_access(u) order by 1)")

    for sub in (*users, None):
        accessible = _as(migrated_url, "authenticated", sub, sets)[0][0]
        checked = _as(migrated_url, "authenticated", sub, checks, (list(users),))[0][0]
        assert accessible == checked, sub
    assert _as(migrated_url, "authenticated", OWNER, sets)[0][0] == sorted([OWNER, STRANGER])
    assert _as(migrated_url, "authenticated", MEMBER, sets)[0][0] == sorted([OWNER, MEMBER])
    assert _as(migrated_url, "authenticated", None, sets)[0][0] == []


def test_unfiltered_automations_list_computes_accounts_once_and_uses_the_user_index(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _sql(migrated_url, """
        insert into auth.users (id)
        select ('00000000-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid from generate_series(1, 200) as g;
        insert into public.agents (user_id, name) select id, 'agent' from auth.users;
        insert into public.automations (agent_id, user_id, name, trigger_type)
        select ag.id, ag.user_id, 'flow ' || g, 'manual' from public.agents as ag, generate_series(1, 100) as g;
        analyze auth.users; analyze public.account_members; analyze public.agents; analyze public.automations;
    """)

    plan = "\n".join(r[0] for r in _as(migrated_url, "authenticated", MEMBER,
                                        "explain select id, name from public.automations"))

    # One InitPlan builds the array of accounts; the scan probes idx_automations_user with it,
    # instead of calling a function for each of the 20,300 rows.
    assert "InitPlan" in plan, plan
    assert "idx_automations_user" in plan, plan
    assert "has_account_access" not in plan, plan
    # MEMBER's own agent (100) and OWNER's two agents (200): the rows has_account_access allows.
    assert len(_as(migrated_url, "authenticated", MEMBER, "select id from public.automations")) == 300


def test_latest_executions_under_rls_read_only_the_callers_executions(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    mine = _automation(migrated_url, "mine", trigger_type="manual")
    # 200 other accounts with 10 automations of 4 newer executions each: the 8,000 rows a
    # backward walk of idx_executions_started would have to pass to find MEMBER's.
    _sql(migrated_url, f"""
        insert into auth.users (id)
        select ('00000000-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid from generate_series(1, 200) as g;
        insert into public.agents (user_id, name) select id, 'agent' from auth.users
         where id::text like '00000000-0000-4000-9000-%';
        insert into public.automations (agent_id, user_id, name, trigger_type)
        select ag.id, ag.user_id, 'flow', 'manual'
        from public.agents as ag, generate_series(1, 10) where ag.name = 'agent';
        insert into public.automation_executions (automation_id, trigger_type, status, started_at)
        select a.id, 'manual', 'completed', now() - g * interval '1 second'
        from public.automations as a, generate_series(1, 4) as g where a.name = 'flow';
        insert into public.automation_executions (automation_id, trigger_type, status, started_at)
        select '{mine}', 'manual', 'completed', now() - interval '1 day' - g * interval '1 second'
        from generate_series(1, 60) as g;
        analyze auth.users; analyze public.account_members; analyze public.agents;
        analyze public.automations; analyze public.automation_executions;
    """)
    latest = "select id from public.automation_executions order by started_at desc limit 50"

    plan = "\n".join(r[0] for r in _as(migrated_url, "authenticated", MEMBER,
                                        "explain (analyze, costs off, timing off) " + latest))

    # The caller's automations' ids are an InitPlan array probed in idx_executions_automation:
    # the scan returns MEMBER's 60 executions (then a top-N sort), never the 8,000 newer ones
    # of other accounts through idx_executions_started.
    assert "idx_executions_automation" in plan, plan
    assert "idx_executions_started" not in plan, plan
    assert re.search(r"Index Scan (using|on) idx_executions_automation.*\(actual rows=60 loops=1\)", plan), plan
    assert len(_as(migrated_url, "authenticated", MEMBER, latest)) == 50
    assert _as(migrated_url, "authenticated", STRANGER, latest) == []


def test_latest_executions_under_rls_look_the_callers_accounts_up_once(migrated_url: str) -> None:
    """The executions policy takes the account rule from the automations SELECT policy applied
    to its sub-select, so a statement calls accessible_account_ids() once (issue 19: the form
    that also filtered by accounts in the executions policy called it twice)."""
    _sql(migrated_url, ACCOUNTS)
    _automation(migrated_url, "mine", trigger_type="manual")
    plan = "\n".join(r[0] for r in _as(migrated_url, "authenticated", MEMBER,
                                        "explain (verbose, costs off) select id from public.automation_executions "
                                        "order by started_at desc limit 50"))
    assert plan.count("accessible_account_ids()") == 1, plan
    assert "InitPlan" in plan, plan


# ------------------------------------------------------------------ verify, rollback


def _verify(url: str) -> tuple[int, dict[str, str]]:
    result = run_dbkit("verify", "--module", MODULE, "--format", "json", "--with-writes", url=url)
    report = json.loads(result.stdout)
    checks = report["checks"] if "checks" in report else [c for m in report["modules"] for c in m["checks"]]
    return result.exit_code, {c["id"]: c["status"] for c in checks}


def test_verify_passes_on_a_migrated_database(migrated_url: str) -> None:
    code, checks = _verify(migrated_url)

    assert code == 0, {k: v for k, v in checks.items() if v == "fail"}
    assert checks["automations.event.lead_insert_matches_exactly"] == "pass"
    assert checks["automations.event.large_lead_insert_succeeds"] == "pass"
    assert checks["automations.cron.cleanup-executions"] == "skipped"  # no pg_cron in this cluster


@pytest.mark.parametrize(
    "damage",
    [
        'drop policy "Users can view automations in their account" on public.automations',
        "drop trigger trigger_lead_automations on public.leads",
        "drop trigger trigger_update_automation_stats on public.automation_executions",
        "drop index public.idx_automations_event_match",
        "alter function public.has_account_access(uuid) reset search_path",
    ],
)
def test_verify_catches_a_hand_removed_guarantee(migrated_url: str, damage: str) -> None:
    _sql(migrated_url, damage)

    code, checks = _verify(migrated_url)

    assert code == 1
    assert [k for k, v in checks.items() if v == "fail"]


def test_rollback_of_the_module_leaves_nothing_and_applies_again(migrated_url: str) -> None:
    objects = """
        select 'table ' || relname from pg_class
         where relnamespace = 'public'::regnamespace
           and relname in ('agents', 'leads', 'conversations', 'account_members', 'automations',
                           'automation_executions')
        union all
        select 'function ' || proname from pg_proc
         where pronamespace = 'public'::regnamespace
           and proname in ('has_account_access', 'accessible_account_ids', 'notify_automation_trigger',
                           'fire_lead_automations',
                           'fire_conversation_automations', 'update_automation_stats', 'cleanup_old_executions')
        union all
        select 'index ' || relname from pg_class
         where relnamespace = 'public'::regnamespace and relname like 'idx\\_%%'
           and relname similar to 'idx_(agents|leads|conversations|account_members|automations|executions)%%'
        order by 1
    """
    before = _sql(migrated_url, objects)
    assert len(before) > 12

    result = run_dbkit("rollback", "--module", MODULE, "--all", url=migrated_url)

    assert result.exit_code == 0, result.output
    assert _sql(migrated_url, objects) == []
    again = run_dbkit("apply", "--module", MODULE, url=migrated_url)
    assert again.exit_code == 0, again.output
    assert _sql(migrated_url, objects) == before


EXISTING_APP_TABLES = f"""
insert into auth.users (id) values ('{OWNER}');
create table public.agents (id uuid primary key default gen_random_uuid(), user_id uuid not null,
                            name text not null, model text default 'gpt');
create table public.leads (id uuid primary key default gen_random_uuid(), user_id uuid not null,
                           agent_id uuid references public.agents (id), name text, score integer default 0);
create table public.conversations (id uuid primary key default gen_random_uuid(),
                                   agent_id uuid references public.agents (id), lead_id uuid, channel text);
insert into public.agents (id, user_id, name) values ('{OWNER_AGENT}', '{OWNER}', 'their agent');
insert into public.leads (user_id, agent_id, name, score) values ('{OWNER}', '{OWNER_AGENT}', 'kept lead', 7);
"""


def test_existing_app_baselines_its_tables_and_gets_automations_on_top(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", "platform", url=empty_url).exit_code == 0
    _sql(empty_url, EXISTING_APP_TABLES)
    baselined = run_dbkit("baseline", "--module", MODULE, "--through", "0001_automations_base_tables", url=empty_url)
    assert baselined.exit_code == 0, baselined.output

    applied = run_dbkit("apply", "--module", MODULE, url=empty_url)

    assert applied.exit_code == 0, applied.output
    assert _sql(empty_url, "select l.name, l.score, a.model from public.leads as l join public.agents as a on a.id = l.agent_id") == [
        ("kept lead", 7, "gpt")]
    on_any = _automation(empty_url, "on any")
    seen = _observe(empty_url, lambda: _sql(
        empty_url, "insert into public.leads (user_id, name) values (%s, 'new lead')", (OWNER,)))
    assert _ids(seen) == [on_any]
    assert seen[0]["payload"]["trigger_data"]["new"]["score"] == 0
    assert _as(empty_url, "authenticated", OWNER, "select name from public.leads order by name") == [
        ("kept lead",), ("new lead",)]

    rolled = run_dbkit("rollback", "--module", MODULE, "--to", "0001_automations_base_tables", "--force", url=empty_url)

    assert rolled.exit_code == 0, rolled.output
    assert _sql(empty_url, "select name from public.leads order by name") == [("kept lead",), ("new lead",)]
    assert _sql(empty_url, "select count(*) from pg_policies where tablename in ('agents', 'leads', 'conversations')") == [(0,)]
