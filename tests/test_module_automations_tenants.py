"""Tenant isolation around RLS in module automations (issue 13): ownership that cannot move,
references that stay in the account, what account_members.role allows, revoke-before-grant
(on plain PostgreSQL and with Supabase's default privileges), SECURITY INVOKER account helpers,
and the automation_trigger channel's cap and reference-only payload.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from dbkit.identity import Identity, act_as
from supabase_privileges import NO_ROWS, ROWS, attack_url, attempt, prepared_templates, privileges_beyond_rls
from supabase_privileges import updatable_columns
from test_module_automations import ACCOUNTS, CHANNEL, MEMBER, OWNER, OWNER_AGENT, STRANGER, STRANGER_AGENT
from test_module_automations import _automation, _observe, _sql

__all__ = ["attack_url", "prepared_templates"]  # fixtures used below

ADMIN = "00000000-0000-4000-8000-0000000000a4"
OWNER_LEAD = "b0000000-0000-4000-8000-000000000001"
STRANGER_LEAD = "b0000000-0000-4000-8000-000000000002"
OWNER_CONVERSATION = "c0000000-0000-4000-8000-000000000001"
OWNER_AUTOMATION = "a1000000-0000-4000-8000-000000000001"
UNKNOWN = "0fffffff-0000-4000-8000-00000000ffff"
TABLES = ["public.account_members", "public.agents", "public.leads", "public.conversations",
          "public.automations", "public.automation_executions"]
TRIGGER_FUNCTIONS = ["public.fire_lead_automations()", "public.fire_conversation_automations()",
                     "public.update_automation_stats()",
                     "public.notify_automation_trigger(uuid, text, text, text, jsonb, jsonb, text[])"]

SEED = ACCOUNTS + f"""
insert into auth.users (id) values ('{ADMIN}');
insert into public.account_members (account_id, user_id, role) values ('{OWNER}', '{ADMIN}', 'admin');
insert into public.leads (id, user_id, agent_id, name) values
  ('{OWNER_LEAD}', '{OWNER}', '{OWNER_AGENT}', 'owner lead'), ('{STRANGER_LEAD}', '{STRANGER}', '{STRANGER_AGENT}', 'b lead');
insert into public.conversations (id, agent_id, lead_id) values ('{OWNER_CONVERSATION}', '{OWNER_AGENT}', '{OWNER_LEAD}');
insert into public.automations (id, agent_id, user_id, name, trigger_type)
  values ('{OWNER_AUTOMATION}', '{OWNER_AGENT}', '{OWNER}', 'flow', 'manual');
