-- 0016_strategy_watchlists_owner: strategy_watchlists carries its strategy's owner (user_id),
-- kept equal to workflow_sessions.user_id by the database, and the SELECT and DELETE policies
-- filter on it; built on a populated table without blocking its reads and writes.
-- Source: seed 003 §1.2 (strategy_watchlists, its RLS, "Performance Considerations" 2: the
-- watchlist lookup); issue 19 (a workflow's watchlist under RLS: the policy's array of the
-- caller's strategy ids made PostgreSQL 15 run one btree search per id; docs/benchmarks.md).
-- What keeps user_id true, for every writer (service_role and triggers included):
--   * the trigger set_strategy_watchlists_user_id fills it from the row's strategy on INSERT
--     (the document's INSERTs do not name it) and when an UPDATE moves the row to another
--     strategy (public.set_strategy_watchlist_user_id);
--   * the same-owner key strategy_watchlists_workflow_owner_fkey (workflow_id, user_id) ->
--     workflow_sessions (id, user_id) (unique key workflow_sessions_id_user_id_key, 0009)
--     refuses any other value and, ON UPDATE CASCADE, follows a strategy handed to another
--     user; ON DELETE CASCADE like the document's workflow_id key;
--   * NOT NULL (the validated CHECK strategy_watchlists_user_id_not_null).
-- Steps, each in its own transaction (-- transactional: false), none holding a lock that
-- queues the application's statements for longer than a catalog change:
--   1. the column, nullable and without a default (a catalog change, no rewrite);
--   2. the trigger function and the trigger (new and moved rows get their owner from now on);
--   3. the same-owner key NOT VALID (no scan; enforced for every row written from now on,
--      MATCH SIMPLE skips the rows whose user_id is still NULL);
--   4. the backfill, 2,000 rows per transaction in primary-key order, each batch committed
--      (row locks on 2,000 rows for one short UPDATE; a run that stopped resumes where rows
--      still lack user_id);
--   5. NOT NULL as a CHECK (user_id is not null), added NOT VALID and validated under SHARE
--      UPDATE EXCLUSIVE (reads and writes go on); not SET NOT NULL, which takes ACCESS
--      EXCLUSIVE once more for no gain the CHECK does not give;
--   6. the key validated (SHARE UPDATE EXCLUSIVE);
--   7. idx_strategy_watchlists_user_workflow (user_id, workflow_id, added_at desc), built
--      CONCURRENTLY: it serves "my watchlist rows" and "a workflow's watchlist, newest first"
--      under the policy, and the key's lookups;
--   8. the SELECT and DELETE policies in their owner form (included file, one transaction).
-- Re-runnable: every step checks for its object or is a no-op when done.
-- Rehearsed with `dbkit rehearse` (docs/benchmarks.md "Issue 19").
-- transactional: false

alter table public.strategy_watchlists add column if not exists user_id uuid;

comment on column public.strategy_watchlists.user_id is
    'Owner of the row''s strategy (workflow_sessions.user_id); filled by trigger set_strategy_watchlists_user_id, held by strategy_watchlists_workflow_owner_fkey.';

-- include: sql/functions/public.set_strategy_watchlist_user_id.sql

do $$
begin
    if not exists (select 1 from pg_catalog.pg_trigger t
                    where t.tgrelid = 'public.strategy_watchlists'::regclass
                      and t.tgname = 'set_strategy_watchlists_user_id') then
        create trigger set_strategy_watchlists_user_id
            before insert or update of workflow_id on public.strategy_watchlists
            for each row execute function public.set_strategy_watchlist_user_id();
    end if;
end
$$;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_constraint c
                    where c.conrelid = 'public.strategy_watchlists'::regclass
                      and c.conname = 'strategy_watchlists_workflow_owner_fkey') then
        alter table public.strategy_watchlists
            add constraint strategy_watchlists_workflow_owner_fkey
            foreign key (workflow_id, user_id) references public.workflow_sessions (id, user_id)
            on update cascade on delete cascade
            not valid;
    end if;
end
$$;

comment on constraint strategy_watchlists_workflow_owner_fkey on public.strategy_watchlists is
    'user_id is the owner of the row''s strategy; follows the strategy to a new owner (ON UPDATE CASCADE).';

do $$
declare
    v_last uuid := '00000000-0000-0000-0000-000000000000';
    v_ids uuid[];
begin
    loop
        select pg_catalog.array_agg(b.id order by b.id)
          into v_ids
          from (select w.id
                  from public.strategy_watchlists as w
                 where w.id > v_last
                 order by w.id
                 limit 2000) as b;
        exit when v_ids is null;
        v_last := v_ids[pg_catalog.array_length(v_ids, 1)];
        update public.strategy_watchlists as w
           set user_id = ws.user_id
          from public.workflow_sessions as ws
         where w.id = any (v_ids)
           and w.user_id is null
           and ws.id = w.workflow_id;
        commit;
    end loop;
end
$$;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_constraint c
                    where c.conrelid = 'public.strategy_watchlists'::regclass
                      and c.conname = 'strategy_watchlists_user_id_not_null') then
        alter table public.strategy_watchlists
            add constraint strategy_watchlists_user_id_not_null check (user_id is not null) not valid;
    end if;
end
$$;

comment on constraint strategy_watchlists_user_id_not_null on public.strategy_watchlists is
    'user_id is NOT NULL (a validated CHECK: added without a scan, validated without blocking writes).';

alter table public.strategy_watchlists validate constraint strategy_watchlists_user_id_not_null;

alter table public.strategy_watchlists validate constraint strategy_watchlists_workflow_owner_fkey;

drop index concurrently if exists public.idx_strategy_watchlists_user_workflow;

create index concurrently idx_strategy_watchlists_user_workflow
    on public.strategy_watchlists using btree (user_id, workflow_id, added_at desc);

comment on index public.idx_strategy_watchlists_user_workflow is
    'The SELECT/DELETE policies'' user_id = auth.uid(), a workflow''s watchlist newest first under them, and strategy_watchlists_workflow_owner_fkey''s lookups.';

-- include: sql/policies/public.strategy_watchlists.owner.sql
