-- public.set_strategy_watchlist_user_id(): BEFORE INSERT OR UPDATE OF workflow_id trigger on
-- public.strategy_watchlists that fills the row's owner (user_id) from its strategy
-- (public.workflow_sessions.user_id), so the document's INSERTs, which name no owner, keep
-- working, and a service_role move of a row to another strategy carries the new owner.
-- Source: seed 003 §1.2 (strategy_watchlists and its RLS); issue 19 (a workflow's watchlist
-- under RLS); 0016_strategy_watchlists_owner.
--   * INSERT without user_id (every document and application INSERT): the strategy's owner;
--   * UPDATE that changes workflow_id but not user_id (service_role moves a row): the new
--     strategy's owner;
--   * a writer that names user_id itself (service_role; authenticated is not granted the
--     column) keeps its value, and the same-owner key strategy_watchlists_workflow_owner_fkey
--     (workflow_id, user_id) -> workflow_sessions (id, user_id) refuses a wrong one (23503).
-- The lookup runs with the writer's rights: an authenticated caller reads only their own
-- strategies (RLS), so for another user's strategy it finds none, and the INSERT policy
-- refuses the row (42501) before NOT NULL is checked. SECURITY INVOKER, search_path pinned,
-- every name schema-qualified. EXECUTE revoked from everyone: a trigger fires without it.
-- Included by 0016_strategy_watchlists_owner.
create or replace function public.set_strategy_watchlist_user_id()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if tg_op = 'INSERT' and new.user_id is not null then
        return new;
    end if;
    if tg_op = 'UPDATE' and (new.workflow_id is not distinct from old.workflow_id
                             or new.user_id is distinct from old.user_id) then
        return new;
    end if;
    select ws.user_id into new.user_id
    from public.workflow_sessions as ws
    where ws.id = new.workflow_id;
    return new;
end;
$$;
comment on function public.set_strategy_watchlist_user_id() is
'BEFORE INSERT/UPDATE OF workflow_id trigger on strategy_watchlists: user_id is the owner of the row''s strategy unless the writer named it (the same-owner key checks it).';
revoke all on function public.set_strategy_watchlist_user_id() from public, anon, authenticated, service_role;
