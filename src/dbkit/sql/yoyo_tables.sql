-- yoyo-migrations' own tables in schema dbkit, created by dbkit on a database that has none:
-- the layout yoyo-migrations (>= 6, internal schema version 2) creates itself in
-- yoyo/internalmigrations/v2.py and yoyo/backends/base.py (create_lock_table_sql), column
-- for column, with the row of _yoyo_version that says so. `yoyo list` and `yoyo apply` read
-- them as their own and upgrade nothing. Written here instead of importing yoyo for it
-- (its import and second connection cost a fresh apply ~0.2 s; issue 19).
-- tests/test_engine.py compares these tables with the ones yoyo creates, column by column.
create table dbkit._yoyo_log (
    "id" varchar(36),
    "migration_hash" varchar(64),
    "migration_id" varchar(255),
    "operation" varchar(10),
    "username" varchar(255),
    "hostname" varchar(255),
    "comment" varchar(255),
    "created_at_utc" timestamp,
    primary key ("id")
);

create table dbkit._yoyo_version (
    "version" int not null primary key,
    "installed_at_utc" timestamp
);

insert into dbkit._yoyo_version values (2, pg_catalog.now() at time zone 'UTC');

create table dbkit._yoyo_migration (
    "migration_hash" varchar(64),
    "migration_id" varchar(255),
    "applied_at_utc" timestamp,
    primary key ("migration_hash")
);

create table if not exists dbkit.yoyo_lock (
    "locked" int default 1,
    "ctime" timestamp,
    "pid" int not null,
    primary key ("locked")
);
