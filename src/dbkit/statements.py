"""The statements of a migration, found by PostgreSQL's own parser (pglast).

Used for three things: to refuse, before anything runs, a file that does not parse, has
no statement, or takes transaction control away from dbkit; to run a
``-- transactional: false`` migration one statement at a time; and to map an error the
server reports by statement number (a runtime error has no position) back to a file
and line, including the line inside a ``DO`` block that PL/pgSQL names.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import pglast
from pglast import parser

from dbkit.errors import InputError, MigrationFailed
from dbkit.project import ExpandedSql

SYNTAX_ERROR = "42601"

# First words of a statement that ends or opens a transaction. ROLLBACK TO SAVEPOINT,
# SAVEPOINT and RELEASE stay inside the migration's transaction and are allowed.
_TRANSACTION_CONTROL = re.compile(
    r"^(?:begin|start\s+transaction|commit|end|abort|prepare\s+transaction"
    r"|rollback(?!\s+(?:work\s+|transaction\s+)?to\b))\b",
    re.IGNORECASE,
)
# Statements PostgreSQL refuses inside a transaction block.
_OUTSIDE_TRANSACTION_ONLY = re.compile(
    r"^(?:create\s+(?:unique\s+)?index\s+concurrently|drop\s+index\s+concurrently"
    r"|reindex\b[^;]*\bconcurrently|vacuum\b|create\s+database|drop\s+database|alter\s+system"
    r"|create\s+tablespace|drop\s+tablespace|alter\s+table\b[^;]*\bdetach\s+partition\b[^;]*\bconcurrently)",
    re.IGNORECASE,
)
_DO_BODY = re.compile(r"^do\s+(?:language\s+\S+\s+)?(?P<quote>\$[A-Za-z_0-9]*\$|')", re.IGNORECASE)
_NEWLINE = re.compile("\n")
_INLINE_LINE = re.compile(r"PL/pgSQL function inline_code_block line (?P<line>\d+)")


@dataclass(frozen=True)
class Statement:
    start: int  # character offset of the statement in the expanded text
    end: int
    text: str

    @property
    def head(self) -> str:
        """The statement's first words, lowercased and on one line (for messages)."""
        return " ".join(self.text.split()[:4]).lower()


@dataclass(frozen=True)
class Statements:
    """An expanded file and its statements; maps offsets to (file, line)."""

    expanded: ExpandedSql
    items: tuple[Statement, ...]
    newlines: tuple[int, ...]  # offsets of the newlines of the expanded text

    def locate(self, offset: int) -> tuple[str, int]:
        """(file, line) of a character offset in the expanded text."""
        return self.expanded.locate(bisect.bisect_left(self.newlines, offset) + 1)

    def where_failed(self, index: int, offset: int | None, context: str | None) -> tuple[str, int | None]:
        """Where statement ``index`` failed: at ``offset`` (the server's error position, as an
        offset in the expanded text) if known, else at the line PL/pgSQL names inside a DO
        block, else at the statement's first line."""
        if offset is not None:
            return self.locate(offset)
        if not 0 <= index < len(self.items):
            return self.expanded.segments[0].source, None
        statement = self.items[index]
        inline = _INLINE_LINE.search(context or "")
        body = _DO_BODY.match(statement.text)
        if inline and body:
            path, line = self.locate(statement.start + body.start("quote"))
            return path, line + int(inline["line"]) - 1
        return self.locate(statement.start)


def _statements(expanded: ExpandedSql, items: tuple[Statement, ...]) -> Statements:
    newlines = tuple(m.start() for m in _NEWLINE.finditer(expanded.text))
    return Statements(expanded, items, newlines)


def split(expanded: ExpandedSql, migration_id: str | None = None) -> Statements:
    """The statements of ``expanded``; a file that does not parse is a MigrationFailed (42601)."""
    text = expanded.text
    try:
        slices = pglast.split(text, only_slices=True)
    except parser.ParseError as exc:
        message = str(exc.args[0]) if exc.args else "syntax error"
        index = int(exc.args[1]) if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        path, line = _statements(expanded, ()).locate(max(index, 0))
        raise MigrationFailed(message, path=path, line=line, sqlstate=SYNTAX_ERROR,
                              migration_id=migration_id) from None
    return _statements(expanded, tuple(Statement(s.start, s.stop, text[s]) for s in slices))


def check(expanded: ExpandedSql, *, transactional: bool, migration_id: str | None = None) -> Statements:
    """Refuse, before anything runs, what dbkit cannot run as one unit.

    A file with no statement (only comments, e.g. an untouched ``dbkit new`` template),
    a statement that ends or opens a transaction, and in a transactional migration a
    statement PostgreSQL refuses inside a transaction block: each an InputError at its
    file and line.
    """
    found = split(expanded, migration_id)
    if not found.items:
        source = expanded.segments[0].source
        raise InputError("has no SQL statement, only comments or blank lines; write the change "
                         "(or delete the migration and its rollback)", path=source)
    for statement in found.items:
        if _TRANSACTION_CONTROL.match(statement.text):
            path, line = found.locate(statement.start)
            raise InputError(
                f"`{statement.head}` ends or opens a transaction: dbkit runs each migration in one transaction "
                "and commits it with its record; remove it (use -- transactional: false for statements that "
                "cannot run in a transaction)", path=path, line=line)
        if transactional and _OUTSIDE_TRANSACTION_ONLY.match(statement.text):
            path, line = found.locate(statement.start)
            raise InputError(
                f"`{statement.head}` cannot run inside a transaction; put it in a migration of its own "
                "headed `-- transactional: false`", path=path, line=line)
    return found


def transaction_form(statement: Statement) -> str | None:
    """The statement as it can run inside a transaction block, for the rollback probe.

    ``CREATE INDEX CONCURRENTLY`` / ``DROP INDEX CONCURRENTLY`` become their plain forms,
    which create or drop the same object (the probe is always undone). None for a
    statement that has no such form (VACUUM, ALTER SYSTEM, ...).
    """
    if not _OUTSIDE_TRANSACTION_ONLY.match(statement.text.lstrip()):
        return statement.text
    from pglast import ast, stream  # only when a rollback is probed

    node = pglast.parse_sql(statement.text)[0].stmt
    if isinstance(node, (ast.IndexStmt, ast.DropStmt)) and node.concurrent:
        node.concurrent = False
        return str(stream.RawStream()(node))
    return None

