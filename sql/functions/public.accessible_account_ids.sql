-- public.accessible_account_ids(): the accounts the current user may act for, as a set.
-- Source: seed 004 "RLS Policies" ("Account members can view/create/update/delete"); the
--   set form of the document's has_account_access(user_id) (docs/decisions.md).
-- An account is identified by its owner's user id. Returns the caller's own id
-- (auth.uid()) and every account_id the caller is listed for in public.account_members;
-- nothing for anon or when there is no JWT subject. No duplicates (account_members has
-- primary key (account_id, user_id) and account_id <> user_id).
-- This is the account model's one rule: has_account_access(uuid) is defined in terms of
-- it, and the policies in sql/policies/ use it as
--   user_id = any(array(select public.accessible_account_ids()))
-- which PostgreSQL evaluates once per statement (an InitPlan) and which can be an index
-- condition, where a per-row has_account_access(user_id) call is evaluated for every row.
-- An app that brings its own account model replaces this function (and keeps
-- has_account_access consistent with it).
-- SECURITY INVOKER (it was SECURITY DEFINER before 0009_automations_tenant_isolation): it
-- reads only the caller's own membership rows (m.user_id = auth.uid()), which the
-- account_members policies show the caller, and those policies never call back into this
-- function, so RLS applies without recursion. The answer is about the caller alone: it
-- takes no user argument, and through the API it returns nothing the caller could not
-- read from account_members themselves. A definer function executable by the API roles is
-- what Supabase's advisor flags (splinter 0028/0029); this one runs with the caller's rights.
-- search_path pinned to '' and every name schema-qualified.
-- PL/pgSQL, not SQL (0011_automations_scale_paths, issue 19): a SQL function that cannot be
-- inlined (its pinned search_path prevents it) is parsed and planned again in every statement
-- that calls it on PostgreSQL 14-17, which every policy statement paid (about 0.1 ms, 10x the
-- filtered read it guards); PL/pgSQL keeps the plan of its query for the session.
-- Depends on: auth.uid() (platform), public.account_members (0002_automations_account_access).
-- Included by: migrations/automations/0002_automations_account_access.sql

create or replace function public.accessible_account_ids()
returns setof uuid
language plpgsql
stable
security invoker
set search_path = ''
rows 10
as $$
declare
    v_uid uuid := auth.uid();
begin
    if v_uid is null then
        return;
    end if;
    return next v_uid;
    return query
        select m.account_id
        from public.account_members as m
        where m.user_id = v_uid;
end;
$$;

comment on function public.accessible_account_ids() is
'The accounts the current user (auth.uid()) may act for: their own and those they are a member of (public.account_members). Use as user_id = any(array(select public.accessible_account_ids())).';

revoke all on function public.accessible_account_ids() from public, anon, authenticated, service_role;

grant execute on function public.accessible_account_ids() to authenticated, service_role;
