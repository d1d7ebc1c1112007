-- Rollback of 0012_strategy_validate_tenant_keys: returns the three foreign keys to NOT VALID
-- (PostgreSQL cannot un-validate a constraint: each is dropped and added again NOT VALID,
-- which takes a short lock and scans nothing).
-- Source: issue "Tenant isolation beyond RLS" item 2.

alter table public.notifications drop constraint if exists notifications_workflow_same_user_fkey;
alter table public.notifications
    add constraint notifications_workflow_same_user_fkey
    foreign key (workflow_id, user_id)
    references public.workflow_sessions (id, user_id)
    deferrable initially deferred
    not valid;
comment on constraint notifications_workflow_same_user_fkey on public.notifications is
    'workflow_id is a strategy of the notified user (tenant isolation; checked at commit, docs/security.md).';

alter table public.strategy_watchlists drop constraint if exists strategy_watchlists_execution_same_workflow_fkey;
alter table public.strategy_watchlists
    add constraint strategy_watchlists_execution_same_workflow_fkey
    foreign key (added_by_execution_id, workflow_id)
    references public.workflow_executions (id, workflow_id)
    deferrable initially deferred
    not valid;
comment on constraint strategy_watchlists_execution_same_workflow_fkey on public.strategy_watchlists is
    'added_by_execution_id is a run of the same strategy (tenant isolation; checked at commit, docs/security.md).';

alter table public.strategy_execution_logs
    drop constraint if exists strategy_execution_logs_execution_same_workflow_fkey;
alter table public.strategy_execution_logs
    add constraint strategy_execution_logs_execution_same_workflow_fkey
    foreign key (execution_id, workflow_id)
    references public.workflow_executions (id, workflow_id)
    on delete cascade
    not valid;
comment on constraint strategy_execution_logs_execution_same_workflow_fkey on public.strategy_execution_logs is
    'The run a log cites is a run of the log''s strategy (tenant isolation; docs/security.md).';