"""


def _seed(url: str) -> str:
    _sql(url, SEED)
    return url


# ------------------------------------------------------------------ privileges around RLS


def test_api_roles_hold_no_truncate_trigger_or_references_on_automation_tables(attack_url: str) -> None:
    assert privileges_beyond_rls(attack_url, TABLES) == []


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize("table", TABLES)
def test_api_role_cannot_truncate_every_accounts_rows(attack_url: str, table: str, role: str) -> None:
    _seed(attack_url)
    assert attempt(attack_url, f"truncate {table} cascade", role=role, sub=MEMBER) == "42501"


def test_member_cannot_attach_a_trigger_that_breaks_other_accounts_inserts(attack_url: str) -> None:
    statement = ("create trigger hijack before insert on public.leads for each row"
                 " execute function public.update_updated_at_column()")
    assert attempt(attack_url, statement, role="authenticated", sub=MEMBER) == "42501"


@pytest.mark.parametrize(("table", "allowed"), [
    ("public.account_members", {"role"}),
    ("public.agents", {"name"}),
    ("public.leads", {"agent_id", "name", "email", "phone", "status", "metadata"}),
    ("public.conversations", {"lead_id", "status", "metadata"}),
    ("public.automations", {"agent_id", "name", "description", "icon", "color", "status", "enabled", "trigger_type",
                            "trigger_config", "nodes", "edges", "viewport"}),
    ("public.automation_executions", set()),
])
def test_users_update_only_the_intended_columns(attack_url: str, table: str, allowed: set[str]) -> None:
    assert updatable_columns(attack_url, table, "authenticated") == allowed
    assert updatable_columns(attack_url, table, "anon") == set()


@pytest.mark.parametrize("function", TRIGGER_FUNCTIONS)
def test_no_api_role_nor_service_role_may_execute_trigger_functions(attack_url: str, function: str) -> None:
    with psycopg.connect(attack_url, autocommit=True) as conn:
        for role in ("anon", "authenticated", "service_role"):
            assert conn.execute("select has_function_privilege(%s, %s, 'EXECUTE')", (role, function)).fetchone() == (
                False,), role


# ------------------------------------------------------------------ move to another owner


@pytest.mark.parametrize("statement", [
    f"update public.leads set user_id = '{MEMBER}' where id = '{OWNER_LEAD}'",
    f"update public.agents set user_id = '{MEMBER}' where id = '{OWNER_AGENT}'",
    f"update public.automations set user_id = '{MEMBER}' where id = '{OWNER_AUTOMATION}'",
    f"update public.conversations set agent_id = '{STRANGER_AGENT}' where id = '{OWNER_CONVERSATION}'",
    f"update public.account_members set account_id = '{MEMBER}' where user_id = '{ADMIN}'",
    f"update public.automations set execution_count = 0, last_execution_status = 'completed' where id = '{OWNER_AUTOMATION}'",
], ids=["lead", "agent", "automation", "conversation", "membership", "stats"])
def test_member_cannot_move_account_rows_or_write_bookkeeping(attack_url: str, statement: str) -> None:
    _seed(attack_url)
    assert attempt(attack_url, statement, role="authenticated", sub=MEMBER) == "42501"


def test_member_removed_from_an_account_keeps_nothing_of_it(migrated_url: str) -> None:
    """The scenario of issue 13 item 1: a member's work stays with the account after they leave."""
    _seed(migrated_url)
    with psycopg.connect(migrated_url) as conn:
        act_as(conn.cursor(), Identity("authenticated", MEMBER))
        conn.execute(f"insert into public.leads (user_id, agent_id, name) values ('{OWNER}', '{OWNER_AGENT}', 'by member')")
    assert attempt(migrated_url, f"update public.leads set user_id = '{MEMBER}' where name = 'by member'",
                   role="authenticated", sub=MEMBER) == "42501"
    _sql(migrated_url, f"delete from public.account_members where user_id = '{MEMBER}'")

    assert attempt(migrated_url, "select 1 from public.leads", role="authenticated", sub=MEMBER) == NO_ROWS
    assert _sql(migrated_url, "select user_id::text from public.leads where name = 'by member'") == [(OWNER,)]


# ------------------------------------------------------- reference another tenant's row


@pytest.mark.parametrize("agent", [STRANGER_AGENT, UNKNOWN], ids=["b-agent", "unknown-id"])
@pytest.mark.parametrize("statement", [
    "insert into public.leads (user_id, agent_id, name) values ('{owner}', '{agent}', 'x')",
    "update public.leads set agent_id = '{agent}' where id = '" + OWNER_LEAD + "'",
    "insert into public.automations (agent_id, user_id, name, trigger_type) values ('{agent}', '{owner}', 'x', 'manual')",
    "update public.automations set agent_id = '{agent}' where id = '" + OWNER_AUTOMATION + "'",
], ids=["lead-insert", "lead-update", "automation-insert", "automation-update"])
def test_row_cannot_reference_another_accounts_agent(attack_url: str, statement: str, agent: str) -> None:
    """Another account's agent and an id that exists nowhere are refused alike: no existence oracle."""
    _seed(attack_url)
    sql_text = statement.format(owner=OWNER, agent=agent)
    assert attempt(attack_url, sql_text, role="authenticated", sub=OWNER) == "42501"


