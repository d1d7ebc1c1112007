-- alm_reporting.upsert_rows(regclass, text, jsonb): insert or update rows of an
-- alm_reporting table from a JSON array of objects, keyed by one unique column, so
-- re-importing a day never duplicates a row. Shared by upsert_chronological_events
-- and upsert_daily_summaries.
-- Source: seed 002 Objective ("handle incremental data updates without duplicating
-- records") and Common Issues, Issue 3 ("use ON CONFLICT clause in INSERT statements").
-- The column list is read from the catalog, so it works on an existing ALM table with
-- more columns than dbkit's minimal definition. Object keys must be column names;
-- the primary key and last_updated are assigned by the database and are rejected.
-- Returns the number of rows inserted or changed (an identical re-import returns 0 and
-- leaves last_updated alone).
-- Requires: 0002_alm_duplicate_prevention (the unique keys), platform (service_role)
create or replace function alm_reporting.upsert_rows(p_table regclass, p_key_column text, p_rows jsonb)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_keys text[];
    v_cols text[];
    v_unknown text[];
    v_update_cols text[];
    v_bad bigint;
    v_examples text;
    v_sql text;
    v_count integer;
begin
    if p_table is null or p_key_column is null then
        raise exception using errcode = 'null_value_not_allowed',
            message = 'alm_reporting.upsert_rows: table and key column are required';
    end if;
    if (select c.relnamespace from pg_catalog.pg_class c where c.oid = p_table)
       <> 'alm_reporting'::regnamespace then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('alm_reporting.upsert_rows: %s is not a table of schema alm_reporting', p_table);
    end if;
    if p_rows is null or pg_catalog.jsonb_typeof(p_rows) <> 'array' then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('alm_reporting.upsert_rows(%s): rows must be a JSON array of objects', p_table);
    end if;
    if exists (select 1 from pg_catalog.jsonb_array_elements(p_rows) e
               where pg_catalog.jsonb_typeof(e.value) <> 'object') then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('alm_reporting.upsert_rows(%s): every element must be a JSON object', p_table);
    end if;

    select pg_catalog.array_agg(distinct k.key order by k.key)
      into v_keys
      from pg_catalog.jsonb_array_elements(p_rows) e
     cross join lateral pg_catalog.jsonb_object_keys(e.value) k(key);
    if v_keys is null then
        return 0;
    end if;

    -- Columns the caller may set: real, not generated, not identity, not in the
    -- primary key, not last_updated (the trigger and the default own it).
    select pg_catalog.array_agg(a.attname::text order by a.attnum)
      into v_cols
      from pg_catalog.pg_attribute a
     where a.attrelid = p_table
       and a.attnum > 0
       and not a.attisdropped
       and a.attgenerated = ''
       and a.attidentity = ''
       and a.attname <> 'last_updated'
       and a.attname::text = any (v_keys)
       and not exists (select 1 from pg_catalog.pg_index i
                        where i.indrelid = p_table and i.indisprimary and a.attnum = any (i.indkey));
    v_unknown := array(select unnest(v_keys) except select unnest(coalesce(v_cols, '{}')) order by 1);
    if cardinality(v_unknown) > 0 then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('alm_reporting.upsert_rows(%s): keys %s are not columns the import may set',
                             p_table, array_to_string(v_unknown, ', ')),
            hint = 'Use column names; the primary key and last_updated are assigned by the database.';
    end if;
    if not (p_key_column = any (v_cols)) then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('alm_reporting.upsert_rows(%s): every row needs the key %s', p_table, p_key_column);
    end if;

    select count(*) into v_bad
      from pg_catalog.jsonb_array_elements(p_rows) e
     where e.value ->> p_key_column is null;
    if v_bad > 0 then
        raise exception using errcode = 'not_null_violation',
            message = format('alm_reporting.upsert_rows(%s): %s row(s) have no %s; such rows cannot be '
                             'imported idempotently', p_table, v_bad, p_key_column);
    end if;

    select count(*), string_agg(d.k, ', ') filter (where d.rn <= 5)
      into v_bad, v_examples
      from (select e.value ->> p_key_column as k,
                   row_number() over (order by e.value ->> p_key_column) as rn
              from pg_catalog.jsonb_array_elements(p_rows) e
             group by e.value ->> p_key_column
            having count(*) > 1) d;
    if v_bad > 0 then
        raise exception using errcode = 'cardinality_violation',
            message = format('alm_reporting.upsert_rows(%s): %s %s value(s) occur more than once in one batch, e.g. %s',
                             p_table, v_bad, p_key_column, v_examples);
    end if;

    v_update_cols := array(select unnest(v_cols) except select p_key_column);
    v_sql := format('insert into %s as t (%s) select %s from pg_catalog.jsonb_populate_recordset(null::%s, $1) ',
                    p_table,
                    (select string_agg(format('%I', c), ', ') from unnest(v_cols) c),
                    (select string_agg(format('%I', c), ', ') from unnest(v_cols) c),
                    p_table);
    if cardinality(v_update_cols) = 0 then
        v_sql := v_sql || format('on conflict (%I) do nothing', p_key_column);
    else
        v_sql := v_sql || format(
            'on conflict (%I) do update set (%s) = row(%s) where row(%s) is distinct from row(%s)',
            p_key_column,
            (select string_agg(format('%I', c), ', ') from unnest(v_update_cols) c),
            (select string_agg(format('excluded.%I', c), ', ') from unnest(v_update_cols) c),
            (select string_agg(format('t.%I::text', c), ', ') from unnest(v_update_cols) c),
            (select string_agg(format('excluded.%I::text', c), ', ') from unnest(v_update_cols) c));
    end if;
    execute v_sql using p_rows;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
comment on function alm_reporting.upsert_rows(regclass, text, jsonb) is
    'Idempotent import of JSON rows into an alm_reporting table by one unique key; returns rows inserted or changed.';
revoke all on function alm_reporting.upsert_rows(regclass, text, jsonb) from public, anon, authenticated, service_role;
grant execute on function alm_reporting.upsert_rows(regclass, text, jsonb) to service_role;
