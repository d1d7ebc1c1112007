-- public.account_members: who may see and manage account membership.
-- Source: not in seed 004; the membership table behind has_account_access
--   (docs/decisions.md). A member sees their own memberships; the account
--   owner sees, adds and removes the members of their account. Nobody updates a row
--   (remove and re-add instead). service_role bypasses RLS.
-- Backed by the primary key (account_id, user_id) and idx_account_members_user.
-- Included by: migrations/automations/0002_automations_account_access.sql

alter table public.account_members enable row level security;

drop policy if exists account_members_select_own on public.account_members;
create policy account_members_select_own on public.account_members
    for select to authenticated
    using (user_id = (select auth.uid()) or account_id = (select auth.uid()));
comment on policy account_members_select_own on public.account_members is
'Members see their own memberships; owners see the members of their account.';

drop policy if exists account_members_insert_owner on public.account_members;
create policy account_members_insert_owner on public.account_members
    for insert to authenticated
    with check (account_id = (select auth.uid()));
comment on policy account_members_insert_owner on public.account_members is
'Only the account owner adds members to their account.';

drop policy if exists account_members_delete_owner_or_self on public.account_members;
create policy account_members_delete_owner_or_self on public.account_members
    for delete to authenticated
    using (account_id = (select auth.uid()) or user_id = (select auth.uid()));
comment on policy account_members_delete_owner_or_self on public.account_members is
'The owner removes members; a member may leave.';
