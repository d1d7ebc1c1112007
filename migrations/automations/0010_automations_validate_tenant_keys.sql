-- 0010_automations_validate_tenant_keys: validates the two same-account foreign keys added
-- NOT VALID by 0009_automations_tenant_isolation. Run outside a transaction: each VALIDATE
-- takes SHARE UPDATE EXCLUSIVE on its table (writes continue) and ROW SHARE on agents while
-- it scans. A row that already breaks the rule (an automation or lead on another account's
-- agent) fails the migration with the offending key; fix or delete it and apply again.
-- Source: issue "Tenant isolation beyond RLS" item 2 (docs/security.md).
-- transactional: false
-- depends: 0001_platform_auth_shim

alter table public.automations validate constraint automations_agent_same_account_fkey;

alter table public.leads validate constraint leads_agent_same_account_fkey;
