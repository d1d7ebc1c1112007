-- 0011_strategy_tenant_isolation: the privileges of every strategy_execution table, revoked
-- first and then granted exactly, and the same-owner foreign keys of the strategy tables.
-- Source: issue "Tenant isolation beyond RLS" items 1-4; docs/security.md (threat model and
-- what each role may do).
--   * Revoke before grant: a Supabase project grants ALL on every new table in public to
--     anon, authenticated and service_role (default privileges). ALL includes TRUNCATE and
--     TRIGGER, which RLS does not govern, REFERENCES, and table-wide UPDATE, which overrides
--     column grants. Every grant below therefore starts from nothing, whatever the database's
--     defaults gave; anon gets nothing at all.
--   * Ownership is immutable for API users: no user_id, workflow_id or execution_id column is
--     updatable by authenticated, so a row can never be moved to another owner or strategy.
--   * The scheduler's bookkeeping columns of workflow_sessions (execution_interval_minutes,
--     last_executed_at, next_execution_at, success_count, error_count,
--     average_execution_time_ms) are the executor's (service_role): users insert and update
--     only the strategy's own columns and switch it on and off (auto_run, status), so they can
--     neither jump the claim queue nor plant counters that overflow the executor's batch.
--   * Same-owner references: a watchlist row's added_by_execution_id is a run of the same
--     strategy, a notification's workflow_id a strategy of the same user, for every writer
--     (the executor included). Both foreign keys are DEFERRABLE INITIALLY DEFERRED because the
--     document's own ON DELETE SET NULL foreign keys clear the column first when the run or
--     strategy is deleted; they are checked at commit. They are added NOT VALID (a short lock,
--     no scan) and validated by 0012_strategy_validate_tenant_keys. API callers are refused
--     earlier, by the policies (42501, the same for an id that does not exist).

-- workflow_sessions, workflow_executions and notifications may be an existing application's
-- own tables (baselined 0001_strategy_base_tables, with columns of their own), so their
-- column grants are read from the catalog, as "every column but ...":
--   workflow_sessions INSERT: not the timestamps nor the scheduler columns; UPDATE: not the
--     key, user_id, the timestamps nor the scheduler columns (on dbkit's table: name,
--     description, nodes, edges, status, auto_run);
--   workflow_executions as in 0010_strategy_document_contracts;
--   notifications UPDATE: only read (users mark their notifications read).
revoke all on table public.workflow_sessions from public, anon, authenticated, service_role;
grant select, delete on table public.workflow_sessions to authenticated;
grant select, insert, update, delete on table public.workflow_sessions to service_role;
comment on column public.workflow_sessions.next_execution_at is
    'When the strategy is next due; NULL means not scheduled. Advanced by public.claim_due_strategies; written by the executor (service_role) only.';

revoke all on table public.workflow_executions from public, anon, authenticated, service_role;
grant select on table public.workflow_executions to authenticated;
grant select, insert, update, delete on table public.workflow_executions to service_role;

revoke all on table public.notifications from public, anon, authenticated, service_role;
grant select, delete on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;

do $$
declare
    v_grant record;
    v_columns text;
begin
    for v_grant in
        select g.tab, g.priv, g.fixed
        from (values
            ('workflow_sessions', 'insert', array['created_at', 'updated_at', 'execution_interval_minutes', 'last_executed_at', 'next_execution_at', 'success_count', 'error_count', 'average_execution_time_ms']),
            ('workflow_sessions', 'update', array['id', 'user_id', 'created_at', 'updated_at', 'execution_interval_minutes', 'last_executed_at', 'next_execution_at', 'success_count', 'error_count', 'average_execution_time_ms']),
            ('workflow_executions', 'insert', array['created_at']),
            ('workflow_executions', 'update', array['id', 'workflow_id', 'started_at', 'created_at']),
            ('notifications', 'update', (select array_agg(a.attname::text) from pg_catalog.pg_attribute as a
                                        where a.attrelid = 'public.notifications'::regclass and a.attnum > 0
                                            and a.attname <> 'read'))
        ) as g (tab, priv, fixed)
    loop
        select string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
        into v_columns
        from pg_catalog.pg_attribute as a
        where a.attrelid = pg_catalog.format('public.%I', v_grant.tab)::regclass
            and a.attnum > 0
            and not a.attisdropped
            and a.attname <> all (v_grant.fixed);
        if v_columns is not null then
            execute pg_catalog.format('grant %s (%s) on table public.%I to authenticated', v_grant.priv, v_columns, v_grant.tab);
        end if;
    end loop;
end
$$;

revoke all on table public.strategy_watchlists from public, anon, authenticated, service_role;
grant select, delete on table public.strategy_watchlists to authenticated;
grant insert (id, workflow_id, market_id, added_by_execution_id, added_at, reason, metadata)
    on table public.strategy_watchlists to authenticated;
grant select, insert, update, delete on table public.strategy_watchlists to service_role;

revoke all on table public.notification_settings from public, anon, authenticated, service_role;
grant select, delete on table public.notification_settings to authenticated;
grant insert (id, user_id, notification_type, enabled, delivery_method, quiet_hours_enabled,
              quiet_hours_start, quiet_hours_end)
    on table public.notification_settings to authenticated;
grant update (notification_type, enabled, delivery_method, quiet_hours_enabled,
              quiet_hours_start, quiet_hours_end)
    on table public.notification_settings to authenticated;
grant select, insert, update, delete on table public.notification_settings to service_role;

revoke all on table public.strategy_execution_logs from public, anon, authenticated, service_role;
grant select on table public.strategy_execution_logs to authenticated;
grant insert (id, execution_id, workflow_id, node_id, node_type, status, output, error_message,
              started_at, completed_at)
    on table public.strategy_execution_logs to authenticated;
grant update (status, output, error_message, completed_at)
    on table public.strategy_execution_logs to authenticated;
grant select, insert, update, delete on table public.strategy_execution_logs to service_role;

-- dbkit-allow DBK006 idx_strategy_watchlists_execution (added_by_execution_id, partial on not null) serves the key lookup
alter table public.strategy_watchlists
    add constraint strategy_watchlists_execution_same_workflow_fkey
    foreign key (added_by_execution_id, workflow_id)
    references public.workflow_executions (id, workflow_id)
    deferrable initially deferred
    not valid;
comment on constraint strategy_watchlists_execution_same_workflow_fkey on public.strategy_watchlists is
    'added_by_execution_id is a run of the same strategy (tenant isolation; checked at commit, docs/security.md).';

-- dbkit-allow DBK006 idx_notifications_workflow (workflow_id, created_at) serves the key lookup: workflow_id determines the row set
alter table public.notifications
    add constraint notifications_workflow_same_user_fkey
    foreign key (workflow_id, user_id)
    references public.workflow_sessions (id, user_id)
    deferrable initially deferred
    not valid;
comment on constraint notifications_workflow_same_user_fkey on public.notifications is
    'workflow_id is a strategy of the notified user (tenant isolation; checked at commit, docs/security.md).';
