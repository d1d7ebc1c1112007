-- Rollback of 0001_wealth_prerequisites: drops public.goals, public.products,
-- public.clients and public.users (with their policies, triggers and indexes), in reverse
-- dependency order. Never run this on a database where the migration was baselined: these
-- are then the application's own tables (dbkit refuses to drop tables holding rows unless --force).
-- Source: seed 000 "Rollback" (reverse dependency order), without CASCADE.

drop policy goals_select_own on public.goals;
drop policy products_select_authenticated on public.products;
drop policy clients_select_own on public.clients;
drop policy users_select_own on public.users;

drop trigger update_goals_updated_at on public.goals;
drop table public.goals;

drop trigger update_products_updated_at on public.products;
drop table public.products;

drop trigger update_clients_updated_at on public.clients;
drop table public.clients;

drop trigger update_users_updated_at on public.users;
drop table public.users;
