"""dbkit knows nothing of this repository's project: a small unrelated project (other module
names, no platform module, no auth schema, its own channel and identities) goes through
new, snapshot, apply, status, verify, lint, listen and rollback with only its own files
and configuration."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from dbkit import snapshot
from dbkit.config import load_settings
from dbkit.ephemeral import Server
from dbkit.project import load_project
from helpers import run_dbkit, write_project

CONFIG = """\
modules = ["ledger", "billing"]
new_module_depends = ["0001_ledger_entries"]
listen_channel = "ledger_events"

[identities]
auditor = { role = "pg_read_all_data", label = "auditor" }
"""

ENTRIES = """\
-- 0001_ledger_entries: the ledger's bookings, announced on ledger_events.
-- Source: tests/test_unrelated_project.py.

create schema ledger;
comment on schema ledger is 'Bookings.';

create table ledger.entries (
    id bigint not null,
    amount numeric(12, 2) not null,
    constraint entries_pkey primary key (id),
    constraint entries_amount_nonzero check (amount <> 0)
);
comment on table ledger.entries is 'One row per booking.';

create function ledger.announce_entry() returns trigger
language plpgsql set search_path = '' as $$
begin
    perform pg_catalog.pg_notify('ledger_events', new.id::text);
    return new;
end
$$;
comment on function ledger.announce_entry() is 'Announces a booking.';

create trigger entries_announce after insert on ledger.entries
for each row execute function ledger.announce_entry();
"""

ENTRIES_ROLLBACK = """\
-- Rollback of 0001_ledger_entries.
drop trigger entries_announce on ledger.entries;
drop function ledger.announce_entry();
drop table ledger.entries;
drop schema ledger;
"""

INVOICES = """\
create schema billing;
comment on schema billing is 'Invoices.';

create table billing.invoices (
    id bigint not null,
    entry_id bigint not null,
    constraint invoices_pkey primary key (id),
    constraint invoices_entry_fkey foreign key (entry_id)
    references ledger.entries (id)
);
comment on table billing.invoices is 'One row per invoice, booked once.';
create index idx_invoices_entry on billing.invoices (entry_id);
"""

INVOICES_ROLLBACK = """\
drop table billing.invoices;
drop schema billing;
"""

CHECKS = """\
[[behaviour]]
id = "ledger.entries.auditor_reads"
source = "tests/test_unrelated_project.py"
as = "auditor"
sql = "select count(*) from ledger.entries"
expect = [["0"]]
"""


def _project(root: Path) -> Path:
    project = write_project(root, {
        "migrations/ledger/0001_ledger_entries.sql": ENTRIES,
        "migrations/ledger/0001_ledger_entries.rollback.sql": ENTRIES_ROLLBACK,
        "migrations/ledger/0001_ledger_entries.verify.toml": CHECKS,
    }, config=CONFIG)
    (project / "migrations/billing").mkdir()
    return project


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select nspname from pg_namespace where nspname !~ '^pg_'")}


def test_an_unrelated_project_runs_every_command_from_its_own_configuration(
        tmp_path: Path, server: Server, empty_url: str) -> None:
    project = _project(tmp_path / "bookshop")
    outputs: list[str] = []

    # new: the first migration of billing depends on what the configuration names
    new = run_dbkit("new", "billing", "invoices", cwd=project)
    assert new.exit_code == 0, new.output
    forward = project / "migrations/billing/0001_invoices.sql"
    header = forward.read_text()
    assert "-- depends: 0001_ledger_entries\n" in header
    forward.write_text(header.split("\n\n", 1)[0] + "\n\n" + INVOICES)
    (project / "migrations/billing/0001_invoices.rollback.sql").write_text(INVOICES_ROLLBACK)
    (project / "migrations/billing/0001_invoices.verify.toml").write_text("")

    # the plan follows the configured modules and the headers: ledger first
    settings = load_settings(project)
    assert [m.id for m in load_project(settings).plan] == ["0001_ledger_entries", "0001_invoices"]
    with server.database(prefix="s_") as scratch:
        scratch_settings = load_settings(project, database_url=scratch)
        snapshot.write(load_project(scratch_settings), snapshot.generate(scratch_settings))

    for args in (("apply",), ("status", "--format", "json"), ("verify", "--format", "json"), ("lint",)):
        result = run_dbkit(*args, url=empty_url, cwd=project)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    status = json.loads(outputs[1])
    assert {m["name"]: m["pending"] for m in status["modules"]} == {"ledger": [], "billing": []}
    report = json.loads(outputs[2])
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["ledger.entries.auditor_reads"]["status"] == "pass"
    assert ("listen", "ledger_events") in {(c["kind"], c["target"]) for c in report["checks"]}
    assert {"ledger", "billing"} <= _schemas(empty_url) and "auth" not in _schemas(empty_url)

    # listen: the channel comes from the configuration (none arrives in 0.2 s: exit 1 naming it)
    listen = run_dbkit("listen", "--count", "1", "--timeout", "0.2", url=empty_url, cwd=project)
    assert listen.exit_code == 1 and "'ledger_events'" in listen.stderr
    outputs.append(listen.output)

    rollback = run_dbkit("rollback", "--all", url=empty_url, cwd=project)
    assert rollback.exit_code == 0, rollback.output
    outputs.append(rollback.output)
    assert not {"ledger", "billing"} & _schemas(empty_url)
    assert not any("platform" in text or "automation_trigger" in text for text in outputs)


def test_listen_without_a_channel_or_configuration_says_what_to_do(tmp_path: Path, empty_url: str) -> None:
    project = write_project(tmp_path, {})
    result = run_dbkit("listen", "--count", "1", "--timeout", "0.2", url=empty_url, cwd=project)
    assert result.exit_code == 2
    assert "no channel given and no listen_channel" in result.stderr and "Traceback" not in result.output


def test_a_check_file_naming_an_undeclared_identity_is_refused_naming_the_file(tmp_path: Path,
                                                                             empty_url: str) -> None:
    project = _project(tmp_path / "bookshop")
    (project / "dbkit.toml").write_text(CONFIG.split("[identities]")[0])
    result = run_dbkit("verify", url=empty_url, cwd=project)
    assert result.exit_code == 2
    assert "0001_ledger_entries.verify.toml" in result.stderr
    assert "identity 'auditor' is not declared in the configuration's [identities]" in result.stderr
