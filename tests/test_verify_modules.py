"""Every module's expectations pass on a freshly applied database.

This is the contract between the module SQL and its expectations.toml: when it fails,
the message lists each failed check with its have/want, so the module's owner can see
whether the SQL or the expectation is wrong.
"""

from __future__ import annotations

import psycopg
import pytest

from dbkit.config import load_settings
from dbkit.verify import verify
from helpers import REPO_ROOT, run_dbkit, row_counts_and_sequences

MODULES = sorted(p.name for p in (REPO_ROOT / "migrations").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


@pytest.mark.parametrize("module", MODULES)
def test_module_checks_pass_on_a_fresh_apply(module: str, migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url), module=module)
    failed = [f"{c.id}: {c.message}" for c in report.checks if c.status == "fail"]
    assert failed == [], "\n".join(failed)
    assert any(c.status == "pass" and c.kind != "migration" for c in report.checks), "no check of this module ran"


def test_whole_database_verifies_without_failures_or_drift(migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url))
    failed = [f"{c.id}: {c.message}" for c in report.checks if c.status == "fail"]
    drift = [c.id for c in report.checks if c.kind == "drift"]
    assert failed == [], "\n".join(failed)
    assert drift == [], "objects no module declares:\n" + "\n".join(drift)


def test_full_verify_changes_no_rows_and_advances_only_sequences_of_tables_it_writes(migrated_url: str) -> None:
    import psycopg

    from dbkit.project import load_project
    from dbkit.verify import load_expectations

    def state() -> tuple[dict[str, int], dict[str, int | None]]:
        return row_counts_and_sequences(migrated_url)

    settings = load_settings(REPO_ROOT, database_url=migrated_url)
    counts_before, seqs_before = state()
    verify(settings)
    counts_after, seqs_after = state()
    assert counts_after == counts_before
    advanced = sorted(name for name in seqs_after if seqs_after[name] != seqs_before.get(name))
    mods, _ = load_expectations(load_project(settings))
    written = " ".join(
        text or ""
        for m in mods
        for text in [*(b.setup for b in m.behaviour), *(b.sql for b in m.behaviour),
                     *(x.setup for x in m.rls), *(sql for x in m.rls for _, sql in x.statements),
                     *(p.setup for p in m.plans)]
    )
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        owners: dict[str, str] = dict(conn.execute(
            "select format('%I.%I', sn.nspname, s.relname), t.relname from pg_depend d "
            "join pg_class s on s.oid = d.objid and s.relkind = 'S' join pg_namespace sn on sn.oid = s.relnamespace "
            "join pg_class t on t.oid = d.refobjid where d.deptype in ('a', 'i')").fetchall())
    unexplained = [seq for seq in advanced if owners.get(seq, "?") not in written]
    assert unexplained == [], f"verify advanced sequences of tables no check writes to: {unexplained}"


def test_plan_checks_leave_the_planner_statistics_of_the_real_data(migrated_url: str) -> None:
    """Seeded rows + ANALYZE inside a rolled-back transaction would otherwise leave
    pg_class.reltuples at the seeded count (ANALYZE updates it in place)."""
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute("analyze public.workflow_sessions")
        before = conn.execute("select reltuples from pg_class where oid = 'public.workflow_sessions'::regclass").fetchone()
    run_dbkit("verify", "--module", "strategy_execution", url=migrated_url)
    with psycopg.connect(migrated_url) as conn:
        after = conn.execute("select reltuples from pg_class where oid = 'public.workflow_sessions'::regclass").fetchone()
    assert after == before
