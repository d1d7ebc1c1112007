-- 0004_strategy_watchlists: markets a strategy watches, with owner-scoped RLS.
-- Source: seed 003 §1.2 "Create strategy_watchlists Table" (20251026000001) and
-- "Performance Considerations" 2 (watchlist lookup).
-- Decided: added_by_execution_id is ON DELETE SET NULL (the seed names no action; an entry
-- outlives the run that added it); metadata defaults to '{}'.

create table public.strategy_watchlists (
    id uuid primary key default gen_random_uuid(),
    workflow_id uuid not null references public.workflow_sessions (id) on delete cascade,
    market_id text not null,
    added_by_execution_id uuid references public.workflow_executions (id) on delete set null,
    added_at timestamptz not null default now(),
    reason text,
    metadata jsonb not null default '{}'::jsonb,
    constraint strategy_watchlists_workflow_id_market_id_key unique (workflow_id, market_id)
);
comment on table public.strategy_watchlists is 'Markets a strategy watches (seed 003 §1.2).';
comment on column public.strategy_watchlists.market_id is 'Polymarket market identifier.';
comment on column public.strategy_watchlists.added_by_execution_id is 'The run that added the market, if any.';
comment on column public.strategy_watchlists.reason is 'Why the market was added.';
comment on column public.strategy_watchlists.metadata is 'Market data snapshot at the time it was added.';
grant select, insert, delete on table public.strategy_watchlists to authenticated;
grant select, insert, update, delete on table public.strategy_watchlists to service_role;
create index idx_strategy_watchlists_workflow on public.strategy_watchlists using btree (workflow_id, added_at desc);
create index idx_strategy_watchlists_market on public.strategy_watchlists using btree (market_id);
create index idx_strategy_watchlists_execution on public.strategy_watchlists using btree (added_by_execution_id)
    where added_by_execution_id is not null;

-- include: sql/policies/public.strategy_watchlists.sql
