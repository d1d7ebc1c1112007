-- public.strategy_watchlists: users SELECT / INSERT / DELETE watchlist entries of their own
-- strategies; no UPDATE for users (not granted either: an UPDATE is denied with 42501).
-- Source: seed 003 §1.2 "RLS Policies" and "Security Considerations" (the EXISTS example,
-- policy "Users can view own strategy watchlists"). Policy names are the document's
-- (docs/conformance.md); the INSERT and DELETE names follow the same migration
-- (20251026000001) of the document's application.
-- Changed from the seed: auth.uid() wrapped in (select ...) so it is an InitPlan evaluated
-- once per statement, and "to authenticated" on every policy (Supabase RLS performance guide).
-- SELECT and DELETE (filters over existing rows) compare workflow_id with the array of the
-- user's strategy ids, computed once per statement (InitPlan, idx_workflow_sessions_user):
-- it is an index condition on idx_strategy_watchlists_workflow, so a read without a
-- workflow_id filter fetches only the user's rows. The EXISTS form is a per-row subplan
-- there: a full scan of the table, estimated above jit_above_cost. INSERT checks one new row,
-- so it keeps the EXISTS probe (index-only scan on idx_workflow_sessions_id_user).
-- Same rows either way: ws.id is the primary key and workflow_id is NOT NULL.
-- Added to the seed (tenant isolation, docs/security.md): an inserted row's
-- added_by_execution_id must be a run of the same strategy. The check runs before the
-- foreign keys, so another user's run id and an id that does not exist are refused alike
-- (42501), and the error confirms nothing about other tenants.
-- Since 0016_strategy_watchlists_owner (issue 19) the SELECT and DELETE policies are
-- public.strategy_watchlists.owner.sql's, which filters on the owner column that migration
-- adds (this file runs in 0004, before the column exists). Here they are created in their
-- previous form only where absent: a database gets them at 0004 and 0016 replaces them, and
-- re-applying this file never puts the previous form back over 0016's. An edit of their text
-- here changes nothing on a database past 0004: change the owner file.
-- Included by: migrations/strategy_execution/0004_strategy_watchlists.sql

alter table public.strategy_watchlists enable row level security;

-- The names dbkit used before it restored the document's (re-applying this file on such a
-- database removes them; 0010_strategy_document_contracts).
drop policy if exists strategy_watchlists_select_own on public.strategy_watchlists;
drop policy if exists strategy_watchlists_insert_own on public.strategy_watchlists;
drop policy if exists strategy_watchlists_delete_own on public.strategy_watchlists;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_policy as p
                    where p.polrelid = 'public.strategy_watchlists'::regclass
                      and p.polname = 'Users can view own strategy watchlists') then
        create policy "Users can view own strategy watchlists" on public.strategy_watchlists
            for select to authenticated
            using (
                strategy_watchlists.workflow_id = any(array(
                    select ws.id
                    from public.workflow_sessions as ws
                    where ws.user_id = (select auth.uid())
                ))
            );
        comment on policy "Users can view own strategy watchlists" on public.strategy_watchlists is
            'Users view watchlists of their own strategies.';
    end if;
end
$$;

drop policy if exists "Users can insert into own strategy watchlists" on public.strategy_watchlists;
create policy "Users can insert into own strategy watchlists" on public.strategy_watchlists
    for insert to authenticated
    with check (
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = strategy_watchlists.workflow_id
                and ws.user_id = (select auth.uid())
        )
        and (
            strategy_watchlists.added_by_execution_id is null
            or exists (
                select 1
                from public.workflow_executions as e
                where e.id = strategy_watchlists.added_by_execution_id
                    and e.workflow_id = strategy_watchlists.workflow_id
            )
        )
    );
comment on policy "Users can insert into own strategy watchlists" on public.strategy_watchlists is
    'Users add markets only to their own strategies, citing only runs of the same strategy.';

do $$
begin
    if not exists (select 1 from pg_catalog.pg_policy as p
                    where p.polrelid = 'public.strategy_watchlists'::regclass
                      and p.polname = 'Users can delete from own strategy watchlists') then
        create policy "Users can delete from own strategy watchlists" on public.strategy_watchlists
            for delete to authenticated
            using (
                strategy_watchlists.workflow_id = any(array(
                    select ws.id
                    from public.workflow_sessions as ws
                    where ws.user_id = (select auth.uid())
                ))
            );
        comment on policy "Users can delete from own strategy watchlists" on public.strategy_watchlists is
            'Users remove markets only from their own strategies.';
    end if;
end
$$;
