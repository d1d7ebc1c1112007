-- 0006_wealth_automation_execution_logs: public.automation_execution_logs, one row per
-- automation run claimed by the scheduler, its indexes (every foreign key, open runs), the
-- unique (rule, period) key that makes a double claim impossible, updated_at trigger and RLS.
-- Source: seed 000 overview ("automation_execution_logs - Stores automation execution
-- logs"); seed 001 scheduler ("Error handling and logging", "Audit logging implemented",
-- "Monitor execution logs", "Track execution success rates").
-- Depends on: 0002 (auto_invest_rules), 0003 (rebalancing_*), 0004 (trigger_orders).

create table public.automation_execution_logs (
    id uuid primary key default gen_random_uuid(),
    automation_type text not null,
    client_id uuid not null references public.clients (id) on delete cascade,
    auto_invest_rule_id uuid references public.auto_invest_rules (id) on delete set null,
    rebalancing_rule_id uuid references public.rebalancing_rules (id) on delete set null,
    rebalancing_execution_id uuid references public.rebalancing_executions (id) on delete set null,
    trigger_order_id uuid references public.trigger_orders (id) on delete set null,
    period_date date,
    status text not null default 'Claimed',
    worker_id text,
    details jsonb not null default '{}'::jsonb,
    error_message text,
    started_at timestamp with time zone not null default now(),
    finished_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint automation_execution_logs_rule_period_key unique (auto_invest_rule_id, period_date),
    constraint automation_execution_logs_automation_type_check
    check (automation_type in ('Auto Invest', 'Rebalancing', 'Trigger Order')),
    constraint automation_execution_logs_reference_check check (
        (automation_type = 'Auto Invest'
            and num_nonnulls(rebalancing_rule_id, rebalancing_execution_id, trigger_order_id) = 0)
        or (automation_type = 'Rebalancing'
            and num_nonnulls(auto_invest_rule_id, trigger_order_id, period_date) = 0)
        or (automation_type = 'Trigger Order'
            and num_nonnulls(auto_invest_rule_id, rebalancing_rule_id, rebalancing_execution_id, period_date) = 0)
    ),
    constraint automation_execution_logs_status_check
    check (status in ('Claimed', 'Running', 'Succeeded', 'Failed', 'Skipped')),
    constraint automation_execution_logs_details_check check (jsonb_typeof(details) = 'object'),
    constraint automation_execution_logs_finished_check check (finished_at is null or finished_at >= started_at)
);
comment on table public.automation_execution_logs is
'One row per automation run claimed by the scheduler (auto-invest period, rebalancing drift, triggered order) and its outcome. Seed 000/001.';
comment on column public.automation_execution_logs.period_date is
'Auto Invest only: the scheduled date that was claimed; unique per rule, so a period is never executed twice.';
comment on column public.automation_execution_logs.status is
'Claimed (by worker_id), Running, Succeeded, Failed (error_message) or Skipped (trigger condition not met).';
comment on column public.automation_execution_logs.worker_id is 'Identifier of the scheduler worker that claimed the run.';
revoke all on table public.automation_execution_logs from anon, authenticated;
grant select, insert, update, delete on table public.automation_execution_logs to service_role;
create index idx_automation_execution_logs_client_id on public.automation_execution_logs
using btree (client_id, started_at desc);
create index idx_automation_execution_logs_rebalancing_rule_id on public.automation_execution_logs
using btree (rebalancing_rule_id);
create index idx_automation_execution_logs_rebalancing_execution_id on public.automation_execution_logs
using btree (rebalancing_execution_id);
create index idx_automation_execution_logs_trigger_order_id on public.automation_execution_logs
using btree (trigger_order_id);
create index idx_automation_execution_logs_open on public.automation_execution_logs
using btree (started_at)
where status in ('Claimed', 'Running');
create trigger update_automation_execution_logs_updated_at
before update on public.automation_execution_logs
for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.automation_execution_logs.sql