@pytest.mark.parametrize("lead", [STRANGER_LEAD, UNKNOWN], ids=["b-lead", "unknown-id"])
def test_conversation_cannot_reference_another_accounts_lead(attack_url: str, lead: str) -> None:
    _seed(attack_url)
    assert attempt(attack_url, f"insert into public.conversations (agent_id, lead_id) values ('{OWNER_AGENT}', '{lead}')",
                   role="authenticated", sub=OWNER) == "42501"
    assert attempt(attack_url, f"update public.conversations set lead_id = '{lead}' where id = '{OWNER_CONVERSATION}'",
                   role="authenticated", sub=OWNER) == "42501"


@pytest.mark.parametrize("statement", [
    f"insert into public.leads (user_id, agent_id, name) values ('{OWNER}', '{STRANGER_AGENT}', 'x')",
    f"insert into public.automations (agent_id, user_id, name, trigger_type) values ('{STRANGER_AGENT}', '{OWNER}', 'x', 'manual')",
], ids=["lead", "automation"])
def test_even_service_role_keeps_references_in_the_account(attack_url: str, statement: str) -> None:
    _seed(attack_url)
    assert attempt(attack_url, statement, role="service_role") == "23503"


def test_deleting_an_agent_still_clears_its_leads_agent(migrated_url: str) -> None:
    """The deferred same-account key does not break leads.agent_id ON DELETE SET NULL."""
    _seed(migrated_url)
    _sql(migrated_url, f"delete from public.agents where id = '{OWNER_AGENT}'")
    assert _sql(migrated_url, f"select agent_id from public.leads where id = '{OWNER_LEAD}'") == [(None,)]


# ------------------------------------------------------------- account_members.role


@pytest.mark.parametrize(("who", "statement", "outcome"), [
    ("member", "insert into public.agents (user_id, name) values ('{owner}', 'new')", "42501"),
    ("member", "update public.agents set name = 'renamed' where id = '{agent}'", NO_ROWS),
    ("member", "delete from public.agents where id = '{agent}'", NO_ROWS),
    ("admin", "insert into public.agents (user_id, name) values ('{owner}', 'new')", ROWS),
    ("admin", "update public.agents set name = 'renamed' where id = '{agent}'", ROWS),
    ("admin", "delete from public.agents where id = '{agent}'", ROWS),
    ("member", "insert into public.leads (user_id, name) values ('{owner}', 'new')", ROWS),
    ("member", "update public.automations set enabled = true where user_id = '{owner}'", ROWS),
    ("member", "insert into public.account_members (account_id, user_id) values ('{owner}', '{stranger}')", "42501"),
    ("admin", "insert into public.account_members (account_id, user_id) values ('{owner}', '{stranger}')", "42501"),
    ("member", "update public.account_members set role = 'admin' where user_id = '{member}'", NO_ROWS),
    ("admin", "update public.account_members set role = 'member' where user_id = '{admin}'", NO_ROWS),
    ("owner", "update public.account_members set role = 'admin' where user_id = '{member}'", ROWS),
    ("owner", "insert into public.account_members (account_id, user_id) values ('{owner}', '{stranger}')", ROWS),
    ("member", "delete from public.account_members where user_id = '{member}'", ROWS),
    ("admin", "delete from public.account_members where user_id = '{member}'", NO_ROWS),
], ids=lambda v: v if v in ("member", "admin", "owner") else None)
def test_account_role_decides_who_manages_agents_and_members(migrated_url: str, who: str, statement: str,
                                                            outcome: str) -> None:
    _seed(migrated_url)
    sub = {"member": MEMBER, "admin": ADMIN, "owner": OWNER}[who]
    text = statement.format(owner=OWNER, agent=OWNER_AGENT, stranger=STRANGER, member=MEMBER, admin=ADMIN)
    assert attempt(migrated_url, text, role="authenticated", sub=sub) == outcome


# ------------------------------------------------------------ SECURITY INVOKER helpers


