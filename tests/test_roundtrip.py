"""Revert round-trip: every migration's rollback restores the catalog it started from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbkit import engine, roundtrip
from dbkit.config import load_settings
from dbkit.ephemeral import Server
from dbkit.errors import InputError
from dbkit.project import load_project
from helpers import REPO_ROOT, write_project

PLAN = [m.id for m in load_project(load_settings(REPO_ROOT)).plan]


@pytest.fixture(scope="module")
def repository_round_trips(server: Server) -> Iterator[dict[str, roundtrip.RoundTrip]]:
    """One pass over the whole plan on a fresh database: each migration applied, rolled back, re-applied."""
    with server.database(prefix="rt_") as url:
        results = roundtrip.run_roundtrip(load_settings(REPO_ROOT, database_url=url))
        yield {r.migration: r for r in results}


def test_round_trip_covers_every_migration_of_every_module(
        repository_round_trips: dict[str, roundtrip.RoundTrip]) -> None:
    assert list(repository_round_trips) == PLAN
    modules = {m.module for m in load_project(load_settings(REPO_ROOT)).plan}
    assert {r.module for r in repository_round_trips.values()} == modules


@pytest.mark.parametrize("migration_id", PLAN)
def test_rollback_restores_the_catalog(repository_round_trips: dict[str, roundtrip.RoundTrip],
                                       migration_id: str) -> None:
    result = repository_round_trips[migration_id]
    assert result.ok, result.describe()


# ---------------------------------------------------------------- the check can fail

BASE = {
    "migrations/app/0001_app_items.sql": (
        "-- Test migration.\n"
        "create table public.items (\n"
        "    id integer primary key,\n"
        "    qty integer not null default 0 constraint items_qty_check check (qty >= 0)\n"
        ");\n"
        "comment on table public.items is 'Items.';\n"
        "insert into public.items (id) values (1);\n"
    ),
    "migrations/app/0001_app_items.rollback.sql": "-- Undo.\ndrop table public.items;\n",
}

BROKEN = {
    "an index left behind": (
        "create index idx_items_qty on public.items (qty);\n",
        "select 1;\n",
        "extra after rollback: index public.idx_items_qty",
    ),
    "a grant not revoked": (
        "grant select on table public.items to public;\n",
        "select 1;\n",
        "changed by apply+rollback: table public.items",
    ),
    "a widened check constraint not restored": (
        "alter table public.items drop constraint items_qty_check;\n"
        "alter table public.items add constraint items_qty_check check (qty >= -10);\n",
        "alter table public.items drop constraint items_qty_check;\n"
        "alter table public.items add constraint items_qty_check check (qty >= -100);\n",
        "changed by apply+rollback: constraint public.items.items_qty_check",
    ),
    "a column default not restored": (
        "alter table public.items alter column qty set default 1;\n",
        "alter table public.items alter column qty drop default;\n",
        "changed by apply+rollback: column public.items.qty",
    ),
    "a comment not restored": (
        "comment on table public.items is 'Stock items.';\n",
        "comment on table public.items is null;\n",
        "changed by apply+rollback: table public.items: before `comment=Items.",
    ),
    "a seed row not removed": (
        "insert into public.items (id) values (2);\n",
        "select 1;\n",
        "changed by apply+rollback: rows public.items",
    ),
    "a function not dropped": (
        "create function public.item_count() returns bigint language sql stable\n"
        "    as $$ select count(*) from public.items $$;\n",
        "select 1;\n",
        "extra after rollback: function public.item_count()",
    ),
    "a policy not dropped": (
        "create policy items_read on public.items for select to public using (true);\n",
        "select 1;\n",
        "extra after rollback: policy public.items.items_read",
    ),
}


def change_project(root: Path, forward: str, rollback: str) -> Path:
    return write_project(root, {
        **BASE,
        "migrations/app/0002_app_items_change.sql": "-- Test migration.\n" + forward,
        "migrations/app/0002_app_items_change.rollback.sql": "-- Undo.\n" + rollback,
    })


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_round_trip_catches_an_incomplete_rollback(tmp_path: Path, empty_url: str, case: str) -> None:
    forward, rollback, expected = BROKEN[case]
    settings = load_settings(change_project(tmp_path, forward, rollback), database_url=empty_url)
    first, second = roundtrip.run_roundtrip(settings)
    assert first.ok, first.describe()
    assert not second.ok
    assert expected in second.describe()


def test_complete_rollback_round_trips(tmp_path: Path, empty_url: str) -> None:
    forward = ("alter table public.items drop constraint items_qty_check;\n"
               "alter table public.items add constraint items_qty_check check (qty >= -10);\n"
               "grant select on table public.items to public;\n"
               "create index idx_items_qty on public.items (qty);\n")
    rollback = ("drop index public.idx_items_qty;\n"
                "revoke select on table public.items from public;\n"
                "alter table public.items drop constraint items_qty_check;\n"
                "alter table public.items add constraint items_qty_check check (qty >= 0);\n")
    settings = load_settings(change_project(tmp_path, forward, rollback), database_url=empty_url)
    assert [r.ok for r in roundtrip.run_roundtrip(settings)] == [True, True]


def test_failing_rollback_is_reported_with_its_error(tmp_path: Path, empty_url: str) -> None:
    settings = load_settings(change_project(tmp_path, "select 1;\n", "drop table public.nowhere;\n"),
                             database_url=empty_url)
    _, second = roundtrip.run_roundtrip(settings)
    assert second.error is not None and "nowhere" in second.error


def test_round_trip_refuses_a_database_with_applied_migrations(tmp_path: Path, empty_url: str) -> None:
    settings = load_settings(change_project(tmp_path, "select 1;\n", "select 1;\n"), database_url=empty_url)
    engine.apply(settings, to="0001_app_items")
    with pytest.raises(InputError, match="nothing of the project is applied"):
        roundtrip.run_roundtrip(settings)


def test_ci_round_trip_uses_a_scratch_database_and_summarises(tmp_path: Path, empty_url: str) -> None:
    forward, rollback, _ = BROKEN["an index left behind"]
    settings = load_settings(change_project(tmp_path, forward, rollback), database_url=empty_url)
    engine.apply(settings)  # the CI database itself is fully applied when the round-trip runs
    ok, detail = roundtrip.ci_roundtrip(settings)
    assert not ok
    assert detail.startswith("1 of 2 migrations did not round-trip: 0002_app_items_change: extra after rollback")
    with psycopg.connect(empty_url) as conn:
        left = conn.execute("select count(*) from pg_database where datname like 'dbkit_roundtrip_%'").fetchone()
    assert left == (0,)
