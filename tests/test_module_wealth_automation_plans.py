"""Access paths of the scheduler functions (seed 001), read from the functions' own plans.

auto_explain (nested statements, JSON, ANALYZE without timing) reports the plan of the query
inside public.claim_due_auto_invest_rules() and public.evaluate_trigger_orders() on seeded
rows in the test's own database. The claim must read its due-rules index in claim order
(no Sort node, no more index rows than it claims); the trigger-order evaluation must read
only the orders an observation triggers, never scan the whole table. Row counts, never
durations. The calls repeat so that PL/pgSQL's generic plan (from the sixth call on) is
checked as well as the custom ones.
"""

from __future__ import annotations

import json
from typing import Any

from dbkit.plans import nodes
from helpers import captured_plans, plan_documents
from test_module_wealth_automation import CLIENT_A, CLIENT_B, SCHEME_1, SCHEME_2, connect, seed_people

CALLS = 7  # PL/pgSQL plans the first five calls with the values, then may switch to a generic plan


def plans_of(messages: list[str], marker: str) -> list[dict[str, Any]]:
    """The top plan nodes of the statements whose text contains ``marker`` (``captured_plans``)."""
    found = [p["Plan"] for p in plan_documents(messages) if marker in p["Query Text"]]
    assert found, f"no plan captured for a statement containing {marker!r}"
    return found


def rows_read(plan: dict[str, Any], index: str) -> int:
    """Index rows returned by every scan of ``index`` in the plan (per-loop rows x loops)."""
    return sum(round(n["Actual Rows"] * n["Actual Loops"]) for n in nodes(plan) if n.get("Index Name") == index)


def test_claim_reads_due_rules_in_claim_order_without_sorting(migrated_url: str) -> None:
    batch = 10
    with connect(migrated_url) as conn:
        seed_people(conn)
        # 3,000 active rules due on the same oldest day (the case a date-only index must
        # sort), a later due day, paused rules and rules not yet due.
        conn.execute(
            "insert into public.auto_invest_rules (client_id, scheme_id, amount, frequency, start_date,"
            " next_execution_date, status)"
            " select case when g %% 2 = 0 then %s::uuid else %s::uuid end, %s, 1000, 'Monthly',"
            " date '2025-01-01', date '2025-01-01' + case when g %% 10 = 0 then 7 when g %% 10 = 1 then 60 else 0 end,"
            " case when g %% 10 = 2 then 'Paused' else 'Active' end"
            " from generate_series(1, 3750) as g",
            (CLIENT_A, CLIENT_B, SCHEME_1),
        )
        conn.execute("analyze public.auto_invest_rules")
        with captured_plans(conn, analyze=True) as plans:
            for _ in range(CALLS):
                claimed = conn.execute(
                    "select count(*) from public.claim_due_auto_invest_rules('2025-01-31 09:00+00', %s, 'plan')",
                    (batch,),
                ).fetchone()
                assert claimed == (batch,)
        claim_plans = plans_of(plans, "from public.auto_invest_rules as r")
    assert len(claim_plans) == CALLS
    for plan in claim_plans:
        kinds = [n["Node Type"] for n in nodes(plan)]
        assert not [k for k in kinds if "Sort" in k], kinds
        assert rows_read(plan, "idx_auto_invest_rules_due") == batch, kinds


def test_trigger_evaluation_reads_only_the_orders_it_triggers(migrated_url: str) -> None:
    with connect(migrated_url) as conn:
        seed_people(conn)
        # 4,000 active orders of every type and condition whose thresholds the observed values
        # never reach ...
        conn.execute(
            "insert into public.trigger_orders (client_id, scheme_id, trigger_type, trigger_condition,"
            " trigger_value, order_type, amount)"
            " select case when g %% 2 = 0 then %s::uuid else %s::uuid end,"
            " case when g %% 5 < 2 then %s::uuid else %s::uuid end,"
            " case when g %% 3 = 0 then 'Portfolio Value' when g %% 3 = 1 then 'NAV' else 'Price' end,"
            " (array['Greater Than', 'Greater Than Or Equal', 'Less Than', 'Less Than Or Equal'])[g %% 4 + 1],"
            " case when g %% 4 < 2 then 1000000 + g else 1 end, 'Purchase', 1000"
            " from generate_series(1, 4000) as g",
            (CLIENT_A, CLIENT_B, SCHEME_1, SCHEME_2),
        )
        # ... and, per watched subject, a ladder of orders: the n-th observation of that
        # subject crosses the n-th threshold (a falling NAV, a rising Price, a falling
        # Portfolio Value), so each call triggers exactly one order no earlier call did.
        conn.execute(
            "insert into public.trigger_orders (client_id, scheme_id, trigger_type, trigger_condition,"
            " trigger_value, order_type, amount)"
            " select %s, t.scheme_id, t.kind, t.cond, t.value, 'Purchase', 1000"
            " from generate_series(1, %s) as n cross join lateral (values"
            "   (%s::uuid, 'NAV', 'Less Than', 100 - n + 0.5),"
            "   (%s::uuid, 'Price', 'Greater Than Or Equal', 5000 + n),"
            "   (%s::uuid, 'Portfolio Value', 'Less Than Or Equal', 500000 - n)) as t (scheme_id, kind, cond, value)",
            (CLIENT_B, CALLS, SCHEME_1, SCHEME_2, SCHEME_1),
        )
        conn.execute("analyze public.trigger_orders")
        ladder = [
            lambda n: {"trigger_type": "NAV", "scheme_id": SCHEME_1, "value": 100 - n},
            lambda n: {"trigger_type": "Price", "scheme_id": SCHEME_2, "value": 5000 + n},
            lambda n: {"trigger_type": "Portfolio Value", "client_id": CLIENT_B, "value": 500000 - n},
        ]
        triggered: list[int] = []
        with captured_plans(conn, analyze=True) as plans:
            # One observation per call: each index scan then runs once, so its row count is
            # exact (EXPLAIN reports rows per loop, rounded).
            for call in range(CALLS):
                observation = ladder[call % 3](call // 3 + 1)
                row = conn.execute(
                    "select count(*) from public.evaluate_trigger_orders(%s::jsonb, '2025-03-03 10:00+00', 1000, 'plan')",
                    (json.dumps([observation]),),
                ).fetchone()
                assert row is not None
                triggered.append(row[0])
        eval_plans = plans_of(plans, "from public.trigger_orders as t")
    assert triggered == [1] * CALLS
    assert len(eval_plans) == CALLS
    for plan in eval_plans:
        scans = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes(plan)]
        assert not [s for s in scans if s[0] == "Seq Scan"], scans
        assert rows_read(plan, "idx_trigger_orders_active") == 1, json.dumps(plan, indent=1)