def test_account_helpers_run_with_the_callers_rights_and_answer_for_the_caller_only(migrated_url: str) -> None:
    _seed(migrated_url)
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        definer = conn.execute("select proname, prosecdef from pg_proc where proname in"
                               " ('accessible_account_ids', 'has_account_access') order by 1").fetchall()
    assert definer == [("accessible_account_ids", False), ("has_account_access", False)]
    assert attempt(migrated_url, f"select 1 where public.has_account_access('{OWNER}')",
                   role="authenticated", sub=MEMBER) == ROWS
    assert attempt(migrated_url, f"select 1 where public.has_account_access('{STRANGER}')",
                   role="authenticated", sub=MEMBER) == NO_ROWS
    assert attempt(migrated_url, f"select 1 from public.accessible_account_ids() as a where a = '{STRANGER}'",
                   role="authenticated", sub=MEMBER) == NO_ROWS
    assert attempt(migrated_url, "select public.accessible_account_ids()", role="anon") == "42501"


# --------------------------------------------------------- the automation_trigger channel


def _set(url: str, setting: str, value: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        dbname = conn.info.dbname
        conn.execute(f'alter database "{dbname}" set {setting} = {psycopg.sql.quote(value)}')


def test_fan_out_stops_at_the_cap_and_the_rest_is_summarised_on_the_overflow_channel(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    first, second = _automation(migrated_url, "one"), _automation(migrated_url, "two")
    _automation(migrated_url, "three")
    _set(migrated_url, "automations.trigger_max_per_row", "2")

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url, "insert into public.leads (user_id, name) values (%s, 'capped')", (OWNER,)))
    overflow = _observe_channel(migrated_url, "automation_trigger_overflow", lambda: _sql(
        migrated_url, "insert into public.leads (id, user_id, name) values (%s, %s, 'capped 2')", (UNKNOWN, OWNER)))

    assert sorted(n["payload"]["automation_id"] for n in seen) == sorted([first, second])
    assert [n["payload"]["matched"] for n in overflow] == [3]
    summary = overflow[0]["payload"]
    assert summary["sent"] == 2 and summary["account_id"] == OWNER and summary["table"] == "leads"
    assert summary["new"] == {"id": UNKNOWN, "user_id": OWNER, "agent_id": None}


def test_reference_payload_carries_ids_table_and_event_only(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    on_any = _automation(migrated_url, "on any")
    _set(migrated_url, "automations.trigger_payload", "reference")

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url, "insert into public.leads (id, user_id, agent_id, name, email) values (%s, %s, %s, 'Ada', 'ada@x')",
        (UNKNOWN, OWNER, OWNER_AGENT)))

    assert [n["payload"]["automation_id"] for n in seen] == [on_any]
    data = seen[0]["payload"]["trigger_data"]
    assert data["new"] == {"id": UNKNOWN, "user_id": OWNER, "agent_id": OWNER_AGENT}
    assert data["reference"] is True and data["truncated"] is True
    assert data["event"] == "INSERT" and data["table"] == "leads" and data["old"] is None
    assert "Ada" not in json.dumps(seen[0]["payload"]) and "ada@x" not in json.dumps(seen[0]["payload"])


def test_unknown_payload_setting_falls_back_to_references_not_rows(migrated_url: str) -> None:
    _sql(migrated_url, ACCOUNTS)
    _automation(migrated_url, "on any")
    _set(migrated_url, "automations.trigger_payload", "refrence")

    seen = _observe(migrated_url, lambda: _sql(
        migrated_url, "insert into public.leads (user_id, name) values (%s, 'Secret name')", (OWNER,)))

    assert seen and all(n["payload"]["trigger_data"]["reference"] is True for n in seen)
    assert "Secret name" not in json.dumps([n["payload"] for n in seen])


def _observe_channel(url: str, channel: str, write: Any) -> list[dict[str, Any]]:
    from dbkit.config import DatabaseTarget
    from dbkit.listen import notifications

    def write_then_sentinel() -> None:
        write()
        _sql(url, "select pg_notify(%s, 'sentinel')", (channel,))

    seen: list[dict[str, Any]] = []
    for notification in notifications(DatabaseTarget.parse(url), channel, timeout=60.0, on_listening=write_then_sentinel):
        if notification["payload"] == "sentinel":
            return seen
        seen.append(notification)
    pytest.fail(f"the sentinel never arrived on {channel}; saw {seen}")


assert CHANNEL == "automation_trigger"
