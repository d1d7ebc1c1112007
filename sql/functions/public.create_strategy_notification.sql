-- public.create_strategy_notification(p_user_id, p_workflow_id, p_type, p_title, p_message,
-- p_priority, p_at): creates an in-app notification about a strategy only when
-- public.should_send_notification(p_user_id, p_type, p_at) allows it. Returns the new
-- notification's id, or NULL when the user's preferences suppress it (type disabled or quiet
-- hours). A p_workflow_id that is not one of p_user_id's strategies raises
-- invalid_parameter_value (22023) so a notification can never point at someone else's strategy.
-- Source: seed 003 §1.5 "Helper Functions".
-- SECURITY INVOKER; EXECUTE only for service_role (the executor): a user must not be able to
-- create notifications for other users.
-- Included by: migrations/strategy_execution/0007_strategy_notifications_enhancements.sql

create or replace function public.create_strategy_notification(
    p_user_id uuid,
    p_workflow_id uuid,
    p_type text,
    p_title text,
    p_message text,
    p_priority text default 'normal',
    p_at timestamptz default now()
)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_id uuid;
begin
    if p_workflow_id is not null and not exists (
        select 1
        from public.workflow_sessions as ws
        where ws.id = p_workflow_id
            and ws.user_id = p_user_id
    ) then
        raise exception 'workflow_sessions % does not belong to user %', p_workflow_id, p_user_id
            using errcode = 'invalid_parameter_value';
    end if;

    if not public.should_send_notification(p_user_id, p_type, p_at) then
        return null;
    end if;

    insert into public.notifications (user_id, workflow_id, type, priority, title, message)
    values (p_user_id, p_workflow_id, p_type, coalesce(p_priority, 'normal'), p_title, p_message)
    returning id into v_id;
    return v_id;
end;
$$;
comment on function public.create_strategy_notification(uuid, uuid, text, text, text, text, timestamptz) is
    'Create a strategy notification unless the user''s settings (enabled, quiet hours) suppress it; returns its id or NULL.';
revoke all on function public.create_strategy_notification(uuid, uuid, text, text, text, text, timestamptz)
    from public, anon, authenticated, service_role;
grant execute on function public.create_strategy_notification(uuid, uuid, text, text, text, text, timestamptz)
    to service_role;
