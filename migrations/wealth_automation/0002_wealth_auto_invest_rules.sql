-- 0002_wealth_auto_invest_rules: public.auto_invest_rules, its indexes (every foreign key,
-- plus the scheduler's partial index on due active rules), its updated_at trigger, the
-- month-end-safe date function and its RLS policies.
-- Source: seed 000 "Table Descriptions / auto_invest_rules" (id, client_id, scheme_id, amount,
-- frequency Daily/Weekly/Monthly/Quarterly, trigger_type date / goal progress / portfolio
-- drift / market conditions, next_execution_date); seed 001 scheduler.
-- Depends on: 0001_wealth_prerequisites (clients, products, goals).

-- include: sql/functions/public.next_auto_invest_date.sql

create table public.auto_invest_rules (
    id uuid primary key default gen_random_uuid(),
    client_id uuid not null references public.clients (id) on delete cascade,
    scheme_id uuid not null references public.products (id) on delete restrict,
    goal_id uuid references public.goals (id) on delete set null,
    name text check (char_length(name) between 1 and 200),
    amount numeric(18, 2) not null,
    frequency text not null,
    trigger_type text not null default 'Date',
    trigger_config jsonb not null default '{}'::jsonb,
    start_date date not null default current_date,
    end_date date,
    day_of_month smallint,
    next_execution_date date not null,
    status text not null default 'Active',
    max_executions integer,
    execution_count integer not null default 0,
    last_executed_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint auto_invest_rules_amount_check check (amount > 0 and amount <= 1000000000),
    constraint auto_invest_rules_frequency_check
    check (frequency in ('Daily', 'Weekly', 'Monthly', 'Quarterly')),
    constraint auto_invest_rules_trigger_type_check
    check (trigger_type in ('Date', 'Goal Progress', 'Portfolio Drift', 'Market Condition')),
    constraint auto_invest_rules_trigger_config_check check (jsonb_typeof(trigger_config) = 'object'),
    constraint auto_invest_rules_status_check
    check (status in ('Active', 'Paused', 'Completed', 'Cancelled')),
    constraint auto_invest_rules_dates_check check (end_date is null or end_date >= start_date),
    constraint auto_invest_rules_next_execution_date_check check (next_execution_date >= start_date),
    constraint auto_invest_rules_day_of_month_check check (day_of_month between 1 and 31),
    constraint auto_invest_rules_max_executions_check check (max_executions > 0),
    constraint auto_invest_rules_execution_count_check check (execution_count >= 0)
);
comment on table public.auto_invest_rules is
'Auto-invest rules (SIP-like): invest amount into scheme_id every frequency period, when the trigger allows. Seed 000.';
comment on column public.auto_invest_rules.scheme_id is 'Mutual fund scheme to invest in (public.products).';
comment on column public.auto_invest_rules.goal_id is 'Optional goal the rule funds; cleared when the goal is deleted.';
comment on column public.auto_invest_rules.trigger_type is
'Date, Goal Progress, Portfolio Drift or Market Condition; non-date conditions live in trigger_config and are evaluated by the application when the rule is claimed.';
comment on column public.auto_invest_rules.day_of_month is
'Anchor day for Monthly/Quarterly rules (null: day of start_date); dates clamp to month end.';
comment on column public.auto_invest_rules.next_execution_date is
'Date the rule is next due; advanced by public.claim_due_auto_invest_rules().';
comment on column public.auto_invest_rules.max_executions is 'Stop after this many executions (null: no limit).';
revoke all on table public.auto_invest_rules from anon, authenticated;
grant select on table public.auto_invest_rules to authenticated;
grant select, insert, update, delete on table public.auto_invest_rules to service_role;
create index idx_auto_invest_rules_client_id on public.auto_invest_rules using btree (client_id);
create index idx_auto_invest_rules_scheme_id on public.auto_invest_rules using btree (scheme_id);
create index idx_auto_invest_rules_goal_id on public.auto_invest_rules using btree (goal_id);
create index idx_auto_invest_rules_due on public.auto_invest_rules using btree (next_execution_date, id)
where status = 'Active';
comment on index public.idx_auto_invest_rules_due is
'Serves public.claim_due_auto_invest_rules(): due active rules in claim order (next_execution_date, id), so a batch reads only the rows it claims, without a sort.';
create trigger update_auto_invest_rules_updated_at
before update on public.auto_invest_rules
for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.auto_invest_rules.sql
