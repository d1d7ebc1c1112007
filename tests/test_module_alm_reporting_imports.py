"""Module alm_reporting (seed 002): the append-mode import functions.

Every call runs as service_role (the only role granted EXECUTE), through a connection to
a freshly migrated database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dbkit.identity import Identity, act_as

DAY = "2025-07-18"
EVENTS = [
    {"source_transaction_id": "T-1", "event_timestamp": "2025-07-18T14:30:00", "event_type": "TRADE"},
    {"source_transaction_id": "T-2", "event_timestamp": "2025-07-18T15:00:00", "event_type": "FEE"},
    {"source_transaction_id": "T-3", "event_timestamp": "2025-07-18T16:00:00", "event_type": "DIVIDEND"},
]


class Executes(Protocol):
    def execute(self, query: str, params: Any = None) -> psycopg.Cursor[Any]: ...


class ServiceRoleCalls:
    """The importer's calls as the API makes them: each statement in its own transaction as
    service_role (``dbkit.identity.act_as``), committed, or rolled back when refused, so a test
    goes on after a refused call as the importer does."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, query: str, params: Any = None) -> psycopg.Cursor[Any]:
        with self.conn.transaction():
            cur = self.conn.cursor()
            act_as(cur, Identity("service_role"))
            return cur.execute(query, params)


@pytest.fixture
def db(migrated_url: str) -> Iterator[ServiceRoleCalls]:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        yield ServiceRoleCalls(conn)


