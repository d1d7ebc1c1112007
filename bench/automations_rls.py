"""Benchmark: cost of the automations and automation_executions SELECT policies by form.

    module   the policy as the module installs it, read from pg_policy at start (so it
             cannot drift from the module; at commit 6552b13:
             user_id = any (array(select accessible_account_ids())), an InitPlan once per
             statement)
    bare     has_account_access(user_id): evaluated per row (the previous module form)
    wrapped  (select has_account_access(user_id)): a correlated SubPlan, still per row
    set      user_id in (<uid> + memberships sub-select): the membership table inlined

and for automation_executions the installed form against the document's uncorrelated form
and the previous module's EXISTS (each with the automations SELECT policy in the matching
form, since it applies inside):

    module   as installed (at 6552b13: exists (... a.user_id = any (array(select accessible_account_ids()))))
    doc_in   automation_id in (select id from automations where has_account_access(user_id))   (document)
    exists   exists (... a.id = automation_id and has_account_access(a.user_id))               (previous module)

Usage:  python bench/automations_rls.py --database-url postgresql://postgres@127.0.0.1:5432/db
The database must have the automations module applied. Everything (seed rows, the swapped
policy) happens in one transaction that is rolled back, so it is safe to run anywhere you
may write. Prints execution time (median of --repeat EXPLAIN ANALYZE runs) per form and query.
"""

from __future__ import annotations

import argparse
import re
import statistics
from typing import Any

import psycopg

POLICY = '"Users can view automations in their account"'
# "module" is filled in from pg_policy by main(), before any policy is swapped.
FORMS = {
    "module": "",
    "bare": "public.has_account_access(user_id)",
    "wrapped": "(select public.has_account_access(user_id))",
    "set": ("user_id = (select auth.uid()) or user_id in "
            "(select m.account_id from public.account_members as m where m.user_id = (select auth.uid()))"),
}
EXEC_POLICY = '"Users can view executions for their automations"'
# form name -> (executions policy, automations SELECT policy form in force while it runs)
EXEC_FORMS = {
    "module": ("", "module"),
    "doc_in": ("automation_id in (select id from public.automations "
               "where public.has_account_access(user_id))", "bare"),
    "exists": ("exists (select 1 from public.automations as a "
               "where a.id = automation_executions.automation_id and public.has_account_access(a.user_id))", "bare"),
}
EXEC_QUERIES = {
    "executions_of_one": ("select id, status from public.automation_executions where automation_id = "
                          "(select id from public.automations where user_id = '{owner}' order by id limit 1) "
                          "order by started_at desc limit 50"),
    "executions_all": "select id, status from public.automation_executions",
}
OWNER = "00000000-0000-0000-0000-0000000000a1"
MEMBER = "00000000-0000-0000-0000-0000000000a2"

SEED = """
insert into auth.users (id) select ('00000000-0000-0000-0000-' || lpad(to_hex(g), 12, '0'))::uuid
  from generate_series(1, %(accounts)s) g on conflict do nothing;
insert into auth.users (id) values (%(owner)s), (%(member)s) on conflict do nothing;
insert into public.account_members (account_id, user_id) values (%(owner)s, %(member)s);
insert into public.agents (id, user_id, name)
  select gen_random_uuid(), u.id, 'agent' from auth.users u;
insert into public.automations (agent_id, user_id, name, trigger_type)
  select ag.id, ag.user_id, 'a' || g, 'manual'
  from public.agents ag cross join generate_series(1, %(per_account)s) g;
insert into public.automation_executions (automation_id, trigger_type, status)
  select a.id, 'manual', 'completed' from public.automations a
  where a.user_id = %(owner)s or a.id in (select id from public.automations order by id limit 20000);
insert into public.automation_executions (automation_id, trigger_type, status)
  select a.id, 'manual', 'completed' from public.automations a, generate_series(1, 49)
  where a.id = (select id from public.automations where user_id = %(owner)s order by id limit 1);
analyze public.automation_executions;
analyze auth.users; analyze public.account_members; analyze public.agents; analyze public.automations;
"""

QUERIES = {
    "list_all_visible": "select id, name from public.automations",
    "list_by_agent": ("select id, name from public.automations where agent_id = "
                      "(select id from public.agents where user_id = '{owner}' limit 1)"),
}


POLICY_QUAL = """select pg_catalog.pg_get_expr(p.polqual, p.polrelid) from pg_catalog.pg_policy as p
where p.polname = %s and p.polrelid = %s::regclass"""


def _installed(cur: psycopg.Cursor[Any], policy: str, table: str) -> str:
    cur.execute(POLICY_QUAL, (policy.strip('"'), table))
    row = cur.fetchone()
    if row is None:
        raise SystemExit(f"policy {policy} on {table} is not installed")
    return str(row[0])


def _exec_ms(cur: psycopg.Cursor[Any], query: str) -> tuple[float, int]:
    cur.execute("explain (analyze, format text) " + query)
    lines = [row[0] for row in cur.fetchall()]
    ms = next(float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+) ms", line)))
    cur.execute(query)
    return ms, len(cur.fetchall())


def _report(cur: psycopg.Cursor[Any], form: str, name: str, template: str, repeat: int) -> None:
    """Run one query as the member (authenticated, RLS) and print its median server time."""
    cur.execute("savepoint q")
    cur.execute("set local role authenticated")
    cur.execute("select set_config('request.jwt.claims', %s, true)",
                (f'{{"sub": "{MEMBER}", "role": "authenticated"}}',))
    runs = [_exec_ms(cur, template.format(owner=OWNER)) for _ in range(repeat)]
    cur.execute("rollback to savepoint q")
    print(f"{form:8} {name:18} {runs[0][1]:>5} {statistics.median(r[0] for r in runs):>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--per-account", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with psycopg.connect(args.database_url) as conn, conn.cursor() as cur:
        FORMS["module"] = _installed(cur, POLICY, "public.automations")
        EXEC_FORMS["module"] = (_installed(cur, EXEC_POLICY, "public.automation_executions"), "module")
        params = {"accounts": args.accounts, "per_account": args.per_account, "owner": OWNER, "member": MEMBER}
        for statement in filter(str.strip, SEED.split(";")):
            cur.execute(statement, params)
        cur.execute("select count(*) from public.automations")
        total = cur.fetchone()[0]  # type: ignore[index]
        print(f"automations: {total} rows, {args.accounts + 2} accounts; user = member of one account")
        print(f"{'form':8} {'query':18} {'rows':>5} {'median ms':>10}")
        for form, expr in FORMS.items():
            cur.execute(f"alter policy {POLICY} on public.automations using ({expr})")
            for name, template in QUERIES.items():
                _report(cur, form, name, template, args.repeat)
        for form, (expr, automations_form) in EXEC_FORMS.items():
            cur.execute(f"alter policy {POLICY} on public.automations using ({FORMS[automations_form]})")
            cur.execute(f"alter policy {EXEC_POLICY} on public.automation_executions using ({expr})")
            for name, template in EXEC_QUERIES.items():
                _report(cur, form, name, template, args.repeat)
        conn.rollback()


if __name__ == "__main__":
    main()
