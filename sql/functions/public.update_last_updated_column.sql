-- public.update_last_updated_column(): BEFORE UPDATE trigger that stamps last_updated.
-- Source: seed 002, Step 4 ("update_last_updated_column"), used by the ALM tables
-- chronological_events and daily_summary. Changed from the seed: search_path pinned; EXECUTE
-- revoked from PUBLIC and the API roles (trigger functions fire without it; see
-- public.update_updated_at_column.sql).
create or replace function public.update_last_updated_column()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.last_updated := now();
    return new;
end;
$$;

comment on function public.update_last_updated_column() is
'Trigger: sets NEW.last_updated to now() on every UPDATE.';
revoke all on function public.update_last_updated_column() from public, anon, authenticated, service_role;
