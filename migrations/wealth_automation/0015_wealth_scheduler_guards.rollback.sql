-- Rollback of 0015_wealth_scheduler_guards: drops the date-range CHECK. No CASCADE. `if exists`:
-- like its migration it runs outside a transaction and must complete when run again.
alter table public.auto_invest_rules drop constraint if exists auto_invest_rules_date_range_check;
