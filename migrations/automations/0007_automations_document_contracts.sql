-- 0007_automations_document_contracts: seed 004's execution-stats contract, restored.
-- The document's update_automation_stats counts a run when it goes from 'running' to
-- 'completed' or 'failed', with last_executed_at = NEW.completed_at. dbkit had also counted
-- 'running' -> 'cancelled' and replaced a NULL completed_at by now(), so execution_count and
-- last_execution_status disagreed with what the document's readers expect.
-- The function body is the repeatable file sql/functions/public.update_automation_stats.sql
-- (owned by 0005_automations_stats_and_cleanup): a fresh database gets the document's body
-- there, and an existing one when dbkit re-applies the changed file after the versioned
-- migrations. This migration records the contract in the catalog (the trigger's comment)
-- and carries its checks (0007_automations_document_contracts.verify.toml).
-- Source: seed 004 "Execution Stats Update"; docs/conformance.md "Document 004".

comment on trigger trigger_update_automation_stats on public.automation_executions is
'Seed 004 Execution Stats Update: a run going from running to completed or failed adds one to its automation''s execution_count and sets last_executed_at = completed_at, last_execution_status = status; nothing else changes the stats.';
