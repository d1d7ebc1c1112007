-- public.clients: RLS switch-on and policies (module wealth_automation, seed 000 prerequisite).
-- A signed-in user reads the clients linked to their login (clients.user_id); writes are
-- service_role only. Uses idx_clients_user_id.
-- Included by: migrations/wealth_automation/0001_wealth_prerequisites.sql
alter table public.clients enable row level security;

drop policy if exists clients_select_own on public.clients;
create policy clients_select_own on public.clients
for select to authenticated
using (user_id = (select auth.uid()));
comment on policy clients_select_own on public.clients is 'A user reads only the clients linked to their login.';
