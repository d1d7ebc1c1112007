-- Rollback of 0007_wealth_scheduler_functions: drops the three scheduler functions (full
-- signatures, reverse order). No CASCADE.
drop function public.record_rebalancing_drift(jsonb, timestamp with time zone, text);
drop function public.evaluate_trigger_orders(jsonb, timestamp with time zone, integer, text);
drop function public.claim_due_auto_invest_rules(timestamp with time zone, integer, text);
