-- public.default_auto_invest_next_execution_date(): BEFORE INSERT trigger on
-- public.auto_invest_rules: a rule created without next_execution_date is first due on its
-- start_date.
-- Source: seed 000 "auto_invest_rules" (next_execution_date "When rule should execute next";
-- the guide's "Create an auto-invest rule via API" does not say the caller computes it). 0002
-- made the column NOT NULL without a default, so a caller that leaves the scheduling to the
-- database was refused (docs/conformance.md, Document 000).
-- A value the caller gives is kept. NOT NULL is checked after BEFORE triggers, so the column
-- stays NOT NULL. EXECUTE revoked from PUBLIC and the API roles (a trigger fires without it).
-- Included by 0010_wealth_rule_first_due_date.
create or replace function public.default_auto_invest_next_execution_date()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.next_execution_date is null then
        new.next_execution_date := new.start_date;
    end if;
    return new;
end;
$$;
comment on function public.default_auto_invest_next_execution_date() is
'BEFORE INSERT trigger on auto_invest_rules: next_execution_date defaults to start_date.';
revoke all on function public.default_auto_invest_next_execution_date() from public, anon, authenticated, service_role;
