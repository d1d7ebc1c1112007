-- 0010_wealth_rule_first_due_date: an auto-invest rule created without next_execution_date is
-- first due on its start_date (the column stays NOT NULL).
-- Source: seed 000 "Table Descriptions / auto_invest_rules" (next_execution_date "When rule
-- should execute next") and "Next Steps / Create an auto-invest rule via API". 0002 refused such
-- a rule (23502), although the guide never makes its callers compute the date
-- (docs/conformance.md, Document 000).
-- Depends on: 0002_wealth_auto_invest_rules, 0009 (previous migration of this module).

-- include: sql/functions/public.default_auto_invest_next_execution_date.sql

create trigger default_auto_invest_rules_next_execution_date
before insert on public.auto_invest_rules
for each row execute function public.default_auto_invest_next_execution_date();
comment on trigger default_auto_invest_rules_next_execution_date on public.auto_invest_rules is
'A rule created without next_execution_date is first due on start_date.';
