-- public.prevent_owner_change(): BEFORE UPDATE OF <owner column> trigger that refuses to move
-- a row to another owner (SQLSTATE 42501). The owner column is the trigger's argument.
-- Source: issue 13 ("Ownership can be moved"); docs/decisions.md "Ownership never moves".
-- An UPDATE that names the column but keeps its value (PostgREST's upsert sets every column
-- it is sent) passes; only a different value is refused, for every role including
-- service_role: a client's rules, orders and logs, and a user's notifications, stay with
-- them. A DBA who must re-home data disables the trigger for that transaction on purpose.
-- EXECUTE revoked from PUBLIC and the API roles (a trigger fires without it).
-- Included by 0013_wealth_tenant_references.
create or replace function public.prevent_owner_change()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_column text := tg_argv[0];
begin
    if v_column is null then
        raise exception 'trigger % on %.% must name the owner column as its argument',
            tg_name, tg_table_schema, tg_table_name using errcode = '22023';
    end if;
    if (pg_catalog.to_jsonb(new) -> v_column) is distinct from (pg_catalog.to_jsonb(old) -> v_column) then
        raise exception '%.%.% cannot be changed: a row never moves to another owner',
            tg_table_schema, tg_table_name, v_column
            using errcode = '42501', hint = 'Create the row for the new owner instead.';
    end if;
    return new;
end;
$$;
comment on function public.prevent_owner_change() is
'BEFORE UPDATE OF <owner column> trigger (argument: the column): refuses a different owner with 42501.';
revoke all on function public.prevent_owner_change() from public, anon, authenticated, service_role;
