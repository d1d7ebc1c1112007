-- 0010_strategy_document_contracts: seed 003's contracts that dbkit had narrowed, restored.
--   * "Service role/owner can INSERT execution logs", "Service role/owner can UPDATE
--     execution logs" (§1.4): a strategy's owner writes and completes the node logs of their
--     own strategies (a manual run from the browser), and only of their own. The owner half
--     is the column grants below plus the policies "Service role can insert execution logs" /
--     "Service role can update execution logs" (sql/policies/public.strategy_execution_logs.sql);
--     the run a log cites must be a run of the same strategy: the policies check it for API
--     callers, and the foreign key strategy_execution_logs_execution_same_workflow_fkey for
--     everyone (validated in 0012_strategy_validate_tenant_keys).
--   * A manual run needs its run row: owners may also start and finish runs of their own
--     strategies (workflow_executions, policies in sql/policies/public.workflow_executions.sql).
--   * The document's policy names ("Users can view own strategy watchlists", ...): they live
--     in the policy files, which create them on a fresh database and, re-applied by checksum
--     after the versioned migrations, replace the names dbkit used before on an existing one.
--   * strategy_watchlists.metadata is "JSONB, market data snapshot" in the document, with no
--     NOT NULL: dbkit had made it NOT NULL, which refused a caller that sends metadata: null
--     (a market added without a snapshot). It keeps its default '{}'.
-- Source: seed 003 §1.2, §1.3, §1.4 "RLS Policies"; docs/conformance.md "Document 003".
-- Owners write only the columns listed: never workflow_id / execution_id after the insert
-- (a log or run never moves to another strategy), never duration_ms (the trigger's).

-- workflow_executions may be an existing application's own table (baselined
-- 0001_strategy_base_tables), so its column grants are read from the catalog: INSERT every
-- column but created_at, UPDATE every column but the key, workflow_id, started_at and
-- created_at (on dbkit's table: insert id, workflow_id, status, started_at, completed_at,
-- error_message; update status, completed_at, error_message).
do $$
declare
    v_grant record;
    v_columns text;
begin
    for v_grant in
        select g.tab, g.priv, g.fixed
        from (values
            ('workflow_executions', 'insert', array['created_at']),
            ('workflow_executions', 'update', array['id', 'workflow_id', 'started_at', 'created_at'])
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

grant insert (id, execution_id, workflow_id, node_id, node_type, status, output, error_message,
              started_at, completed_at)
    on table public.strategy_execution_logs to authenticated;
grant update (status, output, error_message, completed_at)
    on table public.strategy_execution_logs to authenticated;

alter table public.strategy_execution_logs
    add constraint strategy_execution_logs_execution_same_workflow_fkey
    foreign key (execution_id, workflow_id)
    references public.workflow_executions (id, workflow_id)
    on delete cascade
    not valid;
comment on constraint strategy_execution_logs_execution_same_workflow_fkey on public.strategy_execution_logs is
    'The run a log cites is a run of the log''s strategy (tenant isolation; docs/security.md).';

alter table public.strategy_watchlists alter column metadata drop not null;
