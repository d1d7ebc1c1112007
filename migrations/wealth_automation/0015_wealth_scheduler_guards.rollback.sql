-- Rollback of 0015_wealth_scheduler_guards: drops the date-range CHECK. No CASCADE.
alter table public.auto_invest_rules drop constraint auto_invest_rules_date_range_check;
