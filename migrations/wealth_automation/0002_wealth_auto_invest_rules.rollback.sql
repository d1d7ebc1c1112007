-- Rollback of 0002_wealth_auto_invest_rules: drops the policies, the trigger, the table (and
-- with it its indexes) and public.next_auto_invest_date, in reverse order. No CASCADE.
drop policy if exists auto_invest_rules_select_own on public.auto_invest_rules;
drop trigger update_auto_invest_rules_updated_at on public.auto_invest_rules;
drop table public.auto_invest_rules;
drop function public.next_auto_invest_date(date, text, integer);
