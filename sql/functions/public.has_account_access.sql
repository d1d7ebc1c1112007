-- public.has_account_access(p_account_id uuid): may the current user act for this account?
-- Source: seed 004 "RLS Policies" ("Account members can view/create/update/delete");
--   the document calls it but never defines it.
-- An account is identified by its owner's user id (the user_id column of agents, leads,
-- automations). True when the caller (auth.uid()) is that owner, or is listed in
-- public.account_members for that account; false for anon, for a null argument and for
-- everyone else. One rule, two forms: this is the single-value check for application
-- code, p_account_id in public.accessible_account_ids() (the set form the policies in
-- sql/policies/ use, evaluated once per statement instead of once per row; see
-- docs/decisions.md). The rule is written out here rather than as a call of
-- accessible_account_ids(): a primary-key probe per call, where going through the set
-- function measured several times slower per call. Change both together; a test checks they agree.
-- SECURITY DEFINER so the lookup does not depend on the caller's view of account_members
-- (which has RLS); search_path pinned to '' and every name schema-qualified.
-- Depends on: auth.uid() (platform), public.account_members (0002_automations_account_access).
-- Included by: migrations/automations/0002_automations_account_access.sql

create or replace function public.has_account_access(p_account_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(
        p_account_id = (select auth.uid())
        or exists (
            select 1
            from public.account_members as m
            where m.account_id = p_account_id
              and m.user_id = (select auth.uid())
        ),
        false
    );
$$;

comment on function public.has_account_access(uuid) is
'True when the current user (auth.uid()) owns the account p_account_id or is a member of it (public.account_members).';

revoke execute on function public.has_account_access(uuid) from public, anon, authenticated;

grant execute on function public.has_account_access(uuid) to authenticated, service_role;
