-- public.account_members: who may see and manage account membership.
-- Source: not in seed 004; the membership table behind has_account_access
--   (docs/decisions.md). What each role may do (docs/security.md):
--   * the account owner (account_id = auth.uid()) sees, adds and removes the members of
--     their account and changes a member's role (admin / member);
--   * a member or admin sees their own memberships and may leave (delete their own row);
--     neither adds members nor changes roles, their own included.
-- Only role is updatable by authenticated (column privileges,
-- 0009_automations_tenant_isolation): a membership never moves to another account or user.
-- These policies read only their own row's columns, never account_members through a
-- function, so the invoker helpers accessible_account_ids() / has_account_access(), which
-- read account_members under these policies, cannot recurse. service_role bypasses RLS.
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

drop policy if exists account_members_update_owner on public.account_members;
create policy account_members_update_owner on public.account_members
    for update to authenticated
    using (account_id = (select auth.uid()))
    with check (account_id = (select auth.uid()));
comment on policy account_members_update_owner on public.account_members is
'Only the account owner changes a member''s role.';

drop policy if exists account_members_delete_owner_or_self on public.account_members;
create policy account_members_delete_owner_or_self on public.account_members
    for delete to authenticated
    using (account_id = (select auth.uid()) or user_id = (select auth.uid()));
comment on policy account_members_delete_owner_or_self on public.account_members is
'The owner removes members; a member may leave.';
