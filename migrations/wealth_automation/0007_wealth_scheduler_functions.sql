-- 0007_wealth_scheduler_functions: the scheduler's database side, so any number of workers
-- can run it safely: claim due auto-invest rules, evaluate trigger orders against observed
-- values, record rebalancing drift. All SECURITY INVOKER, executable by service_role only.
-- Source: seed 001 "Scheduler Integration" (processes auto-invest rules, rebalancing rules,
-- trigger orders; error handling and logging).
-- Depends on: 0002-0006 (the tables these functions read and write).

-- include: sql/functions/public.claim_due_auto_invest_rules.sql
-- include: sql/functions/public.evaluate_trigger_orders.sql
-- include: sql/functions/public.record_rebalancing_drift.sql
