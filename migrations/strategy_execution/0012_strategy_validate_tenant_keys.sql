-- 0012_strategy_validate_tenant_keys: validates the three same-owner foreign keys added NOT
-- VALID by 0010_strategy_document_contracts and 0011_strategy_tenant_isolation. Run outside
-- a transaction: each VALIDATE takes SHARE UPDATE EXCLUSIVE on its table (writes continue)
-- and ROW SHARE on the referenced one while it scans. A row that already breaks the rule
-- (a log citing another strategy's run, ...) fails the migration with the offending key;
-- fix or delete it and apply again.
-- Source: issue "Tenant isolation beyond RLS" item 2 (docs/security.md).
-- transactional: false

alter table public.strategy_execution_logs validate constraint strategy_execution_logs_execution_same_workflow_fkey;

alter table public.strategy_watchlists validate constraint strategy_watchlists_execution_same_workflow_fkey;

alter table public.notifications validate constraint notifications_workflow_same_user_fkey;
