"""The RLS matrix's cells run as each identity in a rolled-back savepoint; a "move" or
"reference" cell is judged as COMMIT would judge it (deferred keys checked)."""

from __future__ import annotations

import psycopg

from dbkit.identity import Identity
from dbkit.verify.hand_checks import DENIED, DENIED_BY_KEY, run_as

SCHEMA = """
create table parent (id int, owner text, primary key (id), unique (id, owner));
create table child (id int primary key, owner text not null, parent_id int,
    foreign key (parent_id, owner) references parent (id, owner) deferrable initially deferred);
insert into parent values (1, 'a'), (2, 'b');
insert into child values (10, 'a', 1);
grant all on parent, child to service_role;
"""
CROSSING = "update child set parent_id = 2 where id = 10"  # points a's row at b's parent


def _cell(url: str, statement: str, **kwargs: object) -> tuple[str, str]:
    with psycopg.connect(url) as conn:
        conn.execute(SCHEMA)
        cur = conn.cursor()
        result = run_as(conn, cur, Identity("service_role"), statement, **kwargs)  # type: ignore[arg-type]
        # the savepoint was rolled back: the row is as before
        assert conn.execute("select parent_id from child where id = 10").fetchone() == (1,)
        return result


def test_a_reference_refused_by_a_deferred_key_is_denied_as_at_commit(migrated_url: str) -> None:
    actual, detail = _cell(migrated_url, CROSSING, denied=DENIED_BY_KEY, at_commit=True)
    assert actual == "denied" and "[SQLSTATE 23503]" in detail


def test_without_at_commit_the_deferred_key_would_let_the_cell_pass(migrated_url: str) -> None:
    # what an immediate-only runner would wrongly report for the same statement
    assert _cell(migrated_url, CROSSING) == ("allowed", "1 row(s)")


def test_a_key_violation_is_an_error_not_a_denial_for_plain_commands(migrated_url: str) -> None:
    actual, detail = _cell(migrated_url, CROSSING, denied=DENIED, at_commit=True)
    assert actual == "error" and "[SQLSTATE 23503]" in detail


def test_a_same_owner_reference_is_allowed(migrated_url: str) -> None:
    assert _cell(migrated_url, "update child set parent_id = 1 where id = 10", denied=DENIED_BY_KEY,
                 at_commit=True) == ("allowed", "1 row(s)")
