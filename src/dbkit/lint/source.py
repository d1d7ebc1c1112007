"""SQL files as PostgreSQL's parser sees them: statements, their locations, allow markers.

pglast (PostgreSQL's own parser) gives every statement and most nodes a character
offset, and its scanner returns comments as tokens, so an allow marker is only ever
read from a real comment, never from a string or a ``$$`` body.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from pglast import parse_sql, parser

from dbkit.project import SourceFile

_ALLOW = re.compile(r"^\s*(?:--|/\*)\s*dbkit-allow\s+(?P<ids>DBK\d{3}(?:\s*,\s*DBK\d{3})*)(?P<reason>.*)", re.S)


@dataclass(eq=False)
class Statement:
    """One top-level statement of a file, with the markers written in or directly above it."""

    node: Any  # a pglast.ast node
    file: ParsedFile
    start: int  # character offset of the statement's first token
    allows: dict[str, str]  # rule id -> reason ("" when none was given)

    @property
    def line(self) -> int:
        return self.file.line_of(self.start)


@dataclass(eq=False)
class ParsedFile:
    source: SourceFile
    statements: list[Statement] = field(default_factory=list)
    header_allows: dict[str, str] = field(default_factory=dict)  # markers in the leading comment block
    parsed: bool = False
    error: tuple[int, str] | None = None  # (offset, PostgreSQL's message) when it does not parse
    _line_starts: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def text(self) -> str:
        return self.source.text

    def line_of(self, offset: int) -> int:
        if not self._line_starts:
            self._line_starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]
        return bisect.bisect_right(self._line_starts, offset)

    def column_of(self, offset: int) -> int:
        line = self.line_of(offset)
        return offset - self._line_starts[line - 1] + 1


def parse(source: SourceFile, *, readable: bool = True) -> ParsedFile:
    """Parse a file; a syntax error is kept on the result (``error``), never raised."""
    parsed = ParsedFile(source=source)
    if not readable:
        return parsed
    text = source.text
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        parsed.header_allows.update(allows(stripped))
    try:
        raw_statements = parse_sql(text)
        tokens = parser.scan(text)
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        parsed.error = (offset, str(exc.args[0]))
        return parsed
    comments = [(tok.start, tok.end + 1) for tok in tokens if tok.name in ("SQL_COMMENT", "C_COMMENT")]
    previous_end = 0
    for raw_stmt in raw_statements:
        start = raw_stmt.stmt_location or 0
        end = start + raw_stmt.stmt_len if raw_stmt.stmt_len else len(text)
        markers: dict[str, str] = {}
        for c_start, c_end in comments:
            if previous_end <= c_start < end:
                markers.update(allows(text[c_start:c_end]))
        parsed.statements.append(Statement(node=raw_stmt.stmt, file=parsed, start=start, allows=markers))
        previous_end = end
    parsed.parsed = True
    return parsed


def allows(comment: str) -> dict[str, str]:
    """The rule ids and reason of a ``dbkit-allow`` marker comment (empty when it is not one)."""
    match = _ALLOW.search(comment)
    if not match:
        return {}
    reason = match["reason"].strip()
    if reason.endswith("*/"):
        reason = reason[:-2].strip()
    reason = reason.lstrip(":-—– ").strip()
    return {rule.strip(): reason for rule in match["ids"].split(",")}
