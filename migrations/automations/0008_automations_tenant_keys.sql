-- 0008_automations_tenant_keys: the unique (id, user_id) key of agents that the same-account
-- foreign keys of 0009_automations_tenant_isolation reference (an automation's or a lead's
-- agent belongs to the same account), built CONCURRENTLY so agents keeps taking writes.
-- Source: seed 004 (automations.agent_id, leads.agent_id), issue "Tenant isolation beyond
-- RLS" item 2 (docs/security.md).
-- A failed build leaves an INVALID index, which the `drop index concurrently if exists` of
-- the next attempt removes; nothing is recorded until the build succeeded.
-- transactional: false

drop index concurrently if exists public.agents_id_user_id_key;

create unique index concurrently agents_id_user_id_key on public.agents using btree (id, user_id);

comment on index public.agents_id_user_id_key is
    'Target of the same-account foreign keys of automations and leads (tenant isolation).';
