-- public.trigger_orders: RLS switch-on and policies (seed 000; decision: clients see their own
-- orders through the users/clients link; placing or cancelling an order is service_role only).
-- Uses idx_trigger_orders_client_id and idx_clients_user_id.
-- Included by: migrations/wealth_automation/0004_wealth_trigger_orders.sql
alter table public.trigger_orders enable row level security;

drop policy if exists trigger_orders_select_own on public.trigger_orders;
create policy trigger_orders_select_own on public.trigger_orders
for select to authenticated
using (
    client_id in (
        select c.id from public.clients as c
        where c.user_id = (select auth.uid())
    )
);
comment on policy trigger_orders_select_own on public.trigger_orders is
'A user reads the trigger orders of the clients linked to their login.';
