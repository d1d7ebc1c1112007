-- 0009_strategy_tenant_keys: the unique (id, owner) keys that the same-tenant foreign keys of
-- 0010_strategy_document_contracts and 0011_strategy_tenant_isolation reference, built
-- CONCURRENTLY so existing tables keep taking writes while they build.
--   * workflow_executions (id, workflow_id): a log or watchlist row cites a run of the same
--     strategy;
--   * workflow_sessions (id, user_id): a notification cites a strategy of the same user. It
--     replaces idx_workflow_sessions_id_user (same columns, not unique), which served the RLS
--     ownership probes; the unique index serves them the same way, and keeping both would
--     maintain two identical indexes on every write.
-- Source: seed 003 §1.2/§1.4/§1.5 (the references), issue "Tenant isolation beyond RLS" item 2
-- (docs/security.md).
-- A failed build leaves an INVALID index, which the `drop index concurrently if exists` of
-- the next attempt removes; nothing is recorded until every statement succeeded.
-- transactional: false

drop index concurrently if exists public.workflow_executions_id_workflow_id_key;

create unique index concurrently workflow_executions_id_workflow_id_key
    on public.workflow_executions using btree (id, workflow_id);

comment on index public.workflow_executions_id_workflow_id_key is
    'Target of the same-strategy foreign keys of strategy_execution_logs and strategy_watchlists.';

drop index concurrently if exists public.workflow_sessions_id_user_id_key;

create unique index concurrently workflow_sessions_id_user_id_key
    on public.workflow_sessions using btree (id, user_id);

comment on index public.workflow_sessions_id_user_id_key is
    'Target of the same-user foreign key of notifications; RLS ownership probes (ws.id = ... and ws.user_id = auth.uid()) as index-only scans.';

drop index concurrently if exists public.idx_workflow_sessions_id_user;
