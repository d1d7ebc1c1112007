-- Rollback of 0008_automations_tenant_keys: drops the key without blocking writes (`if exists`:
-- a run killed after the drop, before its record, completes when run again).
-- Source: issue "Tenant isolation beyond RLS" item 2.
-- transactional: false

drop index concurrently if exists public.agents_id_user_id_key;
