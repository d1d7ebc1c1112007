-- 0003_wealth_rebalancing: public.rebalancing_rules and public.rebalancing_executions, their
-- indexes (every foreign key, active rules per client, at most one open execution per rule),
-- updated_at triggers, the allocation validator and RLS policies.
-- Source: seed 000 "Table Descriptions / rebalancing_rules" (id, client_id, target_allocation,
-- threshold_percent, execute_automatically) and the overview's "rebalancing_executions -
-- Stores rebalancing execution history"; seed 001 scheduler ("Processes rebalancing rules").
-- Depends on: 0001_wealth_prerequisites (clients).

-- include: sql/functions/public.is_valid_allocation.sql

create table public.rebalancing_rules (
    id uuid primary key default gen_random_uuid(),
    client_id uuid not null references public.clients (id) on delete cascade,
    name text check (char_length(name) between 1 and 200),
    target_allocation jsonb not null,
    threshold_percent numeric(5, 2) not null default 5.00,
    execute_automatically boolean not null default false,
    status text not null default 'Active',
    last_checked_at timestamp with time zone,
    last_rebalanced_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint rebalancing_rules_target_allocation_check
    check (public.is_valid_allocation(target_allocation)),
    constraint rebalancing_rules_threshold_percent_check
    check (threshold_percent > 0 and threshold_percent <= 100),
    constraint rebalancing_rules_status_check check (status in ('Active', 'Paused', 'Cancelled'))
);
comment on table public.rebalancing_rules is
'Portfolio rebalancing rules: keep the client''s allocation within threshold_percent of target_allocation. Seed 000.';
comment on column public.rebalancing_rules.target_allocation is
'JSON object asset class -> target percent, e.g. {"Equity": 60, "Debt": 40}; must sum to 100.';
comment on column public.rebalancing_rules.threshold_percent is
'Drift (percentage points, any asset class) beyond which rebalancing is triggered.';
comment on column public.rebalancing_rules.execute_automatically is
'True: a detected drift is executed without confirmation (execution status Approved); false: Pending Confirmation.';
revoke all on table public.rebalancing_rules from anon, authenticated;
grant select on table public.rebalancing_rules to authenticated;
grant select, insert, update, delete on table public.rebalancing_rules to service_role;
create index idx_rebalancing_rules_client_id on public.rebalancing_rules using btree (client_id);
create index idx_rebalancing_rules_active on public.rebalancing_rules using btree (client_id)
where status = 'Active';
create trigger update_rebalancing_rules_updated_at
before update on public.rebalancing_rules
for each row execute function public.update_updated_at_column();

create table public.rebalancing_executions (
    id uuid primary key default gen_random_uuid(),
    rebalancing_rule_id uuid not null references public.rebalancing_rules (id) on delete cascade,
    status text not null default 'Pending Confirmation',
    current_allocation jsonb not null,
    target_allocation jsonb not null,
    threshold_percent numeric(5, 2) not null,
    max_drift_percent numeric(7, 4) not null,
    executed_automatically boolean not null default false,
    proposed_trades jsonb not null default '[]'::jsonb,
    detected_at timestamp with time zone not null default now(),
    confirmed_at timestamp with time zone,
    completed_at timestamp with time zone,
    error_message text,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint rebalancing_executions_status_check
    check (status in ('Pending Confirmation', 'Approved', 'Executing', 'Completed', 'Failed', 'Rejected', 'Cancelled')),
    constraint rebalancing_executions_current_allocation_check
    check (jsonb_typeof(current_allocation) = 'object'),
    constraint rebalancing_executions_target_allocation_check
    check (jsonb_typeof(target_allocation) = 'object'),
    constraint rebalancing_executions_proposed_trades_check check (jsonb_typeof(proposed_trades) = 'array'),
    constraint rebalancing_executions_threshold_percent_check
    check (threshold_percent > 0 and threshold_percent <= 100),
    constraint rebalancing_executions_max_drift_percent_check check (max_drift_percent >= 0)
);
comment on table public.rebalancing_executions is
'Rebalancing execution history: one row per detected drift of a rebalancing rule, with the allocation snapshot. Seed 000.';
comment on column public.rebalancing_executions.status is
'Pending Confirmation (rule needs the client''s confirmation), Approved (automatic or confirmed), Executing, Completed, Failed, Rejected, Cancelled.';
comment on column public.rebalancing_executions.max_drift_percent is
'Largest absolute difference, in percentage points, between current and target allocation.';
revoke all on table public.rebalancing_executions from anon, authenticated;
grant select on table public.rebalancing_executions to authenticated;
grant select, insert, update, delete on table public.rebalancing_executions to service_role;
create index idx_rebalancing_executions_rule_id on public.rebalancing_executions
using btree (rebalancing_rule_id, detected_at desc);
create unique index uq_rebalancing_executions_open_per_rule on public.rebalancing_executions
using btree (rebalancing_rule_id)
where status in ('Pending Confirmation', 'Approved', 'Executing');
comment on index public.uq_rebalancing_executions_open_per_rule is
'At most one open (pending, approved or executing) execution per rule, so concurrent schedulers never record the same drift twice.';
create trigger update_rebalancing_executions_updated_at
before update on public.rebalancing_executions
for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.rebalancing_rules.sql
-- include: sql/policies/public.rebalancing_executions.sql
