-- dbkit's own bookkeeping, beside yoyo-migrations' tables in schema dbkit.
-- yoyo records *that* a migration ran (its "hash" is a hash of the id); these two
-- tables record *what* ran, so an applied file edited afterwards is detected.
-- Kept out of public so that an API layer exposing public (Supabase) never serves it.
create table if not exists dbkit.migration_checksum (
    migration_id text primary key,
    module text not null,
    checksum text not null,
    applied_at timestamptz not null default now(),
    applied_by text not null default current_user,
    baselined boolean not null default false
);

create table if not exists dbkit.file_checksum (
    path text primary key,
    owner_migration text not null,
    checksum text not null,
    applied_at timestamptz not null default now(),
    applied_by text not null default current_user
);
