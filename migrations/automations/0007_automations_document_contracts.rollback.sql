-- Rollback of 0007_automations_document_contracts: removes the trigger's comment. The function
-- body stays as the repeatable file defines it (docs/decisions.md, "Rollbacks follow their
-- repeatable files").
-- Source: seed 004 "Execution Stats Update".

comment on trigger trigger_update_automation_stats on public.automation_executions is null;
