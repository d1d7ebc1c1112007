-- Rollback of 0002_automations_account_access: policies and authenticated grants on
-- conversations, leads and agents (their RLS stays on, as 0001 left it: closed to API
-- roles); has_account_access(); accessible_account_ids(); account_members.
-- Source: seed 004 "RLS Policies" (account membership).

drop policy conversations_delete_account on public.conversations;

drop policy conversations_update_account on public.conversations;

drop policy conversations_insert_account on public.conversations;

drop policy conversations_select_account on public.conversations;

drop policy leads_delete_account on public.leads;

drop policy leads_update_account on public.leads;

drop policy leads_insert_account on public.leads;

drop policy leads_select_account on public.leads;

drop policy agents_delete_account on public.agents;

drop policy agents_update_account on public.agents;

drop policy agents_insert_account on public.agents;

drop policy agents_select_account on public.agents;

drop policy account_members_delete_owner_or_self on public.account_members;

drop policy account_members_insert_owner on public.account_members;

drop policy account_members_select_own on public.account_members;

revoke select, insert, update, delete on public.conversations from authenticated;

revoke select, insert, update, delete on public.leads from authenticated;

revoke select, insert, update, delete on public.agents from authenticated;

drop function public.has_account_access(uuid);

drop function public.accessible_account_ids();

revoke select, insert, update, delete on public.account_members from service_role;

revoke select, insert, delete on public.account_members from authenticated;

drop index public.idx_account_members_user;

drop table public.account_members;
