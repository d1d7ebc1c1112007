-- 0001_alm_base_tables: schema alm_reporting and minimal definitions of the two
-- existing ALM tables that seed 002 modifies (chronological_events, daily_summary).
-- Source: seed 002 "Module 1: Database Schema Updates", Step 4 ("Modify existing
-- tables") and Common Issues, Issue 2 (create schema if absent).
-- An existing ALM database already has these tables: it marks this migration as
-- applied with `dbkit baseline --module alm_reporting --through 0001_alm_base_tables`.
-- The statements are guarded anyway, so running it there changes nothing but the
-- comments (it creates no index on columns such a table may name differently).
-- Only the columns the document uses (source_transaction_id, summary_date) plus what
-- such a table needs (key, event time and type, NAV figures, created_at) are defined;
-- last_updated, the unique constraints and the grants come in
-- 0002_alm_duplicate_prevention, which every database runs (baselined or not).
-- depends: 0001_platform_auth_shim

create schema if not exists alm_reporting;
comment on schema alm_reporting is
    'ALM reporting: imported broker events, daily summaries and the import bookkeeping of seed 002.';

create table if not exists alm_reporting.chronological_events (
    id bigserial primary key,
    event_timestamp timestamp not null,
    event_type varchar(50) not null,
    source_transaction_id varchar(100),
    created_at timestamp default current_timestamp
);
comment on table alm_reporting.chronological_events is
    'ALM event ledger in time order; one row per broker event (minimal definition, seed 002 Step 4).';
comment on column alm_reporting.chronological_events.source_transaction_id is
    'Broker transaction id; the natural key of an imported event (null for events without one).';

create table if not exists alm_reporting.daily_summary (
    id serial primary key,
    summary_date date not null,
    opening_nav numeric(18, 2),
    closing_nav numeric(18, 2),
    created_at timestamp default current_timestamp
);
comment on table alm_reporting.daily_summary is
    'One ALM summary per trading day (minimal definition, seed 002 Step 4).';
comment on column alm_reporting.daily_summary.summary_date is
    'The trading day summarised; unique from 0002_alm_duplicate_prevention on.';
