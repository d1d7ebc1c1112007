-- public.goals: RLS switch-on and policies (module wealth_automation, seed 000 prerequisite).
-- A signed-in user reads the goals of the clients linked to their login; writes are
-- service_role only. Uses idx_goals_client_id and idx_clients_user_id.
-- Included by: migrations/wealth_automation/0001_wealth_prerequisites.sql
alter table public.goals enable row level security;

drop policy if exists goals_select_own on public.goals;
create policy goals_select_own on public.goals
for select to authenticated
using (
    client_id in (
        select c.id from public.clients as c
        where c.user_id = (select auth.uid())
    )
);
comment on policy goals_select_own on public.goals is 'A user reads only the goals of their own clients.';
