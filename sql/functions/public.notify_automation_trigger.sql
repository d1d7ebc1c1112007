-- public.notify_automation_trigger(...): the shared half of fire_lead_automations and
-- fire_conversation_automations: find the matching event automations of one account and
-- send one pg_notify('automation_trigger', payload) per automation.
-- Source: seed 004 "Database Triggers" (the matching query and the pg_notify payload).
-- Matching: user_id = p_owner_id, trigger_type 'event', enabled, status 'active',
--   trigger_config.event_source = p_event_source, trigger_config.event_type = p_event or
--   'any'. Served by idx_automations_event_match (0003_automations_tables).
-- Payload contract (JSON text on channel automation_trigger, always < 8000 bytes):
--   {"automation_id": uuid,
--    "trigger_data": {"event": "INSERT|UPDATE|DELETE", "table": p_table,
--                     "old": row|null, "new": row|null, "timestamp": now(),
--                     "truncated": false}}
--   When that text would reach PostgreSQL's 8000-byte NOTIFY payload limit, old and new
--   keep only the p_key_columns of the row, "truncated" is true and "payload_bytes" is
--   the size of the full payload: the consumer re-reads the row by id (after a DELETE only
--   the keys survive). A large row never makes the user's write fail.
-- Returns the number of notifications sent. Not callable by API roles: only the
-- SECURITY DEFINER trigger functions (running as the owner) call it.
-- Included by: migrations/automations/0004_automations_event_triggers.sql

create or replace function public.notify_automation_trigger(
    p_owner_id uuid,
    p_event_source text,
    p_event text,
    p_table text,
    p_old jsonb,
    p_new jsonb,
    p_key_columns text[]
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_trigger_data jsonb;
    v_payload text;
    v_automation_id uuid;
    v_sent integer := 0;
begin
    v_trigger_data := pg_catalog.jsonb_build_object(
        'event', p_event,
        'table', p_table,
        'old', p_old,
        'new', p_new,
        'timestamp', pg_catalog.now(),
        'truncated', false
    );

    for v_automation_id in
        select a.id
        from public.automations as a
        where a.user_id = p_owner_id
          and a.trigger_type = 'event'
          and a.enabled = true
          and a.status = 'active'
          and a.trigger_config ->> 'event_source' = p_event_source
          and (a.trigger_config ->> 'event_type' = p_event or a.trigger_config ->> 'event_type' = 'any')
    loop
        v_payload := pg_catalog.jsonb_build_object(
            'automation_id', v_automation_id,
            'trigger_data', v_trigger_data
        )::text;

        if pg_catalog.octet_length(v_payload) >= 8000 then
            v_payload := pg_catalog.jsonb_build_object(
                'automation_id', v_automation_id,
                'trigger_data', v_trigger_data
                    || pg_catalog.jsonb_build_object(
                        'old', (select pg_catalog.jsonb_object_agg(k.col, p_old -> k.col)
                                from pg_catalog.unnest(p_key_columns) as k (col)
                                where p_old is not null),
                        'new', (select pg_catalog.jsonb_object_agg(k.col, p_new -> k.col)
                                from pg_catalog.unnest(p_key_columns) as k (col)
                                where p_new is not null),
                        'truncated', true,
                        'payload_bytes', pg_catalog.octet_length(v_payload)
                    )
            )::text;
        end if;

        perform pg_catalog.pg_notify('automation_trigger', v_payload);
        v_sent := v_sent + 1;
    end loop;

    return v_sent;
end;
$$;

comment on function public.notify_automation_trigger(
    uuid, text, text, text, jsonb, jsonb, text[]
) is
'pg_notify(''automation_trigger'') once per matching event automation of p_owner_id; payloads over the 8000-byte limit keep only p_key_columns of old/new (truncated = true). Returns notifications sent.';

revoke execute on function public.notify_automation_trigger(
    uuid, text, text, text, jsonb, jsonb, text[]
) from public, anon, authenticated;
