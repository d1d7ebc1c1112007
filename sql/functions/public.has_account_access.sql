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
-- SECURITY INVOKER (it was SECURITY DEFINER before 0009_automations_tenant_isolation): it
-- reads only the caller's own membership rows (m.user_id = auth.uid()), which the
-- account_members policies show the caller, and those policies never call back into this
-- function, so RLS applies without recursion. The answer is about the caller alone: it
-- takes no user argument, and through the API it returns nothing the caller could not
-- read from account_members themselves. A definer function executable by the API roles is
-- what Supabase's advisor flags (splinter 0028/0029); this one runs with the caller's rights.
-- search_path pinned to '' and every name schema-qualified.
-- Depends on: auth.uid() (platform), public.account_members (0002_automations_account_access).
-- Included by: migrations/automations/0002_automations_account_access.sql

create or replace function public.has_account_access(p_account_id uuid)
returns boolean
language sql
stable
security invoker
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

revoke all on function public.has_account_access(uuid) from public, anon, authenticated, service_role;

grant execute on function public.has_account_access(uuid) to authenticated, service_role;
