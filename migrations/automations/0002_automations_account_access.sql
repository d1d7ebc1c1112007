-- Account membership, accessible_account_ids() and has_account_access(), and
-- account-scoped RLS on agents, leads and conversations.
-- Source: seed 004 "RLS Policies" ("Account members can view ..."): the document calls
--   public.has_account_access(user_id) but does not define it. An account is its owner's
--   user id; public.account_members lists the other users of an account.
-- An app that already has its own account model, with public.accessible_account_ids()
-- (setof uuid: the accounts the caller may act for; the policies of 0002/0003 use it) and
-- a consistent has_account_access(uuid), baselines through this migration; one that only
-- has the three tables baselines 0001 only.
-- depends: 0001_platform_auth_shim

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

-- include: sql/functions/public.accessible_account_ids.sql
-- include: sql/functions/public.has_account_access.sql

grant select, insert, update, delete on public.agents to authenticated;

grant select, insert, update, delete on public.leads to authenticated;

grant select, insert, update, delete on public.conversations to authenticated;

-- include: sql/policies/public.account_members.sql
-- include: sql/policies/public.agents.sql
-- include: sql/policies/public.leads.sql
-- include: sql/policies/public.conversations.sql
