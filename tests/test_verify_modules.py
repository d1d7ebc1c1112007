"""Every module verifies on a freshly applied database, read-only and with writes, and the
committed catalog snapshots are what the SQL produces.

This is the contract between the module SQL, its catalog.json and its check files: when
it fails, the message lists each failed check with its have/want, so the module's owner
can see whether the SQL, the snapshot (regenerate with `dbkit snapshot`) or a check is wrong.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from junitparser import Failure, JUnitXml

from dbkit import checkfiles, snapshot
from dbkit.config import load_settings
from dbkit.project import load_project
from dbkit.verify import VerifyReport, verify
from helpers import REPO_ROOT, row_counts_and_sequences, run_dbkit

MODULES = sorted(p.name for p in (REPO_ROOT / "migrations").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _problems(report: VerifyReport) -> list[str]:
    return [f"{c.status} {c.id}: {c.message}" for c in report.checks if c.status in ("fail", "warn")]


@pytest.mark.parametrize("module", MODULES)
def test_module_checks_pass_on_a_fresh_apply(module: str, migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url), module=module)
    assert _problems(report) == [], "\n".join(_problems(report))
    assert any(c.status == "pass" and c.kind not in ("migration", "snapshot") for c in report.checks)


def test_whole_database_verifies_read_only_without_failures_warnings_or_drift(migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url))
    assert _problems(report) == [], "\n".join(_problems(report))
    kinds = {c.kind for c in report.checks if c.status == "pass"}
    assert kinds >= {"table", "index", "constraint", "policy", "function", "trigger", "privilege", "prerequisite",
                     "behaviour", "row", "plan", "listen"}


def test_whole_database_verifies_with_writes(migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url), writes=True)
    assert _problems(report) == [], "\n".join(_problems(report))
    assert sum(1 for c in report.checks if c.kind == "rls" and c.status == "pass") > 100


def test_read_only_verify_changes_no_row_sequence_or_statistic(migrated_url: str) -> None:
    # The planner's statistics of the database's own tables (pg_catalog's are left out: the
    # VACUUM ANALYZE below writes pg_statistic and pg_class, which autovacuum may then
    # vacuum while verify runs, changing their reltuples whatever verify does).
    stats = ("select c.oid::regclass::text, c.reltuples, c.relpages, s.analyze_count, s.autoanalyze_count "
             "from pg_class c join pg_stat_user_tables s on s.relid = c.oid order by 1")
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")  # nothing left for autovacuum to change while verify runs
        before = (row_counts_and_sequences(migrated_url), conn.execute(stats).fetchall())
    verify(load_settings(REPO_ROOT, database_url=migrated_url))
    with psycopg.connect(migrated_url) as conn:
        assert (row_counts_and_sequences(migrated_url), conn.execute(stats).fetchall()) == before


def test_listen_check_names_the_login_roles_for_the_channel_the_sql_uses(migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url), module="automations")
    listen = {c.id: c for c in report.checks if c.kind == "listen"}
    channels = {c for m, c in snapshot.notify_channels(load_project(load_settings(REPO_ROOT))) if m.module == "automations"}
    assert set(listen) == {f"automations.listen.{c}" for c in channels} and "automation_trigger" in channels
    assert "login role(s) can LISTEN: " in listen["automations.listen.automation_trigger"].actual
    assert "postgres" in listen["automations.listen.automation_trigger"].actual


def test_committed_snapshots_are_what_the_sql_produces(empty_url: str) -> None:
    settings = load_settings(REPO_ROOT, database_url=empty_url)
    generated = snapshot.generate(settings)
    stale = snapshot.stale(load_project(settings), generated)
    assert stale == [], f"stale: {stale}; run `dbkit snapshot` and commit the files"


def test_channels_are_read_from_the_sql() -> None:
    project = load_project(load_settings(REPO_ROOT))
    found = {(m.module, c) for m, c in snapshot.notify_channels(project)}
    assert ("automations", "automation_trigger") in found and {m for m, _ in found} == {"automations"}


def test_verify_of_an_empty_database_reports_pending_migrations_and_writes_the_junit(empty_url: str,
                                                                                     tmp_path: Path) -> None:
    out = tmp_path / "verify.xml"
    result = run_dbkit("verify", "--format", "junit", "--output", str(out), url=empty_url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    failures = {case.name for suite in JUnitXml.fromfile(str(out)) for case in suite
                if any(isinstance(r, Failure) for r in case.result)}
    assert "platform.migration.0001_platform_auth_shim" in failures
    assert all(".migration." in name for name in failures), failures


def test_verify_of_a_partly_migrated_database_checks_what_is_applied(empty_url: str) -> None:
    assert run_dbkit("apply", "--module", "alm_reporting", url=empty_url).exit_code == 0
    report = verify(load_settings(REPO_ROOT, database_url=empty_url))
    failed = {c.id for c in report.checks if c.status == "fail"}
    assert failed and all(".migration." in i and not i.startswith("alm_reporting.") for i in failed), failed
    assert any(c.module == "alm_reporting" and c.kind == "table" and c.status == "pass" for c in report.checks)
    skipped = {c.id: c.message for c in report.checks if c.status == "skipped"}
    assert skipped["strategy.watchlist.duplicate_rejected"].endswith("is not applied")


def test_verify_that_cannot_connect_still_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "verify.xml"
    result = run_dbkit("verify", "--format", "junit", "--output", str(out), url="postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.output
    cases = [case for suite in JUnitXml.fromfile(str(out)) for case in suite]
    assert [case.name for case in cases] == ["verify.could_not_run"]


# ---------------------------------------------------------------- the hand-written checks can fail

# One deliberate breakage per module, of what its hand-written checks guard (the policies where
# the module has them), and the hand-written checks that must catch it with writes.
BREAKAGES = {
    "wealth_automation": ("alter policy goals_select_own on public.goals using (true)",
                          {"wealth_automation.rls.public.goals.stranger.select"}),
    "strategy_execution": ('alter policy "Users can view own strategy watchlists" on public.strategy_watchlists '
                           "using (true)",
                           {"strategy_execution.rls.public.strategy_watchlists.stranger.select"}),
    "automations": ("alter policy agents_select_account on public.agents using (true)",
                    {"automations.rls.public.agents.stranger.select"}),
    "alm_reporting": ("grant usage on schema alm_reporting to anon; grant select on alm_reporting.import_history to anon",
                      {"alm.privileges.anon_cannot_read_import_history"}),
    "platform": ("create or replace function auth.uid() returns uuid language sql stable as $$ select null::uuid $$",
                 {"platform.auth_uid_reads_jwt_claims", "platform.auth_uid_reads_legacy_claim_sub"}),
}


@pytest.mark.parametrize("module", sorted(BREAKAGES))
def test_a_deliberate_breakage_fails_the_modules_hand_written_checks(module: str, migrated_url: str) -> None:
    statement, caught = BREAKAGES[module]
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(statement)
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url), module=module, writes=True)
    failed = {c.id for c in report.checks if c.status == "fail" and c.kind in ("rls", "behaviour", "row")}
    assert caught <= failed, f"not caught: {caught - failed}"


def test_every_rls_matrix_sits_at_or_after_the_change_that_last_defined_its_table() -> None:
    """A matrix states who may do what as a migration leaves it: it sits beside the migration that
    last changed its table's privileges or policies (per catalog.json), or a later one."""
    settings = load_settings(REPO_ROOT)
    project = load_project(settings)
    misplaced = []
    for module in project.modules:
        objects = (snapshot.load(project, module.name) or snapshot.ModuleSnapshot(module.name)).objects
        for change, table, _ in checkfiles.load_module(module, identities=settings.identities).rls():
            defined = [o.migration for o in objects.values()
                       if (o.kind == "table" and o.name == table) or (o.kind == "policy" and o.table == table)]
            if defined and change.migration < max(defined):
                misplaced.append(f"{table} in {change.migration}, defined by {max(defined)}")
    assert misplaced == []
