-- Rollback of 0006_strategy_execution_logs: drops the statistics functions, the table with its
-- policies, trigger, indexes and grants, then the trigger function. dbkit refuses while the
-- table holds rows unless --force.
-- Source: seed 003 §1.4 ("Rollback SQL included in comments").
-- The policy names are the document's, which the included policy file creates since
-- 0010_strategy_document_contracts (docs/decisions.md, "Rollbacks follow their repeatable files").

drop policy "Service role can update execution logs" on public.strategy_execution_logs;
drop policy "Service role can insert execution logs" on public.strategy_execution_logs;
drop policy "Users can view own strategy execution logs" on public.strategy_execution_logs;
drop function public.get_node_performance_stats(uuid, text);
drop function public.get_execution_log_summary(uuid);
drop trigger strategy_execution_logs_duration on public.strategy_execution_logs;
drop index public.idx_strategy_execution_logs_recent;
drop index public.idx_strategy_execution_logs_errors;
drop index public.idx_strategy_execution_logs_workflow;
drop index public.idx_strategy_execution_logs_execution;
revoke all on table public.strategy_execution_logs from authenticated, service_role;
drop table public.strategy_execution_logs;
drop function public.calculate_strategy_execution_log_duration();
