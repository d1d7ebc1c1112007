-- public.update_updated_at_column(): BEFORE UPDATE trigger that stamps updated_at.
-- Source: seeds 003 (notification_settings) and 004 (automations), where it "already
-- exists"; owned here by the platform module so every module shares one definition.
-- Changed from the seeds: search_path pinned to '' (the body uses only pg_catalog).
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
