-- Rollback of 0008_automations_tenant_keys: drops the key without blocking writes.
-- Source: issue "Tenant isolation beyond RLS" item 2.
-- transactional: false

drop index concurrently public.agents_id_user_id_key;
