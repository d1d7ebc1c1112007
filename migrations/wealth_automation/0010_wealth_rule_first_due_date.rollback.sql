-- Rollback of 0010_wealth_rule_first_due_date: drops the trigger, then its function. Rules
-- keep the dates they were given. No CASCADE.
drop trigger default_auto_invest_rules_next_execution_date on public.auto_invest_rules;
drop function public.default_auto_invest_next_execution_date();
