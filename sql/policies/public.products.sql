-- public.products: RLS switch-on and policies (module wealth_automation, seed 000 prerequisite).
-- The scheme catalog is readable by every signed-in user; anon sees nothing; writes are
-- service_role only.
-- Included by: migrations/wealth_automation/0001_wealth_prerequisites.sql
alter table public.products enable row level security;

drop policy if exists products_select_authenticated on public.products;
create policy products_select_authenticated on public.products
for select to authenticated
using (true);
comment on policy products_select_authenticated on public.products is 'Signed-in users read the product (scheme) catalog.';
