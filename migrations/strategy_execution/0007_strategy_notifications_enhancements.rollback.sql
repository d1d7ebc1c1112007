-- Rollback of 0007_strategy_notifications_enhancements: drops create_strategy_notification,
-- the priority CHECK and workflow_id, and restores the previous type constraint.
-- Refuses while notifications of the 7 strategy types exist (the old constraint forbids them).
-- Source: seed 003 §1.5 ("Rollback SQL included in comments").

drop function public.create_strategy_notification(uuid, uuid, text, text, text, text, timestamptz);

do $$
declare
    v_rows bigint;
begin
    select count(*) into v_rows
    from public.notifications
    where type in (
        'strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error',
        'watchlist_updated', 'execution_completed', 'execution_failed'
    );
    if v_rows > 0 then
        raise exception 'cannot roll back 0007_strategy_notifications_enhancements: % notifications row(s) have a strategy notification type, which the previous type constraint forbids', v_rows
            using errcode = 'check_violation',
                hint = 'Delete those notifications first.';
    end if;
end
$$;
alter table public.notifications
    drop constraint notifications_type_check;
alter table public.notifications
    add constraint notifications_type_check
    check (type in ('info', 'success', 'warning', 'error', 'system'));

alter table public.notifications
    drop constraint notifications_priority_check;

alter table public.notifications
    drop column workflow_id;
