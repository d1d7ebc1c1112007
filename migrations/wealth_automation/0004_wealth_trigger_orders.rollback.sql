-- Rollback of 0004_wealth_trigger_orders: drops the policy, the trigger and the table (with
-- its indexes and constraints). No CASCADE.
drop policy if exists trigger_orders_select_own on public.trigger_orders;
drop trigger update_trigger_orders_updated_at on public.trigger_orders;
drop table public.trigger_orders;
