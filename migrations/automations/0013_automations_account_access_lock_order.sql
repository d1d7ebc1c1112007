-- 0013_automations_account_access_lock_order: the safer form of
-- 0002_automations_account_access. Same end state (account_members, accessible_account_ids(),
-- has_account_access(), the account-scoped policies and grants on agents, leads and
-- conversations), but the ACCESS EXCLUSIVE locks that enabling RLS and creating policies take
-- are acquired together, children before parents. 0002 took agents first and then leads: an
-- application insert into leads (holding leads, then checking its agent) deadlocked with it
-- (the production rehearsal in `make test`, 100,000 rows: 40P01 on the workload's insert, the
-- workload blocked 1,016 ms).
-- Where 0002 is pending, dbkit runs this file in its place and records 0002 (docs/authoring.md,
-- "Safer forms"); where 0002 was applied, this migration is not needed and its guard changes
-- nothing.
-- Source: seed 004 "RLS Policies"; issue 16 (production rehearsal).
-- replaces: 0002_automations_account_access
-- depends: 0001_platform_auth_shim

-- The table, its index and the grants only where 0002 has not run: in this migration's own
-- place (0002 applied, its grants since narrowed by 0009) they must not run again.
do $$
begin
    if pg_catalog.to_regclass('public.account_members') is not null then
        return;
    end if;

    create table public.account_members (
        account_id uuid not null references auth.users (id) on delete cascade,
        user_id uuid not null references auth.users (id) on delete cascade,
        role text not null default 'member' check (role in ('admin', 'member')),
        created_at timestamptz not null default now(),
        primary key (account_id, user_id),
        constraint account_members_not_owner check (account_id <> user_id)
    );

    comment on table public.account_members is
    'Users who may act for an account besides its owner (account_id = the owner''s user id).';

    create index idx_account_members_user on public.account_members (user_id);

    grant select, insert, delete on public.account_members to authenticated;

    grant select, insert, update, delete on public.account_members to service_role;

    grant select, insert, update, delete on public.agents to authenticated;

    grant select, insert, update, delete on public.leads to authenticated;

    grant select, insert, update, delete on public.conversations to authenticated;
end
$$;

-- include: sql/functions/public.accessible_account_ids.sql
-- include: sql/functions/public.has_account_access.sql

-- Every lock the policies need, taken at once and in the order the application's writes take
-- them (a conversation's insert locks conversations, then checks its lead and agent; a lead's,
-- leads then agents): no cycle with a writer, so no deadlock victim among its transactions.
lock table public.conversations, public.leads, public.agents in access exclusive mode;

-- include: sql/policies/public.account_members.sql
-- include: sql/policies/public.conversations.sql
-- include: sql/policies/public.leads.sql
-- include: sql/policies/public.agents.sql
