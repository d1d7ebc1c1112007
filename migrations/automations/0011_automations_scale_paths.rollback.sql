-- Rollback of 0011_automations_scale_paths: drops the batch procedure. The function and
-- policy bodies stay as their repeatable files define them (docs/decisions.md, "Rollbacks
-- follow their repeatable files"); none of them needs the procedure.
-- Source: seed 004 "Cleanup Job"; issue 19.

drop procedure public.cleanup_old_executions_in_batches(integer);
