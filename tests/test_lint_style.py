"""DBK023: one SQL style (docs/authoring.md "One style"), for projects that opt in, with migrations
written before the rule set aside as history."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbkit import lint
from dbkit.config import load_settings
from helpers import write_project

GOOD = """\
-- 0001_app_items: the items table.
-- Source: tests/test_lint_style.py.

create table public.items (
    id bigint not null,
    qty int not null,
    constraint items_pkey primary key (id),
    constraint items_qty_positive check (qty > 0)
);
revoke all on table public.items from public;
grant select on table public.items to public;
"""
GOOD_ROLLBACK = "-- Rollback of 0001_app_items: drop the table.\ndrop table public.items;\n"


def findings(tmp_path: Path, forward: str = GOOD, rollback: str = GOOD_ROLLBACK, *, config: str = "sql_style = true\n",
             baseline: str | None = None) -> list[tuple[int, str]]:
    write_project(tmp_path, {"migrations/app/0001_app_items.sql": forward,
                             "migrations/app/0001_app_items.rollback.sql": rollback}, config=config)
    if baseline is not None:
        (tmp_path / "lint-baseline.toml").write_text(baseline)
    report = lint.lint(load_settings(tmp_path), sqlfluff=False)
    return [(f.line, f.message) for f in report.findings if f.rule == "DBK023"]


def test_a_migration_in_the_style_has_no_finding(tmp_path: Path) -> None:
    assert findings(tmp_path) == []


@pytest.mark.parametrize(("forward", "rollback", "line", "says"), [
    (GOOD.replace("-- 0001_app_items: the items table.", "-- The items table."), GOOD_ROLLBACK, 1,
     "the first line is not `-- 0001_app_items: <what it does>`"),
    (GOOD.replace("-- Source: tests/test_lint_style.py.\n", ""), GOOD_ROLLBACK, 1, "no `-- Source:"),
    (GOOD.replace("-- Source:", "-- Depends on: nothing.\n-- Source:"), GOOD_ROLLBACK, 2,
     "a dependency written as prose"),
    (GOOD.replace("constraint items_qty_positive check", "check"), GOOD_ROLLBACK, 8, "an unnamed CHECK"),
    (GOOD.replace("revoke all on table public.items from public;\n", ""), GOOD_ROLLBACK, 10,
     "GRANT on table public.items without a REVOKE"),
    (GOOD, GOOD_ROLLBACK.replace("-- Rollback of 0001_app_items:", "--"), 1, "`-- Rollback of 0001_app_items:"),
    (GOOD, GOOD_ROLLBACK.replace("drop table", "drop table if exists"), 2,
     "a transactional rollback drops with IF EXISTS"),
])
def test_each_departure_from_the_style_is_a_finding(tmp_path: Path, forward: str, rollback: str, line: int,
                                                     says: str) -> None:
    [(at, message)] = findings(tmp_path, forward, rollback)
    assert at == line and says in message


def test_if_exists_is_fine_in_a_non_transactional_rollback_or_with_a_reason(tmp_path: Path) -> None:
    forward = GOOD.replace("-- Source:", "-- transactional: false\n-- Source:")
    rollback = GOOD_ROLLBACK.replace("drop table", "drop table if exists")
    assert findings(tmp_path / "a", forward, rollback) == []
    marked = rollback.replace("drop table", "-- dbkit-allow DBK023 created only where absent\ndrop table")
    assert findings(tmp_path / "b", GOOD, marked) == []


def test_the_style_is_opt_in_and_migrations_before_it_are_history(tmp_path: Path) -> None:
    bad = GOOD.replace("-- 0001_app_items: the items table.\n", "")
    assert findings(tmp_path / "off", bad, config="") == []
    baseline = ('reason = "released"\nstyle_reason = "written before DBK023"\n'
                '[style_through]\napp = "0001_app_items"\n')
    assert findings(tmp_path / "history", bad, baseline=baseline) == []
    assert findings(tmp_path / "new", bad) != []
