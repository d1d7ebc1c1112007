-- Rollback of 0016_strategy_watchlists_owner: the SELECT and DELETE policies of
-- strategy_watchlists in their previous form (the array of the caller's strategy ids, as
-- sql/policies/public.strategy_watchlists.sql created them before 0016), then the owner
-- column with its index, key, trigger and trigger function dropped.
-- Source: seed 003 §1.2 "RLS Policies"; issue 19.
-- Each policy is replaced inside one DO block, so no statement ever sees the table without
-- it. Re-runnable (-- transactional: false): every drop says if exists.
-- transactional: false

do $$
begin
    drop policy if exists "Users can view own strategy watchlists" on public.strategy_watchlists;
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
end
$$;

do $$
begin
    drop policy if exists "Users can delete from own strategy watchlists" on public.strategy_watchlists;
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
end
$$;

drop index concurrently if exists public.idx_strategy_watchlists_user_workflow;

alter table public.strategy_watchlists drop constraint if exists strategy_watchlists_workflow_owner_fkey;

alter table public.strategy_watchlists drop constraint if exists strategy_watchlists_user_id_not_null;

drop trigger if exists set_strategy_watchlists_user_id on public.strategy_watchlists;

drop function if exists public.set_strategy_watchlist_user_id();

alter table public.strategy_watchlists drop column if exists user_id;
