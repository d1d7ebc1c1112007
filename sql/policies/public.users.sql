-- public.users: RLS switch-on and policies (module wealth_automation, seed 000 prerequisite).
-- A signed-in user reads only their own profile row; writes are service_role only
-- (service_role bypasses RLS). Filters on the primary key (users_pkey).
-- Included by: migrations/wealth_automation/0001_wealth_prerequisites.sql
alter table public.users enable row level security;

drop policy if exists users_select_own on public.users;
create policy users_select_own on public.users
for select to authenticated
using (id = (select auth.uid()));
comment on policy users_select_own on public.users is 'A user reads only their own profile.';