def _one(conn: Executes, query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def _import_events(conn: Executes, events: list[dict[str, Any]]) -> int:
    return int(_one(conn, "select alm_reporting.upsert_chronological_events(%s)", (Jsonb(events),)))


def test_reimporting_a_day_creates_no_duplicate_events(db: ServiceRoleCalls) -> None:
    assert _import_events(db, EVENTS) == 3

    assert _import_events(db, EVENTS) == 0

    assert _one(db, "select count(*) from alm_reporting.chronological_events") == 3


def test_reimport_updates_a_changed_event_in_place_and_stamps_last_updated(db: ServiceRoleCalls) -> None:
    for event in EVENTS:  # imported long ago (an UPDATE cannot backdate: the trigger stamps it)
        db.execute("insert into alm_reporting.chronological_events "
                   "(source_transaction_id, event_timestamp, event_type, last_updated) "
                   "values (%(source_transaction_id)s, %(event_timestamp)s, %(event_type)s, '2000-01-01')", event)
    changed = [dict(EVENTS[1], event_type="COMMISSION"), EVENTS[0]]

    assert _import_events(db, changed) == 1

    rows = db.execute("select source_transaction_id, event_type, last_updated > '2000-01-01' "
                      "from alm_reporting.chronological_events order by 1").fetchall()
    assert rows == [("T-1", "TRADE", False), ("T-2", "COMMISSION", True), ("T-3", "DIVIDEND", False)]


def test_reimporting_a_summary_updates_the_one_row_of_that_date(db: ServiceRoleCalls) -> None:
    upsert = "select alm_reporting.upsert_daily_summaries(%s)"
    assert _one(db, upsert, (Jsonb([{"summary_date": DAY, "closing_nav": "100.00"}]),)) == 1
    assert _one(db, upsert, (Jsonb([{"summary_date": DAY, "closing_nav": "100.00"}]),)) == 0

    assert _one(db, upsert, (Jsonb([{"summary_date": DAY, "closing_nav": "101.50"}]),)) == 1

    assert db.execute("select summary_date::text, closing_nav::text from alm_reporting.daily_summary").fetchall() == [
        (DAY, "101.50")
    ]


@pytest.mark.parametrize(
    ("rows", "sqlstate", "words"),
    [
        ([{"event_type": "TRADE", "event_timestamp": "2025-07-18T10:00:00"}], "22023", "every row needs the key"),
        ([{"source_transaction_id": None, "event_type": "X", "event_timestamp": "2025-07-18T10:00:00"},
          {"source_transaction_id": "T-9", "event_type": "X", "event_timestamp": "2025-07-18T10:00:00"}],
         "23502", "1 row(s) have no source_transaction_id"),
        ([EVENTS[0], EVENTS[0]], "21000", "1 source_transaction_id value(s) occur more than once in one batch, e.g. T-1"),
        ([dict(EVENTS[0], id=7)], "22023", "keys id are not columns the import may set"),
        ([dict(EVENTS[0], last_updated="2025-01-01")], "22023", "keys last_updated are not columns"),
        ([dict(EVENTS[0], colour="red")], "22023", "keys colour are not columns"),
    ],
)
def test_event_import_rejects_rows_it_cannot_import_idempotently(
    db: ServiceRoleCalls, rows: list[dict[str, Any]], sqlstate: str, words: str
) -> None:
    with pytest.raises(psycopg.Error) as caught:
        _import_events(db, rows)

    assert caught.value.sqlstate == sqlstate
    assert words in str(caught.value)
    assert _one(db, "select count(*) from alm_reporting.chronological_events") == 0


def test_upsert_helper_refuses_tables_outside_alm_reporting(db: ServiceRoleCalls) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("select alm_reporting.upsert_rows('auth.users'::regclass, 'id', '[]')")


def test_same_file_with_same_hash_is_recorded_once(db: ServiceRoleCalls) -> None:
    record = "select alm_reporting.record_processed_file(%s, 'NAV', %s, %s, 2048, 12)"

    assert _one(db, record, ("NAV_MTD.xml", "ab12cd", DAY)) is True
    assert _one(db, record, ("NAV_MTD.xml", "AB12CD", DAY)) is False

    assert db.execute("select file_name, file_hash, records_count, processing_status "
                      "from alm_reporting.processed_files").fetchall() == [("NAV_MTD.xml", "ab12cd", 12, "SUCCESS")]


def test_same_file_name_with_another_hash_is_an_error(db: ServiceRoleCalls) -> None:
    record = "select alm_reporting.record_processed_file(%s, 'NAV', %s, %s)"
    _one(db, record, ("NAV_MTD.xml", "ab12cd", DAY))

    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        db.execute(record, ("NAV_MTD.xml", "ffff00", DAY))

    assert "already processed on 2025-07-18 with hash ab12cd" in str(caught.value)
    assert _one(db, "select file_hash from alm_reporting.processed_files") == "ab12cd"


def test_processed_file_needs_a_hash(db: ServiceRoleCalls) -> None:
    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        db.execute("select alm_reporting.record_processed_file('NAV_MTD.xml', 'NAV', null, %s)", (DAY,))


def _history(db: ServiceRoleCalls, day: str) -> tuple[Any, ...]:
    row = db.execute("select status, import_type, records_imported, files_processed, error_message, "
                     "completed_at is not null from alm_reporting.import_history where import_date = %s",
                     (day,)).fetchall()
    assert len(row) == 1
    return tuple(row[0])


def _process(db: ServiceRoleCalls) -> tuple[Any, ...]:
    return tuple(db.execute(
        "select current_state, last_run_date::text, last_success_date::text, error_count "
        "from alm_reporting.processing_status where process_name = 'ALM_DAILY_AUTOMATION'").fetchone() or ())


def test_started_import_is_processing_and_completed_import_is_success(db: ServiceRoleCalls) -> None:
    import_id = _one(db, "select alm_reporting.start_import(%s)", (DAY,))
    assert _history(db, DAY)[0] == "PROCESSING"
    assert _process(db)[0] == "PROCESSING"

    db.execute("select alm_reporting.complete_import(%s, 150, %s)", (DAY, Jsonb(["NAV_MTD.xml", "Trades_MTD.xml"])))

    assert _history(db, DAY) == ("SUCCESS", "DAILY", 150, ["NAV_MTD.xml", "Trades_MTD.xml"], None, True)
    assert _process(db) == ("READY", DAY, DAY, 0)
    assert _one(db, "select import_id from alm_reporting.import_history") == import_id


def test_failed_import_counts_errors_until_the_next_success(db: ServiceRoleCalls) -> None:
    for attempt in (1, 2):
        db.execute("select alm_reporting.start_import(%s)", (DAY,))
        db.execute("select alm_reporting.fail_import(%s, %s)", (DAY, f"attempt {attempt}: NAV_MTD.xml missing"))
        assert _history(db, DAY)[0::4] == ("FAILED", f"attempt {attempt}: NAV_MTD.xml missing")
        assert _process(db) == ("FAILED", DAY, None, attempt)

    db.execute("select alm_reporting.start_import(%s, 'MANUAL')", (DAY,))
    db.execute("select alm_reporting.complete_import(%s, 3)", (DAY,))

    assert _history(db, DAY)[:3] == ("SUCCESS", "MANUAL", 3)
    assert _history(db, DAY)[4] is None
    assert _process(db) == ("READY", DAY, DAY, 0)
    assert _one(db, "select count(*) from alm_reporting.import_history") == 1


def test_backfill_of_an_older_day_keeps_the_latest_success_date(db: ServiceRoleCalls) -> None:
    for day, kind in ((DAY, "DAILY"), ("2025-07-01", "BACKFILL")):
        db.execute("select alm_reporting.start_import(%s, %s)", (day, kind))
        db.execute("select alm_reporting.complete_import(%s, 1)", (day,))

    assert _process(db)[1:3] == ("2025-07-01", DAY)


def test_a_day_already_processing_cannot_be_started_twice(db: ServiceRoleCalls) -> None:
    db.execute("select alm_reporting.start_import(%s)", (DAY,))

    with pytest.raises(psycopg.errors.ObjectInUse) as caught:
        db.execute("select alm_reporting.start_import(%s)", (DAY,))

    assert "already PROCESSING" in str(caught.value)


def test_completing_an_import_that_was_not_started_is_an_error(db: ServiceRoleCalls) -> None:
    with pytest.raises(psycopg.errors.NoDataFound):
        db.execute("select alm_reporting.complete_import(%s, 1)", (DAY,))


def test_failing_a_finished_import_is_refused(db: ServiceRoleCalls) -> None:
    db.execute("select alm_reporting.start_import(%s)", (DAY,))
    db.execute("select alm_reporting.complete_import(%s, 1)", (DAY,))

    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("select alm_reporting.fail_import(%s, 'late failure')", (DAY,))

    assert _history(db, DAY)[0] == "SUCCESS"


def test_unknown_import_type_is_rejected(db: ServiceRoleCalls) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("select alm_reporting.start_import(%s, 'WEEKLY')", (DAY,))


def test_dates_needing_import_are_the_days_without_success(db: ServiceRoleCalls) -> None:
    db.execute("select alm_reporting.start_import('2025-07-15')")
    db.execute("select alm_reporting.complete_import('2025-07-15', 1)")
    db.execute("select alm_reporting.start_import('2025-07-16')")
    db.execute("select alm_reporting.fail_import('2025-07-16', 'boom')")
    db.execute("select alm_reporting.start_import('2025-07-17')")

    days = [r[0] for r in db.execute(
        "select d::text from alm_reporting.dates_needing_import('2025-07-14', '2025-07-18') d").fetchall()]

    assert days == ["2025-07-14", "2025-07-16", "2025-07-17", "2025-07-18"]


def test_dates_needing_import_of_an_empty_range_is_empty(db: ServiceRoleCalls) -> None:
    assert db.execute("select * from alm_reporting.dates_needing_import('2025-07-18', '2025-07-14')").fetchall() == []


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_api_roles_cannot_run_imports(migrated_url: str, role: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            act_as(conn.cursor(), Identity(role))
            conn.execute("select alm_reporting.upsert_chronological_events(%s)", (json.dumps(EVENTS),))


def test_two_runners_starting_the_same_day_let_only_one_import(migrated_url: str) -> None:
    first = psycopg.connect(migrated_url)
    second = psycopg.connect(migrated_url, autocommit=True)
    outcome: list[BaseException | int] = []
    try:
        first.execute("select alm_reporting.start_import(%s)", (DAY,))  # transaction left open
        second_pid = second.info.backend_pid

        def start_second() -> None:
            try:
                outcome.append(_one(second, "select alm_reporting.start_import(%s)", (DAY,)))
            except psycopg.Error as exc:
                outcome.append(exc)

        worker = threading.Thread(target=start_second)
        worker.start()
        with psycopg.connect(migrated_url, autocommit=True) as watcher:
            while not _one(watcher, "select exists (select 1 from pg_stat_activity "
                                    "where pid = %s and wait_event_type = 'Lock')", (second_pid,)):
                worker.join(0.05)
        first.commit()
        worker.join()
    finally:
        first.close()
        second.close()

    assert len(outcome) == 1 and isinstance(outcome[0], psycopg.errors.ObjectInUse)


def test_dropping_last_updated_before_its_trigger_breaks_updates(migrated_url: str) -> None:
    """Why the rollback drops the triggers first: the document's order leaves them firing."""
    with psycopg.connect(migrated_url) as conn:
        conn.execute("insert into alm_reporting.daily_summary (summary_date) values (%s)", (DAY,))
        conn.execute("alter table alm_reporting.daily_summary drop column last_updated")  # PostgreSQL accepts it

        with pytest.raises(psycopg.errors.UndefinedColumn):
            conn.execute("update alm_reporting.daily_summary set summary_date = summary_date")
        conn.rollback()
