-- 0001_wealth_prerequisites: minimal public.users, public.clients, public.products and
-- public.goals, the tables the automation tables reference.
-- Source: seed 000 "Troubleshooting / Foreign key constraint fails" (clients, products for
-- schemes, goals, users must exist). The guide never defines them; these are the smallest
-- honest definitions the module needs. A database that already has them (the existing app)
-- marks this migration as applied instead of running it, with
--   dbkit baseline --module wealth_automation --through 0001_wealth_prerequisites
-- RLS and the policies of these four tables are inline here, not in sql/policies/: on a
-- baselined database the tables belong to the application, and dbkit must not switch on RLS or
-- add policies there (a repeatable policy file would be re-applied after a baseline).
-- The automation tables' policies need public.clients(id uuid, user_id uuid = auth.uid()).
-- Depends on: platform (auth.users, roles, public.update_updated_at_column()).
-- depends: 0001_platform_auth_shim

-- public.users: the application's user profile, one row per auth.users row (same id).
create table public.users (
    id uuid primary key references auth.users (id) on delete cascade,
    email text,
    full_name text,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now()
);
comment on table public.users is 'Application user profile; id is the auth.users id (auth.uid()). Seed 000 prerequisite.';
comment on column public.users.id is 'Same value as auth.users.id, so policies compare it with auth.uid().';
revoke all on table public.users from anon, authenticated;
grant select on table public.users to authenticated;
grant select, insert, update, delete on table public.users to service_role;
create trigger update_users_updated_at
before update on public.users
for each row execute function public.update_updated_at_column();
-- RLS: see the header; service_role (BYPASSRLS) does the writes.
alter table public.users enable row level security;
create policy users_select_own on public.users
for select to authenticated
using (id = (select auth.uid()));
comment on policy users_select_own on public.users is 'A user reads only their own profile.';

-- public.clients: an investor; user_id is the login that may see the client's automation.
create table public.clients (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references public.users (id) on delete set null,
    full_name text not null check (char_length(full_name) between 1 and 200),
    email text,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now()
);
comment on table public.clients is 'Investor (client) record. Seed 000 prerequisite; referenced by every automation table.';
comment on column public.clients.user_id is 'Login that owns this client (public.users.id = auth.uid()); null while the client has no login.';
revoke all on table public.clients from anon, authenticated;
grant select on table public.clients to authenticated;
grant select, insert, update, delete on table public.clients to service_role;
create index idx_clients_user_id on public.clients using btree (user_id);
create trigger update_clients_updated_at
before update on public.clients
for each row execute function public.update_updated_at_column();
-- RLS: see the header; service_role (BYPASSRLS) does the writes.
alter table public.clients enable row level security;
create policy clients_select_own on public.clients
for select to authenticated
using (user_id = (select auth.uid()));
comment on policy clients_select_own on public.clients is 'A user reads only the clients linked to their login.';

-- public.products: investable products; mutual fund schemes are referenced as scheme_id.
create table public.products (
    id uuid primary key default gen_random_uuid(),
    scheme_code text not null unique,
    name text not null check (char_length(name) between 1 and 300),
    category text,
    is_active boolean not null default true,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now()
);
comment on table public.products is 'Investable products (mutual fund schemes). Seed 000 prerequisite ("products table must exist (for schemes)").';
revoke all on table public.products from anon, authenticated;
grant select on table public.products to authenticated;
grant select, insert, update, delete on table public.products to service_role;
create trigger update_products_updated_at
before update on public.products
for each row execute function public.update_updated_at_column();
-- RLS: see the header; service_role (BYPASSRLS) does the writes.
alter table public.products enable row level security;
create policy products_select_authenticated on public.products
for select to authenticated
using (true);
comment on policy products_select_authenticated on public.products is 'Signed-in users read the product (scheme) catalog.';

-- public.goals: a client's financial goal; auto-invest rules may be linked to one.
create table public.goals (
    id uuid primary key default gen_random_uuid(),
    client_id uuid not null references public.clients (id) on delete cascade,
    name text not null check (char_length(name) between 1 and 200),
    target_amount numeric(18, 2) not null check (target_amount > 0),
    current_amount numeric(18, 2) not null default 0 check (current_amount >= 0),
    target_date date,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now()
);
comment on table public.goals is 'Client financial goals. Seed 000 prerequisite ("goals table must exist (optional, for goal-linked rules)").';
revoke all on table public.goals from anon, authenticated;
grant select on table public.goals to authenticated;
grant select, insert, update, delete on table public.goals to service_role;
create index idx_goals_client_id on public.goals using btree (client_id);
create trigger update_goals_updated_at
before update on public.goals
for each row execute function public.update_updated_at_column();
-- RLS: see the header; service_role (BYPASSRLS) does the writes.
alter table public.goals enable row level security;
create policy goals_select_own on public.goals
for select to authenticated
using (
    client_id in (
        select c.id from public.clients as c
        where c.user_id = (select auth.uid())
    )
);
comment on policy goals_select_own on public.goals is 'A user reads only the goals of their own clients.';
