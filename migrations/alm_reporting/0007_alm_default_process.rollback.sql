-- 0007_alm_default_process (rollback): delete the default ALM_DAILY_AUTOMATION row
-- while it is untouched (never run, default configuration). A row the automation has
-- used holds its state (last run, last success, error count): it is kept, and rolling
-- back 0004_alm_processing_status then needs --force, which names the table.
-- Source: seed 002 Step 3.

delete from alm_reporting.processing_status s
 where s.process_name = 'ALM_DAILY_AUTOMATION'
   and s.current_state = 'READY'
   and s.last_run_date is null
   and s.last_success_date is null
   and s.next_scheduled_run is null
   and coalesce(s.error_count, 0) = 0
   and s.configuration = '{"max_files_to_keep": 3, "retry_attempts": 3, "timeout_seconds": 300}'::jsonb;
