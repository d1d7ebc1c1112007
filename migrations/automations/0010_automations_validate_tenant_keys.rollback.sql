-- Rollback of 0010_automations_validate_tenant_keys: returns the two foreign keys to NOT VALID
-- (PostgreSQL cannot un-validate a constraint: each is dropped and added again NOT VALID,
-- which takes a short lock and scans nothing).
-- Source: issue "Tenant isolation beyond RLS" item 2.

alter table public.leads drop constraint if exists leads_agent_same_account_fkey;
alter table public.leads
    add constraint leads_agent_same_account_fkey
    foreign key (agent_id, user_id)
    references public.agents (id, user_id)
    deferrable initially deferred
    not valid;
comment on constraint leads_agent_same_account_fkey on public.leads is
    'A lead''s agent belongs to the lead''s account (tenant isolation; checked at commit, docs/security.md).';

alter table public.automations drop constraint if exists automations_agent_same_account_fkey;
alter table public.automations
    add constraint automations_agent_same_account_fkey
    foreign key (agent_id, user_id)
    references public.agents (id, user_id)
    on update cascade
    on delete cascade
    not valid;
comment on constraint automations_agent_same_account_fkey on public.automations is
    'An automation''s agent belongs to the automation''s account (tenant isolation; docs/security.md).';
