-- public.update_updated_at_column(): BEFORE UPDATE trigger that stamps updated_at.
-- Source: seeds 003 (notification_settings) and 004 (automations), where it "already
-- exists"; owned here by the platform module so every module shares one definition.
-- Changed from the seeds: search_path pinned to '' (the body uses only pg_catalog); EXECUTE
-- revoked from PUBLIC and the API roles. A trigger function is never called directly and fires
-- without its caller holding EXECUTE; an API role holding it could attach it to a table it has
-- TRIGGER on (Supabase's default privileges grant both) and break every insert of that table.
create or replace function public.update_updated_at_column()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

comment on function public.update_updated_at_column() is
'Trigger: sets NEW.updated_at to now() on every UPDATE.';
revoke all on function public.update_updated_at_column() from public, anon, authenticated, service_role;
