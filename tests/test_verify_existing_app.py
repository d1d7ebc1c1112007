"""An existing application that baselined the modules' first migrations: its own tables (with their
extra columns, indexes and defaults) are checked only for what the modules use, and verify passes."""

from __future__ import annotations

import psycopg

from dbkit.config import load_settings
from dbkit.verify import verify
from helpers import REPO_ROOT


def test_verify_passes_on_a_baselined_existing_application(existing_app_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=existing_app_url))
    problems = [f"{c.status} {c.id}: {c.message}" for c in report.checks if c.status in ("fail", "warn")]
    assert problems == [], "\n".join(problems)
    checks = {c.id: c for c in report.checks}
    assert checks["automations.prerequisite.table.public.leads"].status == "pass"
    assert checks["strategy_execution.prerequisite.column.public.notifications.title"].status == "pass"  # varchar~text
    assert "(baselined)" in checks["automations.migration.0001_automations_base_tables"].actual


def test_a_column_the_modules_use_missing_from_the_application_fails(existing_app_url: str) -> None:
    with psycopg.connect(existing_app_url, autocommit=True) as conn:
        conn.execute("alter table public.leads rename column user_id to owner_id")
    report = verify(load_settings(REPO_ROOT, database_url=existing_app_url), module="automations")
    failed = {c.id: c.message for c in report.checks if c.status == "fail"}
    assert failed["automations.prerequisite.column.public.leads.user_id"] == (
        "column public.leads.user_id does not exist; the modules need it")
