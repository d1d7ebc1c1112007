-- Rollback of 0009_automations_tenant_isolation: drops the two same-account foreign keys and
-- restores the grants dbkit gave before (0001-0008): table-wide writes for authenticated on
-- agents, leads, conversations and automations. On a database whose default privileges
-- granted more, the rollback does not restore those extra grants: it restores dbkit's
-- previous state.
-- Source: issue "Tenant isolation beyond RLS".

alter table public.leads drop constraint leads_agent_same_account_fkey;

alter table public.automations drop constraint automations_agent_same_account_fkey;

revoke all on table public.automation_executions from public, anon, authenticated, service_role;
grant select, delete on table public.automation_executions to authenticated;
grant select, insert, update, delete on table public.automation_executions to service_role;

revoke all on table public.automations from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.automations to authenticated;
grant select, insert, update, delete on table public.automations to service_role;

revoke all on table public.conversations from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.conversations to authenticated;
grant select, insert, update, delete on table public.conversations to service_role;

revoke all on table public.leads from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.leads to authenticated;
grant select, insert, update, delete on table public.leads to service_role;

revoke all on table public.agents from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.agents to authenticated;
grant select, insert, update, delete on table public.agents to service_role;

revoke all on table public.account_members from public, anon, authenticated, service_role;
grant select, insert, delete on table public.account_members to authenticated;
grant select, insert, update, delete on table public.account_members to service_role;
